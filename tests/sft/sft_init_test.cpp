// A new GPT-2 from a config.json (GPT-2's initialisation, checks against the tokenizer) and BPE
// vocabularies cut to their first K merges.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "rlhf/core/torch_compat.h"
#include "rlhf/sft/init.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::sft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";

std::unique_ptr<tokenizer::Gpt2BpeTokenizer> tiny_bpe() {
  return tokenizer::Gpt2BpeTokenizer::from_files(kTiny / "vocab.json", kTiny / "merges.txt");
}

class SftInit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_sft_init_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path config(const nlohmann::json& j) {
    write_file_atomic(dir / "config.json", j.dump());
    return dir / "config.json";
  }
  fs::path dir;
};

double std_of(const at::Tensor& t) { return t.std(/*unbiased=*/false).item<double>(); }

TEST_F(SftInit, Gpt2InitialisationStatistics) {
  const auto tokenizer = tiny_bpe();
  compat::manual_seed(3);
  // 4 layers, 128 wide: wte has 512 * 128 = 65536 draws, so the std is within about 1% of its value.
  model::Gpt2 model = init_gpt2(
      config({{"vocab_size", 512}, {"n_positions", 64}, {"n_embd", 128}, {"n_layer", 4}, {"n_head", 4}}), *tokenizer);
  EXPECT_NEAR(std_of(model->wte->weight), 0.02, 0.0006);
  EXPECT_NEAR(model->wte->weight.mean().item<double>(), 0.0, 0.0005);
  EXPECT_NEAR(std_of(model->wpe->weight), 0.02, 0.001);
  auto& block = *model->h->ptr<model::BlockImpl>(2);
  EXPECT_NEAR(std_of(block.attn->c_attn->weight), 0.02, 0.0006);
  EXPECT_NEAR(std_of(block.mlp->c_fc->weight), 0.02, 0.0006);
  const double residual = 0.02 / std::sqrt(2.0 * 4);  // c_proj: 0.00707
  EXPECT_NEAR(std_of(block.attn->c_proj->weight), residual, 0.0003);
  EXPECT_NEAR(std_of(block.mlp->c_proj->weight), residual, 0.0003);
  EXPECT_TRUE(block.attn->c_attn->bias.eq(0).all().item<bool>());
  EXPECT_TRUE(block.mlp->c_proj->bias.eq(0).all().item<bool>());
  EXPECT_TRUE(block.ln_1->weight.eq(1).all().item<bool>());
  EXPECT_TRUE(model->ln_f->bias.eq(0).all().item<bool>());
  // bos/eos come from the tokenizer when the config leaves them out.
  EXPECT_EQ(model->config().eos_token_id, 511);

  // initializer_range scales everything; the seed makes it reproducible.
  compat::manual_seed(3);
  model::Gpt2 wide = init_gpt2(config({{"vocab_size", 512}, {"n_positions", 64}, {"n_embd", 128}, {"n_layer", 4},
                                       {"n_head", 4}, {"initializer_range", 0.1}}),
                               *tokenizer);
  EXPECT_NEAR(std_of(wide->wte->weight), 0.1, 0.003);
  compat::manual_seed(3);
  model::Gpt2 again = init_gpt2(config({{"vocab_size", 512}, {"n_positions", 64}, {"n_embd", 128}, {"n_layer", 4},
                                        {"n_head", 4}, {"initializer_range", 0.1}}),
                                *tokenizer);
  EXPECT_TRUE(again->wte->weight.equal(wide->wte->weight));
}

TEST_F(SftInit, ConfigMustFitTheTokenizer) {
  const auto tokenizer = tiny_bpe();
  try {
    init_gpt2(config({{"vocab_size", 50257}, {"n_embd", 32}, {"n_layer", 1}, {"n_head", 1}}), *tokenizer);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("config.json"));
    EXPECT_THAT(e.what(), HasSubstr("50257"));
    EXPECT_THAT(e.what(), HasSubstr("512"));
  }
  try {
    init_gpt2(config({{"vocab_size", 512}, {"n_embd", 32}, {"n_layer", 1}, {"n_head", 1}, {"eos_token_id", 50256}}),
              *tokenizer);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("eos_token_id is 50256"));
    EXPECT_THAT(e.what(), HasSubstr("511"));
  }
}

TEST(SftTokenizer, TruncatedMergesKeepGpt2Ids) {
  const auto full = tiny_bpe();
  const int K = 100;
  const auto cut = truncate_merges(*full, K, kTiny.string());
  EXPECT_EQ(cut->vocab_size(), 256 + K + 1);
  EXPECT_EQ(cut->eos_id(), 256 + K);
  EXPECT_EQ(cut->merges().size(), static_cast<std::size_t>(K));
  for (int id = 0; id < 256 + K; ++id) ASSERT_EQ(cut->id_to_piece(id), full->id_to_piece(id)) << id;
  // Words whose full encoding uses only merges below K encode to the same ids; others to more tokens.
  const std::string words[] = {" the", " a", " and", " of", " cat", " sat", " on", " mat", " to", " in",
                               " is", " was", " it", " he", " that", " with", " over", " dog", " lazy"};
  std::string same_text;
  std::size_t compared = 0, differ = 0;
  for (const auto& word : words) {
    const auto ids = full->encode(word);
    if (*std::max_element(ids.begin(), ids.end()) < 256 + K) {
      same_text += word;
      ++compared;
    } else {
      EXPECT_GT(cut->encode(word).size(), ids.size()) << word;
      ++differ;
    }
  }
  ASSERT_GE(compared, 3u) << "the test needs words made of early merges";
  ASSERT_GE(differ, 1u) << "the test needs words that use later merges";
  EXPECT_EQ(cut->encode(same_text), full->encode(same_text));
  EXPECT_GT(full->encode(same_text).size(), same_text.size() / 3) << "sanity";
  // Keeping every merge gives the tokenizer back.
  const auto whole = truncate_merges(*full, 255, kTiny.string());
  EXPECT_EQ(whole->encode("the quick brown fox"), full->encode("the quick brown fox"));
  EXPECT_THROW(truncate_merges(*full, 256, kTiny.string()), Error);
}

TEST(SftTokenizer, RefusesVocabulariesNotNumberedLikeGpt2) {
  // Bytes 0..255, then "ab" = 257 and "cd" = 256 although "a b" is the first merge.
  std::vector<std::pair<std::string, int>> vocab;
  for (int b = 0; b < 256; ++b) vocab.emplace_back(tokenizer::byte_to_unicode()[b], b);
  vocab.emplace_back("ab", 257);
  vocab.emplace_back("cd", 256);
  vocab.emplace_back("<|endoftext|>", 258);
  const tokenizer::Gpt2BpeTokenizer odd(vocab, {{"a", "b"}, {"c", "d"}});
  try {
    truncate_merges(odd, 1, "odd-tokenizer");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("odd-tokenizer"));
    EXPECT_THAT(e.what(), HasSubstr("merge 0"));
    EXPECT_THAT(e.what(), HasSubstr("257"));
  }
}

}  // namespace
}  // namespace rlhf::sft
