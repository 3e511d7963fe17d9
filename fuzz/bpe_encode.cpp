// Fuzz target: encoding arbitrary bytes with the GPT-2 byte-level BPE (include/rlhf/tokenizer/gpt2_bpe.h,
// pretokenize.h) and decoding arbitrary ids, with the tiny GPT-2 tokenizer of the fixtures (512 ids).
// The input is the text; read as little-endian 16-bit numbers (mod 512), it is also a list of ids.
// encode must never throw, on any bytes. Properties:
//   - the pre-tokenizer's chunks are non-empty and concatenate to the input;
//   - each chunk's BPE equals a direct transcription of encoder.py's merge loop (quadratic, obviously
//     right) run on the same vocabulary and merges;
//   - decode(encode(x)) == x for every byte string x (the header promises it beyond valid UTF-8);
//   - decode of any ids in range succeeds and is the concatenation of the ids' own bytes;
//   - to_valid_utf8 gives valid UTF-8, and leaves valid UTF-8 unchanged.
#include <climits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_util.h"
#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/tokenizer/pretokenize.h"

namespace {

using namespace rlhf;
using tokenizer::Gpt2BpeTokenizer;

// encoder.py's bpe(): repeatedly the lowest-ranked adjacent pair, all its occurrences merged left to right.
std::vector<int> reference_bpe(const Gpt2BpeTokenizer& tokenizer, std::string_view chunk) {
  static const std::map<std::pair<std::string, std::string>, int> ranks = [&] {
    std::map<std::pair<std::string, std::string>, int> out;
    for (std::size_t r = 0; r < tokenizer.merges().size(); ++r) out.emplace(tokenizer.merges()[r], static_cast<int>(r));
    return out;
  }();
  std::vector<std::string> word;
  for (const char c : chunk) word.push_back(tokenizer::byte_to_unicode()[static_cast<unsigned char>(c)]);
  while (word.size() > 1) {
    int best = INT_MAX;
    std::pair<std::string, std::string> bigram;
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      const auto it = ranks.find({word[i], word[i + 1]});
      if (it != ranks.end() && it->second < best) best = it->second, bigram = it->first;
    }
    if (best == INT_MAX) break;
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == bigram.first && word[i + 1] == bigram.second) {
        merged.push_back(word[i] + word[i + 1]);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word = std::move(merged);
  }
  std::vector<int> ids;
  for (const std::string& piece : word) ids.push_back(*tokenizer.token_id(piece));
  return ids;
}

bool valid_utf8(std::string_view text) {
  for (const auto& segment : tokenizer::split_valid_utf8(text)) {
    if (!segment.valid) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::tiny_tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Gpt2BpeTokenizer& tokenizer = fuzz::tiny_tokenizer();
  const std::string text(fuzz::as_text(data, size));

  static const tokenizer::Gpt2PreTokenizer pre_tokenizer;
  std::string joined;
  for (const std::string_view chunk : pre_tokenizer.split(text)) {
    FUZZ_CHECK(!chunk.empty(), "an empty pre-token chunk");
    joined += chunk;
    FUZZ_CHECK(tokenizer.bpe(chunk) == reference_bpe(tokenizer, chunk), "bpe() differs from encoder.py's loop");
  }
  FUZZ_CHECK(joined == text, "the pre-token chunks do not concatenate to the input");

  const std::vector<int> ids = tokenizer.encode(text);
  for (const int id : ids) FUZZ_CHECK(id >= 0 && id < tokenizer.vocab_size(), "encode gave an id out of range");
  FUZZ_CHECK(tokenizer.decode(ids) == text, "decode(encode(x)) != x");

  std::vector<int> any_ids;
  std::string expected;
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    any_ids.push_back((data[i] | (data[i + 1] << 8)) % tokenizer.vocab_size());
    expected += tokenizer.decode({any_ids.back()});
  }
  FUZZ_CHECK(tokenizer.decode(any_ids) == expected, "decode of several ids is not the concatenation");

  const std::string repaired = tokenizer::to_valid_utf8(text);
  FUZZ_CHECK(valid_utf8(repaired), "to_valid_utf8 gave invalid UTF-8");
  FUZZ_CHECK(!valid_utf8(text) || repaired == text, "to_valid_utf8 changed valid UTF-8");
  return 0;
}
