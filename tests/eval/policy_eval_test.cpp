// Evaluation of a policy: the statistics by hand, and a policy measured against itself on the tiny
// GPT-2 (KL 0, scores recomputed independently from the samples).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "rlhf/eval/policy_eval.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/pipeline/report.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::eval {
namespace {

namespace fs = std::filesystem;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";

TEST(EvalStats, MeanPopulationStdAndStandardError) {
  // 1, 2, 3, 6: mean 3, squared deviations 4 + 1 + 0 + 9 = 14; population std sqrt(14/4);
  // standard error sqrt(14/3 / 4).
  const Stats s = stats_of({1, 2, 3, 6});
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(3.5));
  EXPECT_DOUBLE_EQ(s.stderr_mean, std::sqrt(14.0 / 3.0 / 4.0));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(stats_of({5}).stderr_mean, 0.0);
  EXPECT_EQ(stats_of({}).count, 0u);
}

TEST(EvalPolicy, AgainstItselfKlIsZeroAndRunsAreReproducible) {
  auto tokenizer = tokenizer::load_tokenizer(kTiny);
  std::vector<std::string> texts;
  for (int i = 0; i < 10; ++i) texts.push_back("The cat sat on the mat " + std::to_string(i));
  data::QueryOptions q;
  q.query_length = 10;
  const auto dataset = data::QueryDataset::from_texts(texts, q, *tokenizer);
  ppo::Policy policy = ppo::load_policy(kTiny);
  model::Gpt2 reference = model::load_gpt2(kTiny);
  reference->eval();
  ppo::TokenCountReward reward(54), extra(13);

  EvalOptions o;
  o.response_length = 8;
  o.temperature = 1.0;
  o.truncation = {13, 2, data::kOpenAiPad, -1.0};
  o.batch_size = 4;  // 10 queries: batches of 4, 4 and 2
  o.samples_shown = 2;
  const std::vector<std::size_t> indices = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const PolicyEvaluation e =
      evaluate_policy(*policy, *reference, reward, {{"periods", &extra}}, dataset, indices, o, tokenizer.get());
  EXPECT_EQ(e.score.count, 10u);
  EXPECT_NEAR(e.kl.mean, 0.0, 1e-4);  // the same weights: log pi - log rho = 0 per token
  EXPECT_GT(e.entropy.mean, 0.0);
  ASSERT_EQ(e.extra.size(), 1u);
  EXPECT_EQ(e.extra[0].first, "periods");
  // Penalised responses score -1, the others their count of token 54 (>= 0), so the mean score is at
  // least -(penalised share).
  EXPECT_GE(e.penalized_fraction, 0.0);
  EXPECT_LE(e.penalized_fraction, 1.0);
  EXPECT_GE(e.score.mean, -e.penalized_fraction - 1e-9);
  EXPECT_GE(e.raw_score.mean, 0.0);
  EXPECT_LE(e.mean_length, 8.0);
  EXPECT_EQ(e.samples.size(), 2u);

  // The same seed gives the same numbers; another seed other samples.
  const PolicyEvaluation again =
      evaluate_policy(*policy, *reference, reward, {{"periods", &extra}}, dataset, indices, o, tokenizer.get());
  EXPECT_DOUBLE_EQ(again.entropy.mean, e.entropy.mean);
  EXPECT_EQ(again.samples[0].response, e.samples[0].response);
  o.seed = 2;
  const PolicyEvaluation other =
      evaluate_policy(*policy, *reference, reward, {}, dataset, indices, o, tokenizer.get());
  EXPECT_NE(other.entropy.mean, e.entropy.mean);
}

TEST(EvalReport, RendersTheBeforeAfterTable) {
  nlohmann::ordered_json s;
  s["run_dir"] = "runs/x";
  s["reward"] = "reward model (runs/x/reward_model)";
  s["kl"] = {{"adaptive", true}, {"target", 4.0}, {"initial_kl_coef", 0.1}};
  s["ppo"] = {{"batches", 3}, {"episodes", 192}, {"last_batches", 3}, {"score_mean", 1.5},
              {"first_score_mean", 0.5}, {"kl_mean", 3.9}, {"final_kl_coef", 0.12}};
  auto stats = [](double mean, double se) { return nlohmann::ordered_json{{"mean", mean}, {"stderr", se}}; };
  for (const char* which : {"initial", "final"}) {
    const bool after = std::string(which) == "final";
    s[which] = {{"score", stats(after ? 2.0 : 0.25, 0.05)},
                {"scores", {{"labeler", stats(after ? 0.5 : 0.125, 0.01)}}},
                {"kl", stats(after ? 4.0 : 0.0, 0.1)},
                {"entropy", stats(30, 1)},
                {"penalized_fraction", after ? 0.05 : 0.5},
                {"mean_length", 12.0},
                {"samples", nlohmann::ordered_json::array({{{"query", "Q\nq"}, {"response", "R"}, {"score", 1.0}}})}};
  }
  s["eval_queries"] = 256;
  const std::string text = pipeline::render_summary(s);
  EXPECT_NE(text.find("| score (what PPO maximises) | 0.250 ± 0.050 | 2.000 ± 0.050 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| labeler score | 0.125 ± 0.010 | 0.500 ± 0.010 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| without a truncate token (penalised) | 50.0% | 5.0% |"), std::string::npos) << text;
  EXPECT_NE(text.find("beta 0.1000 -> 0.1200"), std::string::npos) << text;
  EXPECT_NE(text.find("- Q q **→** R"), std::string::npos) << text;  // newlines flattened
}

}  // namespace
}  // namespace rlhf::eval
