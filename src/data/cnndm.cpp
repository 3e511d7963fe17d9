#include "rlhf/data/cnndm.h"

#include <openssl/evp.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <memory>
#include <optional>
#include <utility>

#include "rlhf/tokenizer/pretokenize.h"
#include "rlhf/util/error.h"

namespace rlhf::data {

namespace {

// Python's str.isspace() set (= `re`'s \s on str), spelled out for PCRE2: its own \s lacks
// \x1c-\x1f and takes U+180E.
#define RLHF_PY_WS                \
  "\\t\\n\\x0B\\f\\r\\x1C-\\x1F " \
  "\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

// The same set as UTF-8 byte strings, for python_strip.
constexpr std::array<std::string_view, 14> kMultiByteSpaces = {
    "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",
    "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A"};
constexpr std::array<std::string_view, 5> kMoreMultiByteSpaces = {"\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF",
                                                                  "\xE2\x81\x9F", "\xE3\x80\x80"};

bool is_ascii_python_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

// Bytes of the Python whitespace character that starts (at_end = false) or ends (true) `text`, or 0.
std::size_t space_length(std::string_view text, bool at_end) {
  if (text.empty()) return 0;
  if (is_ascii_python_space(at_end ? text.back() : text.front())) return 1;
  const auto matches = [&](std::string_view space) {
    if (text.size() < space.size()) return false;
    return (at_end ? text.substr(text.size() - space.size()) : text.substr(0, space.size())) == space;
  };
  for (std::string_view space : kMultiByteSpaces) {
    if (matches(space)) return space.size();
  }
  for (std::string_view space : kMoreMultiByteSpaces) {
    if (matches(space)) return space.size();
  }
  return 0;
}

// A compiled PCRE2 pattern (UTF + UCP, '\n' as the only newline, so '.' is Python's '.').
class Pattern {
 public:
  explicit Pattern(const char* pattern) {
    std::unique_ptr<pcre2_compile_context, decltype(&pcre2_compile_context_free)> context(
        pcre2_compile_context_create(nullptr), &pcre2_compile_context_free);
    if (!context) throw Error("cnndm: out of memory");
    pcre2_set_newline(context.get(), PCRE2_NEWLINE_LF);
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &error,
                          &offset, context.get());
    if (code_ == nullptr) {
      throw Error("cnndm: pattern " + std::string(pattern) + " does not compile at offset " + std::to_string(offset));
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // an optimisation only
  }
  ~Pattern() { pcre2_code_free(code_); }
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  // [start, end) of the first match at or after `from`, or nullopt. `text` is valid UTF-8.
  std::optional<std::pair<std::size_t, std::size_t>> find(std::string_view text, std::size_t from) const {
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
        pcre2_match_data_create_from_pattern(code_, nullptr), &pcre2_match_data_free);
    if (!match) throw Error("cnndm: out of memory");
    const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from, PCRE2_NO_UTF_CHECK,
                               match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return std::nullopt;
    if (rc < 0) throw Error("cnndm: pcre2_match failed with code " + std::to_string(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    return std::make_pair(static_cast<std::size_t>(ovector[0]), static_cast<std::size_t>(ovector[1]));
  }

  // Python's re.split(pattern, text)[-1]: the text after the last of the non-overlapping matches
  // found left to right (all of it if none). None of the patterns here can match "".
  std::string_view after_last_match(std::string_view text) const {
    std::size_t keep = 0;
    for (auto m = find(text, 0); m && m->second > m->first; m = find(text, m->second)) keep = m->second;
    return text.substr(keep);
  }

 private:
  pcre2_code* code_ = nullptr;
};

// The byte offset of code point `n` (text.size() if the text is shorter). `text` is valid UTF-8.
std::size_t code_point_offset(std::string_view text, std::size_t n) {
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80 && n-- == 0) return pos;
  }
  return text.size();
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

// re.sub(r"\n{3,}", "\n\n", text)
std::string collapse_newline_runs(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t run_end = text.find_first_not_of('\n', i);
    const std::size_t run = (run_end == std::string_view::npos ? text.size() : run_end) - i;
    if (run == 0) {
      out += text[i++];
      continue;
    }
    out.append(run >= 3 ? 2 : run, '\n');
    i += run;
  }
  return out;
}

void check_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const int length = tokenizer::utf8_sequence_length(text, pos);
    if (length == 0) throw Error("not valid UTF-8 at byte " + std::to_string(pos));
    pos += static_cast<std::size_t>(length);
  }
}

}  // namespace

std::string sha1_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1 || length != 20) {
    throw Error("sha1: OpenSSL's EVP_Digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string cnndm_story_path(std::string_view url) {
  const auto has = [&](std::string_view part) { return url.find(part) != std::string_view::npos; };
  std::string site;
  if (has("dailymail.co.uk") || has("mailonsunday.ie") || has("lib.store.yahoo.net")) {
    site = "dailymail";
  } else if (has("cnn.com") || has("cnn.hk")) {
    site = "cnn";
  } else {
    throw Error("URL " + std::string(url) +
                " is neither a CNN nor a Daily Mail URL (expected cnn.com, cnn.hk, dailymail.co.uk, mailonsunday.ie "
                "or lib.store.yahoo.net in it)");
  }
  return site + "/stories/" + sha1_hex(url) + ".story";
}

std::string universal_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
      continue;
    }
    out += '\n';
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

std::string_view python_strip(std::string_view text) {
  while (const std::size_t n = space_length(text, false)) text.remove_prefix(n);
  while (const std::size_t n = space_length(text, true)) text.remove_suffix(n);
  return text;
}

std::string cnndm_clean_up_start(std::string_view input) {
  // Compiled once; a compiled pattern is safe to share between threads.
  static const Pattern cnn_dash(R"(\(CNN\) +--)");
  static const Pattern cnn(R"(\(CNN\))");
  static const Pattern and_name(R"(^and [\p{L}\p{N}_]+\n)");  // Python's Unicode \w, for any PCRE2 version
  static const Pattern updated(".*UPDATED:[" RLHF_PY_WS "]+[0-9]{2}:[0-9]{2}.*[2011|2012|2013|2014|2015]");
  check_utf8(input);

  std::string text(input);
  if (text.compare(0, 2, "By") == 0) {  // '\n'.join(text.split('\n')[2:])
    const std::size_t first = text.find('\n');
    const std::size_t second = first == std::string::npos ? first : text.find('\n', first + 1);
    text = second == std::string::npos ? "" : text.substr(second + 1);
  }
  text = std::string(cnn_dash.after_last_match(text));
  const std::size_t head = code_point_offset(text, 100);
  text = std::string(cnn.after_last_match(std::string_view(text).substr(0, head))) + text.substr(head);
  if (const auto m = and_name.find(text, 0)) text.erase(0, m->second);
  text = std::string(updated.after_last_match(text));
  replace_all(text, "\xE2\x80\x99", "'");  // U+2019 RIGHT SINGLE QUOTATION MARK
  replace_all(text, "\xE2\x80\x98", "'");  // U+2018 LEFT SINGLE QUOTATION MARK
  return std::string(python_strip(text));
}

std::string cnndm_highlights(std::string_view story) {
  std::string out;
  bool after_marker = false;
  std::size_t start = 0;
  while (start <= story.size()) {
    const std::size_t end = std::min(story.find('\n', start), story.size());
    const std::string_view line = python_strip(story.substr(start, end - start));
    if (line == "@highlight") {
      after_marker = true;
    } else if (after_marker && !line.empty()) {
      if (!out.empty()) out += '\n';
      out += line;
      after_marker = false;
    }
    start = end + 1;
  }
  return out;
}

std::string cnndm_article(std::string_view story) {
  const std::string text = collapse_newline_runs(cnndm_clean_up_start(story));
  return std::string(python_strip(std::string_view(text).substr(0, text.find("@highlight"))));
}

#undef RLHF_PY_WS

}  // namespace rlhf::data
