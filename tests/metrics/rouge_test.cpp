// ROUGE against hand-computed values: tokenization, stemming, clipped n-gram counts, LCS, empty texts.
#include "rlhf/metrics/rouge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rlhf/util/error.h"

namespace rlhf::metrics {
namespace {

using ::testing::ElementsAre;
using Tokens = std::vector<std::string>;

void expect_score(const RougeScore& s, double precision, double recall, double f1) {
  EXPECT_NEAR(s.precision, precision, 1e-12);
  EXPECT_NEAR(s.recall, recall, 1e-12);
  EXPECT_NEAR(s.f1, f1, 1e-12);
}

TEST(RougeTokens, LowerCaseAndEverythingElseSeparates) {
  EXPECT_THAT(rouge_tokens("Hello, World! It's 3:45 p.m."), ElementsAre("hello", "world", "it", "s", "3", "45", "p", "m"));
  EXPECT_THAT(rouge_tokens("state-of-the-art\tCOVID19\n"), ElementsAre("state", "of", "the", "art", "covid19"));
  EXPECT_TRUE(rouge_tokens("").empty());
  EXPECT_TRUE(rouge_tokens(" !?. \n").empty());
}

TEST(RougeTokens, NonAsciiSeparatesExceptWherePythonLowersToAscii) {
  // "é" separates; U+0130 lowers to "i" + U+0307 (the dot separates); U+212A (Kelvin) lowers to "k".
  EXPECT_THAT(rouge_tokens("Café \xC4\xB0stanbul 300\xE2\x84\xAA"), ElementsAre("caf", "i", "stanbul", "300k"));
  EXPECT_THAT(rouge_tokens("東京2020👍ok"), ElementsAre("2020", "ok"));
}

TEST(RougeStem, PorterOnlyForTokensLongerThanThree) {
  Rouge stemmed(true);
  // "was" (3 letters) stays; "runs" and "running" -> "run"; "ran" is irregular and stays.
  EXPECT_THAT(stemmed.tokenize("Running runs ran was dogs"), ElementsAre("run", "run", "ran", "was", "dog"));
  EXPECT_THAT(stemmed.tokenize("connections connected generously"), ElementsAre("connect", "connect", "gener"));
  // Snowball undoubles only bb dd ff gg mm nn pp rr tt (NLTK would give "rev"): the documented difference.
  EXPECT_THAT(stemmed.tokenize("revved hopped"), ElementsAre("revv", "hop"));
  // The cache gives the same answer the second time.
  EXPECT_THAT(stemmed.tokenize("running"), ElementsAre("run"));
  Rouge plain(false);
  EXPECT_FALSE(plain.stems());
  EXPECT_THAT(plain.tokenize("Running runs"), ElementsAre("running", "runs"));
}

TEST(RougeN, UnigramCountsAreClipped) {
  // prediction: "the" x7; reference "the cat is on the mat" has "the" x2 -> matches min(7, 2) = 2.
  // P = 2/7, R = 2/6, F = 2 (2/7)(1/3) / (2/7 + 1/3) = (4/21) / (13/21) = 4/13.
  const Tokens prediction(7, "the");
  const Tokens reference = {"the", "cat", "is", "on", "the", "mat"};
  expect_score(rouge_n(prediction, reference, 1), 2.0 / 7, 1.0 / 3, 4.0 / 13);
}

TEST(RougeN, BigramCountsAreClipped) {
  // prediction "the cat the cat the cat": "the cat" x3, "cat the" x2 (5 bigrams).
  // reference "the cat sat with the cat": "the cat" x2, "cat sat", "sat with", "with the" (5 bigrams).
  // matches = min(3, 2) = 2 ("cat the" is not in the reference): P = R = F = 2/5.
  const Tokens prediction = {"the", "cat", "the", "cat", "the", "cat"};
  const Tokens reference = {"the", "cat", "sat", "with", "the", "cat"};
  expect_score(rouge_n(prediction, reference, 2), 0.4, 0.4, 0.4);
  // Unigrams: the 3/2, cat 3/2 -> 4 matches of 6 and 6: 2/3.
  expect_score(rouge_n(prediction, reference, 1), 2.0 / 3, 2.0 / 3, 2.0 / 3);
}

TEST(RougeN, TooShortForAnNgramScoresZero) {
  expect_score(rouge_n({"word"}, {"word"}, 2), 0, 0, 0);  // no bigram on either side
  expect_score(rouge_n({"word"}, {"word"}, 1), 1, 1, 1);
  EXPECT_THROW(rouge_n({"a"}, {"a"}, 0), Error);
}

TEST(RougeL, LongestCommonSubsequence) {
  // "police killed the gunman" vs "the gunman killed police": the LCS is "the gunman" (2 of 4 each).
  const Tokens a = {"police", "killed", "the", "gunman"};
  const Tokens b = {"the", "gunman", "killed", "police"};
  EXPECT_EQ(lcs_length(a, b), 2u);
  expect_score(rouge_l(a, b), 0.5, 0.5, 0.5);
  // "a b a b a b" vs "b a b a": the whole reference is a subsequence: LCS 4, P = 4/6, R = 1,
  // F = 2 (2/3)(1) / (5/3) = 0.8.
  const Tokens c = {"a", "b", "a", "b", "a", "b"};
  const Tokens d = {"b", "a", "b", "a"};
  EXPECT_EQ(lcs_length(c, d), 4u);
  expect_score(rouge_l(c, d), 2.0 / 3, 1, 0.8);
  EXPECT_EQ(lcs_length({}, d), 0u);
}

TEST(Rouge, EmptyTextsScoreZero) {
  for (const auto& [prediction, reference] : std::vector<std::pair<std::string, std::string>>{
           {"", "some text"}, {"some text", ""}, {"", ""}, {"...", "!!!"}}) {
    const RougeScores s = rouge(prediction, reference);
    expect_score(s.rouge1, 0, 0, 0);
    expect_score(s.rouge2, 0, 0, 0);
    expect_score(s.rougeL, 0, 0, 0);
  }
}

TEST(Rouge, StemmingMakesInflectionsMatch) {
  // Stemmed, "runs"/"running" -> "run" both sides: R1 = 1. Unstemmed: no common token.
  EXPECT_DOUBLE_EQ(rouge("He runs", "he running", true).rouge1.f1, 1.0);
  EXPECT_DOUBLE_EQ(rouge("He runs", "he running", false).rouge1.f1, 0.5);
}

TEST(Rouge, ScoresOfAWholePair) {
  // prediction tokens: the cat sat on the mat (6), reference: the cat lay on the red mat (7).
  // R1: the 2/2, cat, on, mat -> 5; P = 5/6, R = 5/7, F = 2*5/(6+7) = 10/13.
  // R2: "the cat", "on the" match ("cat sat","sat on","the mat" do not): P = 2/5, R = 2/6, F = 4/11.
  // RL: LCS "the cat on the mat" = 5 -> same as R1.
  Rouge scorer(true);
  const RougeScores s = scorer.score("The cat sat on the mat.", "The cat lay on the red mat");
  expect_score(s.rouge1, 5.0 / 6, 5.0 / 7, 10.0 / 13);
  expect_score(s.rouge2, 2.0 / 5, 2.0 / 6, 4.0 / 11);
  expect_score(s.rougeL, 5.0 / 6, 5.0 / 7, 10.0 / 13);
  EXPECT_DOUBLE_EQ(f1_score(0, 0), 0.0);
}

}  // namespace
}  // namespace rlhf::metrics
