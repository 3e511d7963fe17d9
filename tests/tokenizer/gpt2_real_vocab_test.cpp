// GPT-2 BPE with the real 50,257-token vocabulary, against ids from an independent encoder (the npm
// package gpt-3-encoder, via scripts/make_tokenizer_fixture.js -> tests/data/tokenizer/gpt2_cases.jsonl).
// Skipped when the vocabulary is not installed (see tokenizer_test_util.h); CI installs it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "tokenizer_test_util.h"

namespace rlhf::tokenizer {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string text;
  std::vector<int> ids;
};

std::vector<Case> load_cases() {
  const fs::path path = fs::path(RLHF_TEST_DATA) / "tokenizer" / "gpt2_cases.jsonl";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    cases.push_back({json.at("text").get<std::string>(), json.at("ids").get<std::vector<int>>()});
  }
  return cases;
}

class Gpt2RealVocab : public ::testing::Test {
 protected:
  // Loaded once: 50k pieces and 50k merges take a noticeable moment under sanitizers.
  static const Gpt2BpeTokenizer& tokenizer(const fs::path& dir) {
    static const auto tok = Gpt2BpeTokenizer::from_files(dir / "encoder.json", dir / "vocab.bpe");
    return *tok;
  }
};

TEST_F(Gpt2RealVocab, FixtureIdsMatchTheIndependentEncoder) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  const auto& tok = tokenizer(dir);
  const auto cases = load_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const Case& c : cases) {
    EXPECT_EQ(tok.encode(c.text), c.ids) << "text: " << nlohmann::json(c.text).dump();
    EXPECT_EQ(tok.decode(c.ids), c.text);
  }
}

TEST_F(Gpt2RealVocab, KnownPiecesAndSizes) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  const auto& tok = tokenizer(dir);
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_EQ(tok.eos_id(), 50256);
  EXPECT_EQ(tok.id_to_piece(50256), "<|endoftext|>");
  EXPECT_EQ(tok.token_id("<|endoftext|>"), 50256);
  EXPECT_EQ(tok.id_to_piece(262), "\xC4\xA0the");  // "Ġthe"
  EXPECT_EQ(tok.token_id("Hello"), 15496);
  EXPECT_EQ(tok.token_id("no such piece"), std::nullopt);
  EXPECT_EQ(tok.merges().size(), 50000u);
  EXPECT_EQ(tok.encode("<|endoftext|>"), (std::vector<int>{27, 91, 437, 1659, 5239, 91, 29}));
  EXPECT_THROW(tok.decode({50257}), Error);
}

TEST_F(Gpt2RealVocab, AnyBytesRoundTripAndInvalidBytesDoNotDisturbNeighbours) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  const auto& tok = tokenizer(dir);
  std::mt19937 rng(2024);
  for (int i = 0; i < 2000; ++i) {
    std::string text(rng() % 64, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    ASSERT_EQ(tok.decode(tok.encode(text)), text);
  }
  const std::string left = "Hello there", right = " world's end";
  for (const std::string bad : {"\xFF", "\xC3", "\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80"}) {
    std::vector<int> expected = tok.encode(left);
    for (const unsigned char b : bad) expected.push_back(*tok.token_id(byte_to_unicode()[b]));
    for (const int id : tok.encode(right)) expected.push_back(id);
    EXPECT_EQ(tok.encode(left + bad + right), expected);
    EXPECT_EQ(tok.decode(expected), left + bad + right);
  }
}

TEST_F(Gpt2RealVocab, LongWordWithoutSpacesIsFast) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  const auto& tok = tokenizer(dir);
  std::mt19937 rng(5);
  std::string word(10000, 'a');
  for (char& c : word) c = static_cast<char>('a' + rng() % 26);
  const auto start = std::chrono::steady_clock::now();
  const auto ids = tok.encode(word);
  const auto repeated = tok.encode(std::string(10000, 'x') + std::string(10000, '7'));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(tok.decode(ids), word);
  EXPECT_EQ(tok.decode(repeated), std::string(10000, 'x') + std::string(10000, '7'));
}

TEST_F(Gpt2RealVocab, LoadsFromEitherFileNamingAndSaveRoundTrips) {
  RLHF_REQUIRE_GPT2_VOCAB(dir);
  testing::TempDir openai_names, hf_names, saved;
  fs::copy_file(dir / "encoder.json", openai_names.path() / "encoder.json");
  fs::copy_file(dir / "vocab.bpe", openai_names.path() / "vocab.bpe");
  fs::copy_file(dir / "encoder.json", hf_names.path() / "vocab.json");
  fs::copy_file(dir / "vocab.bpe", hf_names.path() / "merges.txt");
  const auto a = load_tokenizer(openai_names.path());
  const auto b = load_tokenizer(hf_names.path());
  a->save(saved.path());
  const auto c = load_tokenizer(saved.path());
  EXPECT_EQ(c->vocab_size(), 50257);
  EXPECT_EQ(c->eos_id(), 50256);
  for (const Case& test_case : load_cases()) {
    EXPECT_EQ(a->encode(test_case.text), test_case.ids);
    EXPECT_EQ(b->encode(test_case.text), test_case.ids);
    EXPECT_EQ(c->encode(test_case.text), test_case.ids);
  }
}

}  // namespace
}  // namespace rlhf::tokenizer
