// GPT-2 pre-tokenization: splitting text into the chunks that BPE then works on independently.
//
// The split is OpenAI's encoder.py regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// run with PCRE2 (UTF + UCP), and equals Python `regex.findall` on valid UTF-8 text, with one
// detail: \s is spelled out as the Unicode White_Space set that Python's `regex` uses, because PCRE2's
// own \s (with UCP) also takes U+180E MONGOLIAN VOWEL SEPARATOR, which has not been whitespace since
// Unicode 6.3; so the split agrees with Python on every whitespace character.
// Letters and digits (\p{L}, \p{N}) follow PCRE2's Unicode tables, which may lag Python's for
// characters assigned in the newest Unicode versions.
//
// Invalid UTF-8 (which the Python and Hugging Face tokenizers cannot take at all) never throws:
// the input is cut into maximal runs of valid UTF-8 and single invalid bytes. Each valid run is split
// by the regex as if it were the whole text, and each invalid byte is a chunk of its own. So the
// valid text around an invalid byte splits exactly as it would alone, and concatenating the chunks
// always gives back the input byte for byte.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace rlhf::tokenizer {

// Length (1-4) of the well-formed UTF-8 sequence starting at text[pos], or 0 if the bytes there are
// not one (stray continuation byte, overlong form, surrogate, above U+10FFFF, truncated).
// Follows Unicode's Table 3-7, the same rules PCRE2 and Python's decoder apply.
int utf8_sequence_length(std::string_view text, size_t pos);

// A piece of input: either a maximal run of valid UTF-8 or a single byte that is not valid UTF-8.
struct Utf8Segment {
  std::string_view text;
  bool valid;
};
std::vector<Utf8Segment> split_valid_utf8(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD (what Python's
// decode(errors="replace") shows for a token cut mid-character), so it can go into JSON or a terminal.
std::string to_valid_utf8(std::string_view text);

class Gpt2PreTokenizer {
 public:
  Gpt2PreTokenizer();  // compiles (and JIT-compiles where available) the pattern; throws Error on failure
  ~Gpt2PreTokenizer();
  Gpt2PreTokenizer(const Gpt2PreTokenizer&) = delete;
  Gpt2PreTokenizer& operator=(const Gpt2PreTokenizer&) = delete;

  // The chunks of `text`, as views into it, in order; they concatenate to `text`. Any bytes are
  // accepted. Safe to call from several threads at once.
  std::vector<std::string_view> split(std::string_view text) const;

  // The PCRE2 pattern actually compiled (the encoder.py pattern with \s spelled out).
  static const char* pattern();

 private:
  void split_valid(std::string_view text, std::vector<std::string_view>& out) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rlhf::tokenizer
