#!/usr/bin/env node
// Writes tests/data/tokenizer/gpt2_cases.jsonl: GPT-2 token ids for a varied list of texts, computed by
// an encoder independent of ours (the npm package gpt-3-encoder@1.1.4, a port of OpenAI's encoder.py).
//
//   npm install --prefix build/npm gpt-3-encoder@1.1.4
//   node scripts/make_tokenizer_fixture.js [path/to/node_modules/gpt-3-encoder]
//
// Its regex is /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu.
// JavaScript's \s differs from Python's (it takes U+FEFF and not U+0085), so no text here contains
// U+0085, U+FEFF, U+180E, U+001C..U+001F; the script refuses such texts to keep the fixture honest.
'use strict';
const fs = require('fs');
const path = require('path');

const repo = path.resolve(__dirname, '..');
const candidates = [process.argv[2], process.env.RLHF_GPT2_VOCAB_DIR,
  path.join(repo, 'build/npm/node_modules/gpt-3-encoder'), '/tmp/npm/node_modules/gpt-3-encoder'];
const packageDir = candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'Encoder.js')));
if (!packageDir) {
  console.error('gpt-3-encoder not found; install it: npm install --prefix build/npm gpt-3-encoder@1.1.4');
  process.exit(1);
}
const { encode, decode } = require(path.join(packageDir, 'Encoder.js'));

const texts = [
  '',
  'Hello world',
  'Hello, world! How are you today?',
  "I'm sure they'll say we don't know what you've done, she'd think it's fine and we're ok",
  "'S 'T 'RE 'LL uppercase contractions stay split; 's lower",
  "rock'n'roll o'clock ''quoted'' '",
  'a  b   c    d',
  'trailing spaces   ',
  '   leading spaces',
  'tabs\tand\t\ttabs',
  'line one\nline two\n\nline four',
  '\n\n\n',
  ' \t \n',
  'x \t \n y',
  'ends with newline\n',
  '\r\nwindows\r\nline endings\r\n',
  '    four-space indent\n        eight',
  'Привет, мир! Как дела?',
  'Γειά σου Κόσμε, αβγδ ΑΒΓΔ',
  'مرحبا بالعالم ١٢٣٤٥٦٧٨٩٠',
  'नमस्ते दुनिया १२३',
  '你好，世界！今天天气很好。',
  'こんにちは世界、カタカナとひらがな',
  '안녕하세요 세계',
  'ภาษาไทย ๑๒๓๔๕',
  'fullwidth digits １２３４５ and letters ＡＢＣ',
  'superscripts x² and fractions ½ ⅓ and roman Ⅻ',
  'emoji 😀😃😄 and 👍🏽 skin tone',
  'family 👨‍👩‍👧‍👦 zwj sequence',
  'flags 🇺🇸🇯🇵🇫🇷',
  'café naïve résumé (precomposed)',
  'cafe\u0301 nai\u0308ve (combining marks)',
  'Ångström Ÿ ß ẞ œ Æ',
  '12345678901234567890',
  'pi is 3.14159265358979, e is 2.718',
  'phone +1 (555) 123-4567, price $1,299.99',
  '!!!??? ... --- *** ### @@@ %%% ^^^',
  '...and then...',
  'https://example.com/path/to/page?query=1&b=two#frag',
  'email: someone@example.org',
  'for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }',
  'def f(x):\n    return x ** 2  # square\n',
  '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
  '<|endoftext|>',
  'The end.<|endoftext|>The beginning.',
  'Mixed123numbers456and789letters',
  'snake_case_name and camelCaseName and SCREAMING_CASE',
  'tabs\tbetween\twords\t',
  'non-breaking\u00a0space and ideographic\u3000space',
  'em\u2003space thin\u2009space',
  'Zeros: 0000000 and 007 and 0.0',
  'A',
  ' ',
  '  ',
  'antidisestablishmentarianism supercalifragilisticexpialidocious',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'ÿþý \u00ad soft hyphen',
  'control chars \u0001\u0002\u0007 bell',
];

const unsafe = /[\u0085\ufeff\u180e\u001c-\u001f]/;
const lines = texts.map((text) => {
  if (unsafe.test(text)) throw new Error('text has a character whose \\s class differs between JS and Python: ' + JSON.stringify(text));
  const ids = encode(text);
  if (!ids.every(Number.isInteger)) throw new Error('encoder gave a non-integer id for ' + JSON.stringify(text));
  if (decode(ids) !== text) throw new Error('encoder does not round-trip ' + JSON.stringify(text));
  return JSON.stringify({ text, ids });
});
const out = path.join(repo, 'tests/data/tokenizer/gpt2_cases.jsonl');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${lines.length} cases to ${path.relative(repo, out)} (encoder: ${packageDir})`);
