// Mock labelers (paper-spec: the mock sentiment experiments): programs that answer best-of-N
// questions in place of a person. Each one is a score for (query, response) pairs, so the same object
// serves as a labeler (best = argmax of the scores, with optional noise) and as a direct programmatic
// reward for PPO (the paper's "direct access to the reward" baseline).
//   lexicon       configs/sentiment-lexicon.json scores the decoded RESPONSE text (not the query)
//   reward_model  a trained reward model (`rlhf train-reward`) acts as the person
//   token_count   occurrences of one token id in the response (tests, demos)
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rlhf/config/constraints.h"
#include "rlhf/core/runtime.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/lexicon.h"
#include "rlhf/ppo/reward_function.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::labelers {

struct LabelerOptions {
  std::string kind = "lexicon";                            // lexicon | reward_model | token_count
  std::string lexicon = "configs/sentiment-lexicon.json";  // kind = lexicon: the word list
  std::string model_dir;                                   // kind = reward_model: written by `rlhf train-reward`
  int token = -1;                                          // kind = token_count: the counted token id
  double noise = 0.0;  // labeling only: probability that an answer is a uniformly random index instead of the best

  template <class V>
  void visit(V& v) {
    v.field("kind", kind,
            "lexicon (weighted word list on the response text) | reward_model (a trained reward model) | "
            "token_count (occurrences of `token` in the response) | person (rlhf train pauses each round for a "
            "person's answers, given with `rlhf label`; labels only, never a reward)",
            config::OneOf{{"lexicon", "reward_model", "token_count", "person"}});
    v.field("lexicon", lexicon, "kind = lexicon: the lexicon JSON file (see configs/sentiment-lexicon.json)");
    v.field("model_dir", model_dir, "kind = reward_model: reward model directory written by `rlhf train-reward`");
    v.field("token", token, "kind = token_count: the token id whose occurrences are the score",
            config::Range::at_least(-1));
    v.field("noise", noise,
            "Probability that an answer is a uniformly random sample index instead of the best (labeling only)",
            config::Range::between(0.0, 1.0));
  }
  void check() const;  // the fields the kind needs are set
};

// Scores the decoded response text with a lexicon. query: [B, Tq], response: [B, Tr] int64 ids; pads
// (pad_id) are dropped before decoding. Returns fp32 [B] on the query's device.
class LexiconReward : public ppo::RewardFunction {
 public:
  LexiconReward(Lexicon lexicon, std::string source, std::shared_ptr<const tokenizer::Tokenizer> tokenizer, int pad_id);
  at::Tensor score(const at::Tensor& query, const at::Tensor& response) override;
  std::string name() const override { return "lexicon " + source_; }

 private:
  Lexicon lexicon_;
  std::string source_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  int pad_id_;
};

// The labeler's score as a PPO reward (query [B, Tq] raw padded ids, response [B, Tr] postprocessed
// ids -> fp32 [B]). `tokenizer` is needed by text labelers (lexicon) only; a null one is then an error.
// `noise` plays no part here (see choose_best).
std::unique_ptr<ppo::RewardFunction> make_labeler_reward(const LabelerOptions& options, const core::Runtime& runtime,
                                                         int pad_id,
                                                         std::shared_ptr<const tokenizer::Tokenizer> tokenizer);

// best = argmax of each row of `scores` (fp [B, N]; ties: one of the tied indices, uniformly); with probability `noise`
// a uniformly random index in [0, N) instead (which may be the argmax). Deterministic given `seed`, and
// coupled across noise levels: each row draws the same two numbers whatever `noise` is, so a higher
// noise only turns more rows random. A NaN score is an error naming the row.
std::vector<int> choose_best(const at::Tensor& scores, double noise, std::uint64_t seed);

// Fills `best` of every item by scoring each (query, sample) pair with `labeler` in batches (rows
// right-padded with pad_id, placed on `device`, the labeler's device) and calling choose_best, and
// records what the labeler saw in the item (labeler_scores, labeler_noise: the accuracy ceiling of
// data/ceiling.h). Every item must have the same N >= 2 samples. Returns the scores, fp32 [B, N] on
// the CPU.
at::Tensor label_comparisons(std::vector<data::Comparison>& items, ppo::RewardFunction& labeler, double noise,
                             std::uint64_t seed, int pad_id, const at::Device& device = at::kCPU);

}  // namespace rlhf::labelers
