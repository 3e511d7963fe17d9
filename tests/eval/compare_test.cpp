// Head-to-head comparison: win rates and intervals by hand, the judge's paired statistics, and the
// questions for people exported and read back (the recorded shuffle must map every answer to its policy).
#include "rlhf/eval/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "rlhf/data/labels.h"
#include "rlhf/labelers/questions.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::eval {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kTiny = fs::path(RLHF_TEST_DATA) / "tiny-gpt2";
constexpr int kPad = data::kOpenAiPad;

template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CompareWinRate, CountsStandardErrorAndWilsonIntervalByHand) {
  // 7 wins, 2 ties, 1 loss: (7 + 1) / 10 = 0.8; standard error sqrt(0.8 * 0.2 / 10); Wilson with
  // z = 1.96: center (0.8 + z^2/20) / (1 + z^2/10), half-width z / (1 + z^2/10) sqrt(0.016 + z^2/400).
  const WinRate w = win_rate(7, 2, 1);
  EXPECT_EQ(w.compared(), 10u);
  EXPECT_DOUBLE_EQ(w.rate, 0.8);
  EXPECT_NEAR(w.stderr_, 0.12649110640673517, 1e-12);
  EXPECT_NEAR(w.ci_low, 0.4901624715366418, 1e-9);
  EXPECT_NEAR(w.ci_high, 0.9433178485456248, 1e-9);

  // All wins: the standard error is 0 but the interval is not (its upper end is 1).
  const WinRate all = win_rate(10, 0, 0);
  EXPECT_DOUBLE_EQ(all.rate, 1.0);
  EXPECT_DOUBLE_EQ(all.stderr_, 0.0);
  EXPECT_NEAR(all.ci_low, 0.7224672001371107, 1e-9);
  EXPECT_NEAR(all.ci_high, 1.0, 1e-12);

  // Only ties: exactly even.
  EXPECT_DOUBLE_EQ(win_rate(0, 6, 0).rate, 0.5);
  EXPECT_THAT(error_of([] { win_rate(0, 0, 0); }), HasSubstr("no comparisons"));

  const auto j = w.to_json();
  EXPECT_EQ(j.at("wins"), 7);
  EXPECT_EQ(j.at("compared"), 10);
  EXPECT_DOUBLE_EQ(j.at("ci95_low").get<double>(), w.ci_low);
}

TEST(CompareJudge, PairsByQueryAndDrawWithAPairedDifference) {
  // Two queries, two draws each: pairs (3,1) win, (1,1) tie, (2,0) win, (2,5) loss.
  const JudgeVerdict v = judge_scores({3, 1, 2, 2}, {1, 1, 0, 5}, 2);
  EXPECT_EQ(v.queries, 2u);
  EXPECT_EQ(v.win.wins, 2u);
  EXPECT_EQ(v.win.ties, 1u);
  EXPECT_EQ(v.win.losses, 1u);
  EXPECT_DOUBLE_EQ(v.win.rate, 0.625);
  EXPECT_DOUBLE_EQ(v.score_a.mean, 2.0);
  EXPECT_DOUBLE_EQ(v.score_b.mean, 1.75);
  // Per query: mean(3-1, 1-1) = 1 and mean(2-0, 2-5) = -0.5; mean 0.25, standard error
  // sqrt((0.75^2 + 0.75^2) / 1 / 2) = 0.75.
  EXPECT_EQ(v.difference.count, 2u);
  EXPECT_DOUBLE_EQ(v.difference.mean, 0.25);
  EXPECT_DOUBLE_EQ(v.difference.stderr_mean, 0.75);
  EXPECT_EQ(v.to_json().at("win_rate_a").at("ties"), 1);

  EXPECT_THAT(error_of([] { judge_scores({1, 2}, {1}, 1); }), HasSubstr("2 scores of A but 1 of B"));
  EXPECT_THAT(error_of([] { judge_scores({1, 2, 3}, {1, 2, 3}, 2); }), HasSubstr("multiple of 2"));
  EXPECT_THAT(error_of([] { judge_scores({1, NAN}, {1, 2}, 1); }), HasSubstr("row 1 is not finite"));
}

// Q queries of 3 tokens, `n` draws per policy: A's responses hold ids 100 + ..., B's 200 + ...,
// padded like truncated responses.
std::pair<PolicyResponses, PolicyResponses> scripted_responses(int queries, int n) {
  const int rows = queries * n;
  PolicyResponses a, b;
  a.query = at::empty({rows, 3}, at::kLong);
  a.processed = at::full({rows, 4}, kPad, at::kLong);
  b.processed = at::full({rows, 4}, kPad, at::kLong);
  for (int r = 0; r < rows; ++r) {
    const int q = r / n, k = r % n;
    for (int t = 0; t < 3; ++t) a.query[r][t] = 10 + q * 3 + t;
    a.query[r][2] = kPad;  // a padded query
    a.processed[r][0] = 100 + q;
    a.processed[r][1] = 150 + k;
    b.processed[r][0] = 200 + q;
    b.processed[r][1] = 250 + k;
    b.processed[r][2] = 13;
  }
  b.query = a.query.clone();
  return {a, b};
}

std::vector<int> strip(const std::vector<int>& ids) {
  std::vector<int> out;
  for (int id : ids) {
    if (id != kPad) out.push_back(id);
  }
  return out;
}

class CompareExport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_compare_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Answers to every question of `key` choosing a sample of `policy`, in reverse order, minus question 1
  // (skipped questions are absent from rlhf label's file).
  static std::vector<data::Comparison> answers_choosing(const ComparisonKey& key, char policy) {
    std::vector<data::Comparison> answers;
    for (std::size_t q = key.questions.size(); q-- > 0;) {
      if (q == 1) continue;
      data::Comparison c = key.questions[q];
      c.best = static_cast<int>(key.sources[q].find(policy));
      answers.push_back(c);
    }
    return answers;
  }

  fs::path dir;
};

TEST_F(CompareExport, FourWayShuffleIsRecordedAndAnswersCountForTheRightPolicy) {
  const auto [a, b] = scripted_responses(6, 2);
  ComparisonKey key = make_comparison_questions(a, b, 2, 4, /*seed=*/7, kPad);
  key.policy_a = "runs/ppo/policy";
  key.policy_b = "models/gpt2";
  ASSERT_EQ(key.questions.size(), 6u);
  std::set<std::string> patterns;
  for (std::size_t q = 0; q < 6; ++q) {
    const data::Comparison& c = key.questions[q];
    EXPECT_EQ(strip(c.query), (std::vector<int>{static_cast<int>(10 + q * 3), static_cast<int>(11 + q * 3)}));
    ASSERT_EQ(c.samples.size(), 4u);
    ASSERT_EQ(key.sources[q].size(), 4u);
    EXPECT_EQ(std::count(key.sources[q].begin(), key.sources[q].end(), 'A'), 2);
    std::set<int> draws_a, draws_b;
    for (std::size_t s = 0; s < 4; ++s) {
      // The recorded source matches the content: A's samples start with 100 + q, B's with 200 + q.
      const int first = c.samples[s][0];
      EXPECT_EQ(first, (key.sources[q][s] == 'A' ? 100 : 200) + static_cast<int>(q));
      (key.sources[q][s] == 'A' ? draws_a : draws_b).insert(c.samples[s][1] % 50);
    }
    EXPECT_EQ(draws_a, (std::set<int>{0, 1}));  // draws 0 and 1 of each policy
    EXPECT_EQ(draws_b, (std::set<int>{0, 1}));
    patterns.insert(key.sources[q]);
  }
  EXPECT_GE(patterns.size(), 2u) << "the order is shuffled per question";
  // The same seed gives the same order.
  EXPECT_EQ(make_comparison_questions(a, b, 2, 4, 7, kPad).sources, key.sources);

  // Written and read back as rlhf label reads questions, and the key.
  auto tokenizer = tokenizer::load_tokenizer(kTiny);
  const fs::path questions = dir / "questions.json";
  export_questions(questions, key, *tokenizer);
  data::LabelOptions options;
  options.format = "openai";
  const data::LabelSet read = data::read_questions(questions, *tokenizer, options);
  ASSERT_EQ(read.items.size(), 6u);
  EXPECT_EQ(read.items[3].samples, key.questions[3].samples);
  EXPECT_EQ(read.items[3].best, -1);
  EXPECT_TRUE(fs::exists(dir / "questions.txt"));
  ASSERT_EQ(key_path(questions), dir / "questions.json.key.json");
  const ComparisonKey back = read_key(key_path(questions));
  EXPECT_EQ(back.sources, key.sources);
  EXPECT_EQ(back.policy_a, "runs/ppo/policy");
  EXPECT_EQ(back.seed, 7u);
  EXPECT_EQ(back.way, 4);
  EXPECT_EQ(back.questions_file, questions.string());
  EXPECT_EQ(back.questions[5].samples, key.questions[5].samples);

  // Always A's sample: win rate 1; always B's: 0. Question 1 skipped.
  const PeopleVerdict for_a = tally_answers(back, answers_choosing(back, 'A'), "answers.json", "key.json");
  EXPECT_EQ(for_a.questions, 6u);
  EXPECT_EQ(for_a.answered, 5u);
  EXPECT_EQ(for_a.win.wins, 5u);
  EXPECT_DOUBLE_EQ(for_a.win.rate, 1.0);
  EXPECT_DOUBLE_EQ(tally_answers(back, answers_choosing(back, 'B'), "answers.json", "key.json").win.rate, 0.0);
}

TEST_F(CompareExport, TwoWayTiesAndMismatchedAnswers) {
  auto responses = scripted_responses(3, 1);
  const PolicyResponses& a = responses.first;
  PolicyResponses& b = responses.second;
  b.processed[2] = a.processed[2].clone();  // question 2: both policies wrote the same response
  const ComparisonKey key = make_comparison_questions(a, b, 1, 2, 1, kPad);
  ASSERT_EQ(key.questions.size(), 3u);
  std::vector<data::Comparison> answers = {key.questions[0], key.questions[2]};
  answers[0].best = static_cast<int>(key.sources[0].find('B'));
  answers[1].best = static_cast<int>(key.sources[2].find('B'));
  const PeopleVerdict v = tally_answers(key, answers, "answers.json", "key.json");
  EXPECT_EQ(v.win.losses, 1u);
  EXPECT_EQ(v.win.ties, 1u);  // the chosen text is also A's
  EXPECT_DOUBLE_EQ(v.win.rate, 0.25);

  // An answer whose sample differs from every exported question names the file and the record.
  answers[1].samples[0][0] = 7;
  EXPECT_THAT(error_of([&] { tally_answers(key, answers, "answers.json", "key.json"); }),
              HasSubstr("answers.json: record 1 (query [16, 17]) is not among the questions of key.json"));
  // The same question answered twice.
  answers = {key.questions[0], key.questions[0]};
  answers[0].best = answers[1].best = 0;
  EXPECT_THAT(error_of([&] { tally_answers(key, answers, "answers.json", "key.json"); }), HasSubstr("record 1"));
  // 4-way answers against a 2-way key.
  answers = {make_comparison_questions(a, a, 1, 2, 1, kPad).questions[0]};
  answers[0].samples.push_back(answers[0].samples[0]);
  answers[0].samples.push_back(answers[0].samples[0]);
  EXPECT_THAT(error_of([&] { tally_answers(key, answers, "answers.json", "key.json"); }),
              HasSubstr("has 4 samples; the questions of key.json have 2"));
  EXPECT_THAT(error_of([&] { make_comparison_questions(a, b, 1, 4, 1, kPad); }), HasSubstr("samples_per_query: 1"));
}

TEST_F(CompareExport, MalformedKeysNameTheFileAndQuestion) {
  const auto [a, b] = scripted_responses(2, 1);
  ComparisonKey key = make_comparison_questions(a, b, 1, 2, 3, kPad);
  const fs::path path = dir / "q.json.key.json";
  write_key(path, key);
  std::string text = read_text_file(path);
  const std::size_t at = text.find("\"sources\":\"", text.find("\"sources\":\"") + 1);  // question 1
  ASSERT_NE(at, std::string::npos);
  text.replace(at + 11, 2, "AA");
  write_file_atomic(path, text);
  EXPECT_THAT(error_of([&] { read_key(path); }), HasSubstr("q.json.key.json: question 1: sources \"AA\""));
  write_file_atomic(path, "{\"format\": \"something else\"}");
  EXPECT_THAT(error_of([&] { read_key(path); }), HasSubstr("not a comparison key"));
  write_file_atomic(path, "[1,");
  EXPECT_THAT(error_of([&] { read_key(path); }), HasSubstr("not valid JSON"));
}

TEST(CompareSampling, SameSeedSamePolicySameResponsesSoEveryPairTies) {
  auto tokenizer = tokenizer::load_tokenizer(kTiny);
  data::QueryOptions q;
  q.query_length = 6;
  const auto dataset =
      data::QueryDataset::from_texts({"The cat sat", "A dog ran", "She was here", "He liked it"}, q, *tokenizer);
  model::Gpt2 policy = model::load_gpt2(kTiny);
  policy->eval();
  CompareOptions o;
  o.response_length = 8;
  o.temperature = 1.0;
  o.truncation = {54, 2, kPad, -1.0};
  o.samples_per_query = 2;
  o.batch_size = 3;  // 8 rows: batches of 3, 3 and 2
  const std::vector<std::size_t> indices = {0, 1, 2, 3};
  const PolicyResponses a = sample_responses(*policy, dataset, indices, o);
  const PolicyResponses b = sample_responses(*policy, dataset, indices, o);
  ASSERT_EQ(a.processed.sizes(), (at::IntArrayRef{8, 8}));
  EXPECT_TRUE(a.processed.equal(b.processed));
  EXPECT_TRUE(a.query[2].equal(a.query[3]));  // rows 2, 3: query 1's two draws
  EXPECT_FALSE(a.processed.equal(a.processed.index_select(0, at::arange(8).flip(0))));

  ppo::TokenCountReward judge(54);
  const std::vector<double> sa = judge_responses(judge, a, o, at::kCPU);
  ASSERT_EQ(sa.size(), 8u);
  for (std::size_t r = 0; r < 8; ++r) {
    // Truncated after the first 54 at index >= 2 (so at most 3 of them: indices 0, 1 and the cut), or
    // the penalty when there is none.
    const at::Tensor row = a.processed[static_cast<std::int64_t>(r)];
    const bool has = row.narrow(0, 2, 6).eq(54).any().item<bool>();
    EXPECT_DOUBLE_EQ(sa[r], has ? row.eq(54).sum().item<double>() : -1.0) << r;
  }
  const JudgeVerdict v = judge_scores(sa, judge_responses(judge, b, o, at::kCPU), 2);
  EXPECT_EQ(v.win.ties, 8u);
  EXPECT_DOUBLE_EQ(v.win.rate, 0.5);
  EXPECT_DOUBLE_EQ(v.difference.mean, 0.0);
}

}  // namespace
}  // namespace rlhf::eval
