// CNN/Daily Mail stories as query texts, the way the paper's code reads them (paper-spec 1.4,
// `datasets/cnndm.py`): a URL list names the stories, each URL maps to
// `{cnn|dailymail}/stories/<sha1(url) in hex>.story`, and each story file becomes one article:
//   1. Python text-mode reading: "\r\n" and a lone '\r' become '\n' (universal newlines);
//   2. clean_up_start (cnndm_clean_up_start below);
//   3. ftfy.fix_text: NOT done (no C++ port; see docs/paper-deviations.md);
//   4. runs of 3+ '\n' become "\n\n";
//   5. the text before the first "@highlight", Python-stripped.
// Every rule works on code points where Python does (the first 100 characters, Unicode \w and \s),
// so texts with multi-byte characters are cut where Python cuts them. Texts must be valid UTF-8
// (Python's open() refuses anything else too).
#pragma once

#include <string>
#include <string_view>

namespace rlhf::data {

// The 40 lowercase hex digits of SHA-1(bytes) (OpenSSL's libcrypto).
std::string sha1_hex(std::string_view bytes);

// "cnn/stories/<sha1>.story" or "dailymail/stories/<sha1>.story" for a URL of the list: dailymail
// when the URL contains dailymail.co.uk, mailonsunday.ie or lib.store.yahoo.net, else cnn when it
// contains cnn.com or cnn.hk. Throws rlhf::Error for a URL of neither site.
std::string cnndm_story_path(std::string_view url);

// Python's universal newlines: "\r\n" -> "\n", then any other '\r' -> '\n'.
std::string universal_newlines(std::string_view text);

// Python's str.strip(): removes the characters for which str.isspace() is true (ASCII whitespace,
// \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) at both
// ends. `text` must be valid UTF-8.
std::string_view python_strip(std::string_view text);

// OpenAI's clean_up_start, rule by rule:
//   - text starting with "By": its first two lines are dropped (a byline);
//   - only what follows the last match of `\(CNN\) +--` is kept;
//   - within the first 100 characters (code points), only what follows the last "(CNN)" is kept;
//   - a leading `and \w+\n` (Unicode \w) is removed;
//   - only what follows the last match of `.*UPDATED:\s+[0-9]{2}:[0-9]{2}.*[2011|2012|2013|2014|2015]`
//     is kept ('.' stops at '\n'; the bracket is a character class, so the match ends at the last of
//     0-5 or '|' on its line);
//   - U+2019 and U+2018 become '\'';
//   - python_strip.
// Throws rlhf::Error if `text` is not valid UTF-8.
std::string cnndm_clean_up_start(std::string_view text);

// Steps 2, 4 and 5 above (no ftfy) on a story already read with universal newlines.
std::string cnndm_article(std::string_view story);

// The story's reference summary: the non-blank line that follows each "@highlight" line, stripped,
// joined with '\n' in story order ("" when there is none). See et al. (2017) and every ROUGE table on
// CNN/Daily Mail use these highlights as the reference.
std::string cnndm_highlights(std::string_view story);

}  // namespace rlhf::data
