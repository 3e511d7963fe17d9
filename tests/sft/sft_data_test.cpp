// Supervised fine-tuning data: packing, the response-only loss mask, batches, the batch order, files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "rlhf/model/checkpoint.h"
#include "rlhf/sft/data.h"
#include "rlhf/sft/trainer.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "torch_test_util.h"

namespace rlhf::sft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using rlhf::testing::long_matrix;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";

std::vector<std::vector<int>> tokens_of(const std::vector<SftExample>& examples) {
  std::vector<std::vector<int>> out;
  for (const auto& e : examples) out.push_back(e.tokens);
  return out;
}

TEST(SftPacking, DocumentsEndWithEosAndBlocksOverlapByOneToken) {
  // Stream: 1 2 3 9 4 5 9 (eos 9 after each document); blocks of 3 + 1 with stride 3.
  const auto blocks = pack_documents({{1, 2, 3}, {4, 5}}, 9, 3);
  EXPECT_EQ(tokens_of(blocks), (std::vector<std::vector<int>>{{1, 2, 3, 9}, {9, 4, 5, 9}}));
  for (const auto& b : blocks) EXPECT_EQ(b.first_target, 1);
  // Two more tokens (6 9) make a short last block that starts with the previous block's last token.
  EXPECT_EQ(tokens_of(pack_documents({{1, 2, 3}, {4, 5}, {6}}, 9, 3)),
            (std::vector<std::vector<int>>{{1, 2, 3, 9}, {9, 4, 5, 9}, {9, 6, 9}}));
  // One token predicts nothing: a lone eos makes no block.
  EXPECT_TRUE(pack_documents({{}}, 9, 3).empty());
}

TEST(SftPacking, LmBatchPredictsEveryNextToken) {
  const auto blocks = pack_documents({{1, 2, 3}, {4, 5}}, 9, 3);
  const SftBatch batch = make_batch({&blocks[0], &blocks[1]});
  EXPECT_TRUE(batch.ids.equal(long_matrix({{1, 2, 3}, {9, 4, 5}})));
  EXPECT_TRUE(batch.targets.equal(long_matrix({{2, 3, 9}, {4, 5, 9}})));
  EXPECT_TRUE(batch.positions.equal(long_matrix({{0, 1, 2}, {0, 1, 2}})));
  EXPECT_TRUE(batch.mask.all().item<bool>());
  EXPECT_EQ(batch.target_count, 6);
  EXPECT_EQ(batch.token_count, 6);
}

TEST(SftPairs, LossOnlyOnResponseAndEnd) {
  const SftExample a = make_pair_example({10, 11, 12}, {20, 21}, 9, 8);  // 10 11 12 | 20 21 9
  const SftExample b = make_pair_example({10}, {20}, 9, 8);              // 10 | 20 9
  EXPECT_EQ(a.tokens, (std::vector<int>{10, 11, 12, 20, 21, 9}));
  EXPECT_EQ(a.first_target, 3);
  const SftBatch batch = make_batch({&a, &b});
  // Input position t predicts token t+1; only predictions of response tokens (and eos) count.
  EXPECT_TRUE(batch.ids.equal(long_matrix({{10, 11, 12, 20, 21}, {10, 20, 0, 0, 0}})));
  EXPECT_TRUE(batch.targets.equal(long_matrix({{-100, -100, 20, 21, 9}, {20, 9, -100, -100, -100}})));
  EXPECT_TRUE(batch.mask.equal(long_matrix({{1, 1, 1, 1, 1}, {1, 1, 0, 0, 0}}).to(at::kBool)));
  EXPECT_TRUE(batch.positions.equal(long_matrix({{0, 1, 2, 3, 4}, {0, 1, 2, 2, 2}})));
  EXPECT_EQ(batch.target_count, 5);
  EXPECT_EQ(batch.token_count, 7);
}

TEST(SftPairs, WithoutEosAndTooLongOrEmpty) {
  const SftExample a = make_pair_example({10, 11}, {20}, -1, 8);
  EXPECT_EQ(a.tokens, (std::vector<int>{10, 11, 20}));
  EXPECT_EQ(a.first_target, 2);
  EXPECT_EQ(make_pair_example({1, 2, 3}, {4, 5}, 9, 5).tokens.size(), 6u);  // 6 tokens = sequence_length + 1: fits
  EXPECT_TRUE(make_pair_example({1, 2, 3}, {4, 5}, 9, 4).tokens.empty());   // too long
  EXPECT_TRUE(make_pair_example({1, 2}, {}, -1, 8).tokens.empty());          // nothing to learn
  const SftExample no_query = make_pair_example({}, {4, 5}, 9, 8);          // 4 is predicted by nothing
  EXPECT_EQ(no_query.first_target, 1);
}

// The loss of a padded pair batch equals the sum over response tokens of -log p computed from each
// row alone, unpadded: padding and the query mask change nothing.
TEST(SftPairs, SummedLossMatchesPerRowLogProbabilities) {
  model::Gpt2 model = model::load_gpt2(kTiny);
  const SftExample a = make_pair_example({5, 6, 7, 8}, {30, 31, 32}, 511, 63);
  const SftExample b = make_pair_example({40}, {41, 42}, 511, 63);
  at::NoGradGuard no_grad;
  const double loss = summed_loss(*model, make_batch({&a, &b})).item<double>();
  double expected = 0;
  for (const SftExample* e : {&a, &b}) {
    const auto n = static_cast<std::int64_t>(e->tokens.size());
    std::vector<std::int64_t> ids(e->tokens.begin(), e->tokens.end());
    const at::Tensor row = at::tensor(ids, at::kLong).view({1, n});
    const at::Tensor mask = at::ones({1, n}, at::kBool);
    const at::Tensor logp = model->logits(model->forward(row, mask, model::positions_from_mask(mask))).log_softmax(-1);
    for (std::int64_t t = e->first_target; t < n; ++t) expected -= logp[0][t - 1][ids[t]].item<double>();
  }
  EXPECT_NEAR(loss, expected, 1e-4);
}

TEST(SftOrder, BatchesWalkSeededEpochOrders) {
  const std::size_t n = 5;
  std::vector<std::size_t> seen;
  for (std::int64_t step = 0; step < 5; ++step) {
    const auto batch = batch_indices(n, step, 2, 7);
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch, batch_indices(n, step, 2, 7)) << "a function of its arguments";
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  // Steps 0..4 cover epochs 0 and 1 exactly: each is a permutation of 0..4.
  EXPECT_EQ(std::set<std::size_t>(seen.begin(), seen.begin() + 5).size(), 5u);
  EXPECT_EQ(std::set<std::size_t>(seen.begin() + 5, seen.end()).size(), 5u);
  EXPECT_NE(std::vector<std::size_t>(seen.begin(), seen.begin() + 5),
            std::vector<std::size_t>(seen.begin() + 5, seen.end()))
      << "each epoch reshuffles";
  EXPECT_NE(batch_indices(n, 0, 5, 7), batch_indices(n, 0, 5, 8)) << "the seed matters";
}

class SftFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_sft_data_" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path write(const std::string& name, const std::string& text) {
    write_file_atomic(dir / name, text);
    return dir / name;
  }
  fs::path dir;
};

TEST_F(SftFiles, PairsFromJsonlAndJson) {
  SftDataOptions options;
  options.mode = "pairs";
  const auto jsonl = write("p.jsonl", "{\"query\": \"a\", \"response\": \"b\"}\n\n{\"query\": \"c\", \"response\": \"d\"}\n");
  const auto pairs = read_pairs(options, jsonl.string());
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[1].query, "c");
  EXPECT_EQ(pairs[1].response, "d");
  options.query_key = "prompt";
  options.response_key = "completion";
  const auto json = write("p.json", R"([{"prompt": "x", "completion": "y"}])");
  ASSERT_EQ(read_pairs(options, json.string()).size(), 1u);
  EXPECT_EQ(read_pairs(options, json.string())[0].response, "y");
}

TEST_F(SftFiles, PairErrorsNameFileLineAndKey) {
  SftDataOptions options;
  options.mode = "pairs";
  const auto path = write("bad.jsonl", "{\"query\": \"a\", \"response\": \"b\"}\n{\"query\": \"c\"}\n");
  try {
    read_pairs(options, path.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string()));
    EXPECT_THAT(e.what(), HasSubstr("line 2"));
    EXPECT_THAT(e.what(), HasSubstr("\"response\""));
  }
  const auto text = write("plain.txt", "just text\n");
  EXPECT_THROW(read_pairs(options, text.string()), Error);
}

TEST_F(SftFiles, AutoReadsFortuneFilesAndDirectories) {
  SftDataOptions options;
  const auto path = write("wisdom", "A penny saved\nis a penny.\n%\nLook before\nyou leap.\n%\n");
  const auto documents = read_documents(options, path.string());
  EXPECT_EQ(documents, (std::vector<std::string>{"A penny saved\nis a penny.", "Look before\nyou leap."}));
  EXPECT_EQ(read_documents(options, dir.string()).size(), 2u) << "a directory of fortune files";
  options.format = "text";
  EXPECT_EQ(read_documents(options, path.string()).size(), 6u) << "text: every non-blank line";
  options.format = "raw";
  EXPECT_EQ(read_documents(options, path.string()).size(), 1u);
}

TEST_F(SftFiles, LoadSplitsDocumentsBeforePacking) {
  const auto tokenizer = tokenizer::load_tokenizer(kTiny);
  std::string text;
  for (int i = 0; i < 20; ++i) text += "the cat sat on the mat number " + std::to_string(i) + "\n";
  SftDataOptions options;
  options.path = write("docs.txt", text).string();
  options.format = "text";
  options.validation_fraction = 0.1;
  const SftData data = load_sft_data(options, *tokenizer, 16, 1);
  EXPECT_FALSE(data.train.empty());
  EXPECT_FALSE(data.validation.empty());
  // 2 of 20 documents held out: the validation stream has 2 documents and 2 eos tokens.
  std::size_t validation_eos = 0;
  for (const auto& block : data.validation) {
    for (std::size_t t = 1; t < block.tokens.size(); ++t) validation_eos += block.tokens[t] == tokenizer->eos_id();
  }
  EXPECT_EQ(validation_eos, 2u);
  // The same seed splits the same way.
  EXPECT_EQ(tokens_of(load_sft_data(options, *tokenizer, 16, 1).validation), tokens_of(data.validation));

  options.path = write("empty.txt", "\n\n").string();
  try {
    load_sft_data(options, *tokenizer, 16, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(options.path));
  }
}

}  // namespace
}  // namespace rlhf::sft
