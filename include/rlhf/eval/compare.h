// Head-to-head comparison of two policies A and B, the paper's evaluation protocol (paper-spec 6):
// both policies continue the same held-out queries, and a judge says which continuation is better.
//
//   automatic  a labeler (reward model, lexicon, token count) scores A's and B's k-th response to each
//              query; the pair is a win for A when A's score is higher, a tie (half a win) when equal.
//   people     the responses are exported as questions in OpenAI's label schema (`rlhf label` answers
//              them): 2-way = one sample of each policy, 4-way = two of each (the paper's design: y0, y1
//              from one policy, y2, y3 from the other), in a seeded random order per question, with a key
//              file that records which policy each sample came from. The answers are read back with the
//              key; choosing a sample of A is a win for A.
//
// Sampling is the PPO/eval rollout: the task's response length and temperature, exactly that many
// tokens (no stop at end-of-text), truncation after the first truncate token at or past
// truncate_after, and the penalty score for responses without one. Both policies are sampled after
// seeding the generators with the same seed, so two copies of one policy give identical responses.
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/data/labels.h"
#include "rlhf/data/queries.h"
#include "rlhf/eval/policy_eval.h"
#include "rlhf/model/gpt2.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/ppo/rewards.h"

namespace rlhf::tokenizer {
class Tokenizer;
}

namespace rlhf::eval {

// ---- Win rates ------------------------------------------------------------------------------------

// A's record against B. A tie counts half a win, so rate = (wins + ties / 2) / compared.
struct WinRate {
  std::size_t wins = 0, ties = 0, losses = 0;
  double rate = 0;     // A's win rate
  double stderr_ = 0;  // binomial standard error sqrt(rate (1 - rate) / compared)
  double ci_low = 0;   // 95% Wilson score interval of the rate
  double ci_high = 0;
  std::size_t compared() const { return wins + ties + losses; }
  nlohmann::ordered_json to_json() const;
};

// Throws rlhf::Error when there is nothing to count.
WinRate win_rate(std::size_t wins, std::size_t ties, std::size_t losses);

// The automatic judge's verdict on scores paired by query and draw: a[q * n + k] and b[q * n + k] are
// the scores of A's and B's k-th response to query q (n = samples_per_query).
struct JudgeVerdict {
  WinRate win;       // over the Q * n pairs (with n > 1 the pairs of one query are not independent, so
                     // the interval is somewhat too narrow)
  Stats score_a;     // over the Q * n responses of A
  Stats score_b;     // ... of B
  Stats difference;  // per query: mean_k a - mean_k b (paired, so its standard error is over queries)
  std::size_t queries = 0, samples_per_query = 0;
  nlohmann::ordered_json to_json() const;
};

// Throws rlhf::Error when the sizes differ, are empty or are not a multiple of samples_per_query, or
// a score is not finite.
JudgeVerdict judge_scores(const std::vector<double>& a, const std::vector<double>& b, std::size_t samples_per_query);

// ---- Sampling and judging -------------------------------------------------------------------------

struct CompareOptions {
  int response_length = 24;
  double temperature = 0.7;
  ppo::TruncationOptions truncation;  // and the penalty score
  bool apply_penalty = true;          // the judge's score of a response without a truncate token is the
                                      // penalty, as PPO and `rlhf train`'s evaluation score it
  int batch_size = 64;                // rows sampled (and judged) together
  int samples_per_query = 1;          // responses of each policy to each query
  std::uint64_t seed = 1;             // the same for both policies
};

// Responses of one policy, row r = q * samples_per_query + k for query q and draw k. CPU tensors.
struct PolicyResponses {
  at::Tensor query;      // int64 [R, Tq]: the raw padded queries (what the judge and the questions hold)
  at::Tensor processed;  // int64 [R, N]: the truncated responses (pad_id after the truncate token)
};

// Samples `policy` (on its device, in its precision) on queries[indices]. Seeds the default
// generators with options.seed first, so the result is a function of the seed and the policy.
PolicyResponses sample_responses(model::Gpt2Impl& policy, const data::QueryDataset& queries,
                                 const std::vector<std::size_t>& indices, const CompareOptions& options);

// The judge's score of every row (on `device`, batch_size rows at a time), with the penalty applied
// when options.apply_penalty. Throws rlhf::Error naming the judge for a score that is not finite.
std::vector<double> judge_responses(ppo::RewardFunction& judge, const PolicyResponses& responses,
                                    const CompareOptions& options, const at::Device& device);

// Row r's response (or query) decoded, pads dropped, invalid UTF-8 replaced.
std::string response_text(const PolicyResponses& r, std::size_t row, const tokenizer::Tokenizer& tokenizer, int pad_id);
std::string query_text(const PolicyResponses& r, std::size_t row, const tokenizer::Tokenizer& tokenizer, int pad_id);

// ---- Questions for people -------------------------------------------------------------------------

// Which policy each sample of each exported question came from, and everything needed to check that
// answers belong to these questions. Written next to the questions as QUESTIONS.key.json.
struct ComparisonKey {
  std::string policy_a, policy_b;  // as given on the command line
  std::uint64_t seed = 0;          // of the sampling and of the shuffle
  int way = 2;                     // samples per question: 2 or 4
  int pad_id = data::kOpenAiPad;
  std::string questions_file;               // the questions file written with the key
  std::vector<data::Comparison> questions;  // as written (best = -1)
  std::vector<std::string> sources;         // per question, one letter per sample: 'A' or 'B' ("BAAB")
};

// One question per query: samples 0 .. way/2 - 1 of each policy, shuffled per question with Python's
// random.shuffle on one generator seeded with `seed` (data::PythonRandom), so the order is
// reproducible anywhere. Needs samples_per_query >= way / 2 in both (checked).
ComparisonKey make_comparison_questions(const PolicyResponses& a, const PolicyResponses& b,
                                        std::size_t samples_per_query, int way, std::uint64_t seed, int pad_id);

// QUESTIONS + ".key.json".
std::filesystem::path key_path(const std::filesystem::path& questions_file);

// Writes the questions (OpenAI schema without best), their text rendering (.txt beside them) and the
// key (QUESTIONS.key.json), each atomically. Sets key.questions_file.
void export_questions(const std::filesystem::path& questions_file, ComparisonKey& key,
                      const tokenizer::Tokenizer& tokenizer);

void write_key(const std::filesystem::path& path, const ComparisonKey& key);
// Throws rlhf::Error naming the file and the field (and question) for a key that is malformed.
ComparisonKey read_key(const std::filesystem::path& path);

// People's verdict: the answered questions (labels with best; skipped questions are absent, as
// `rlhf label` writes them), matched to the key's questions by content (query and samples in order,
// pads dropped), in any order. Choosing a sample of A is a win for A, of B a loss; choosing a sample
// whose text also is a sample of the other policy in that question is a tie.
struct PeopleVerdict {
  WinRate win;
  std::size_t questions = 0;  // in the key
  std::size_t answered = 0;   // answers read (the rest were skipped or not answered yet)
  nlohmann::ordered_json to_json() const;
};

// Throws rlhf::Error naming `answers_name`, the record and its query ids for an answer that matches
// no question of the key (or matches one more often than the key holds it), naming `key_name` too.
PeopleVerdict tally_answers(const ComparisonKey& key, const std::vector<data::Comparison>& answers,
                            const std::string& answers_name, const std::string& key_name);

}  // namespace rlhf::eval
