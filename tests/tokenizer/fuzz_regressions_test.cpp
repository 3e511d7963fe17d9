// Inputs the fuzzer (fuzz/tokenizer_files.cpp, docs/fuzzing.md) found in the vocab.json + merges.txt
// loader; each is also in fuzz/regressions/tokenizer_files/.
#include <gtest/gtest.h>

#include <string>

#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/util/error.h"

namespace rlhf::tokenizer {
namespace {

std::string load_error(const std::string& vocab, const std::string& merges) {
  try {
    Gpt2BpeTokenizer::from_strings(vocab, merges);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// nlohmann's dump() recurses: the message about a bad id showed a value nested a million levels deep and
// overflowed the stack. vocab.json nested deeper than 256 levels is refused first.
TEST(TokenizerFuzzRegressions, DeepNestingIsRefusedNotAStackOverflow) {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  EXPECT_EQ(load_error("{\"a\": " + deep + "}", ""), "vocab.json: JSON nested deeper than 256 levels at line 1, column 262");
}

}  // namespace
}  // namespace rlhf::tokenizer
