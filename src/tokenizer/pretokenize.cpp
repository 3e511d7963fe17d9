#include "rlhf/tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "rlhf/util/error.h"

namespace rlhf::tokenizer {

namespace {

// Python `regex`'s \s: the Unicode White_Space property (see the header for why not PCRE2's \s).
// clang-format off
#define RLHF_WS "\\t\\n\\x0B\\f\\r " \
    "\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
constexpr const char* kPattern =
    "'s|'t|'re|'ve|'m|'ll|'d"
    "| ?\\p{L}+| ?\\p{N}+"
    "| ?[^" RLHF_WS "\\p{L}\\p{N}]+"
    "|[" RLHF_WS "]+(?![^" RLHF_WS "])"
    "|[" RLHF_WS "]+";
// clang-format on
#undef RLHF_WS

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof(buffer)) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buffer);
}

bool in_range(unsigned char c, unsigned char lo, unsigned char hi) {
  return c >= lo && c <= hi;
}

}  // namespace

int utf8_sequence_length(std::string_view text, size_t pos) {
  const size_t left = text.size() - pos;
  const auto at = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char b0 = at(0);
  if (b0 < 0x80) return 1;
  // The second byte's allowed range depends on the lead byte: this is what excludes overlong forms
  // (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..).
  unsigned char lo = 0x80, hi = 0xBF;
  int length = 0;
  if (in_range(b0, 0xC2, 0xDF)) {
    length = 2;
  } else if (in_range(b0, 0xE0, 0xEF)) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (in_range(b0, 0xF0, 0xF4)) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;  // continuation byte, C0/C1 (always overlong) or F5..FF
  }
  if (left < static_cast<size_t>(length) || !in_range(at(1), lo, hi)) return 0;
  for (int i = 2; i < length; ++i) {
    if (!in_range(at(i), 0x80, 0xBF)) return 0;
  }
  return length;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const Utf8Segment& segment : split_valid_utf8(text)) {
    if (segment.valid) {
      out.append(segment.text);
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD
    }
  }
  return out;
}

std::vector<Utf8Segment> split_valid_utf8(std::string_view text) {
  std::vector<Utf8Segment> segments;
  size_t run_start = 0, pos = 0;
  while (pos < text.size()) {
    const int length = utf8_sequence_length(text, pos);
    if (length > 0) {
      pos += static_cast<size_t>(length);
      continue;
    }
    if (pos > run_start) segments.push_back({text.substr(run_start, pos - run_start), true});
    segments.push_back({text.substr(pos, 1), false});
    run_start = ++pos;
  }
  if (pos > run_start) segments.push_back({text.substr(run_start, pos - run_start), true});
  return segments;
}

struct Gpt2PreTokenizer::Impl {
  pcre2_code* code = nullptr;
  ~Impl() { pcre2_code_free(code); }
};

Gpt2PreTokenizer::Gpt2PreTokenizer() : impl_(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                              &error, &offset, nullptr);
  if (impl_->code == nullptr) {
    throw Error("GPT-2 pre-tokenizer pattern does not compile at offset " + std::to_string(offset) + ": " +
                pcre2_message(error));
  }
  // JIT is an optimisation only: without it (unsupported platform) pcre2_match interprets the pattern.
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);
}

Gpt2PreTokenizer::~Gpt2PreTokenizer() = default;

const char* Gpt2PreTokenizer::pattern() {
  return kPattern;
}

std::vector<std::string_view> Gpt2PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> chunks;
  for (const Utf8Segment& segment : split_valid_utf8(text)) {
    if (segment.valid) {
      split_valid(segment.text, chunks);
    } else {
      chunks.push_back(segment.text);
    }
  }
  return chunks;
}

// `text` is known to be valid UTF-8, so PCRE2's own check (which would re-scan the whole subject at
// every call, making the loop quadratic) is switched off.
void Gpt2PreTokenizer::split_valid(std::string_view text, std::vector<std::string_view>& out) const {
  // Match data is per call so that one compiled pattern can be shared between threads.
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  if (!match) throw Error("GPT-2 pre-tokenizer: out of memory");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    const int rc = pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, match.get(), nullptr);
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
      throw Error("GPT-2 pre-tokenizer: pcre2_match failed: " + pcre2_message(rc));
    }
    // Every character is matched by one of the alternatives, so matches tile the text. Were that ever
    // not so, the unmatched characters become a chunk of their own, so that no byte is dropped.
    const size_t start = rc < 0 ? text.size() : ovector[0];
    if (start > pos) out.push_back(text.substr(pos, start - pos));
    if (rc < 0) break;
    const size_t end = ovector[1];
    if (end <= start) {  // impossible (no alternative matches ""); keep the rest whole rather than loop
      if (start < text.size()) out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, end - start));
    pos = end;
  }
}

}  // namespace rlhf::tokenizer
