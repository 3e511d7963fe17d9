// What PPO maximizes: a score for each (query, response) pair. Either a reward model trained by
// `rlhf train-reward` (reward.kind = "model") or a programmatic reward (the mock labelers implement
// this interface; `token_count` is a simple built-in for tests and demos).
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "rlhf/config/constraints.h"
#include "rlhf/core/runtime.h"

namespace rlhf::tokenizer {
class Tokenizer;
}

namespace rlhf::ppo {

class RewardFunction {
 public:
  virtual ~RewardFunction() = default;
  // query: int64 [B, Tq] raw (padded with pad_id, no prefix or suffix); response: int64 [B, Tr]
  // postprocessed (pads after truncation). Returns fp32 [B] on the query's device. Called without
  // autograd.
  virtual at::Tensor score(const at::Tensor& query, const at::Tensor& response) = 0;
  virtual std::string name() const = 0;
};

// score = occurrences of `token` in the response (pads never count).
class TokenCountReward : public RewardFunction {
 public:
  explicit TokenCountReward(int token) : token_(token) {}
  at::Tensor score(const at::Tensor& query, const at::Tensor& response) override;
  std::string name() const override { return "token_count(" + std::to_string(token_) + ")"; }

 private:
  int token_;
};

struct RewardOptions {
  std::string kind = "model";  // model | token_count | lexicon
  std::string model_dir;       // kind = model: a directory written by `rlhf train-reward`
  int token = -1;              // kind = token_count: the token id whose occurrences are the score
  std::string lexicon = "configs/sentiment-lexicon.json";  // kind = lexicon: the mock labeler's word list

  template <class V>
  void visit(V& v) {
    v.field("kind", kind,
            "model (a trained reward model) | token_count (occurrences of `token` in the response) | lexicon "
            "(the mock sentiment labeler's score of the response text: direct access to the reward)",
            config::OneOf{{"model", "token_count", "lexicon"}});
    v.field("model_dir", model_dir, "kind = model: reward model directory written by `rlhf train-reward`");
    v.field("token", token, "kind = token_count: the token id whose occurrences are the score",
            config::Range::at_least(-1));
    v.field("lexicon", lexicon, "kind = lexicon: the lexicon JSON file (see configs/sentiment-lexicon.json)");
  }
  void check() const;  // the fields the kind needs are set
};

// A trained reward model on the runtime's device, run without autograd in the runtime's precision.
// `pad_id` is the id the queries and the truncated responses are padded with. Defined in
// reward_model_function.cpp.
std::unique_ptr<RewardFunction> load_reward_model_function(const std::string& dir, const core::Runtime& runtime,
                                                           int pad_id);

// The reward function the options describe. Text rewards (lexicon) decode responses with `tokenizer`
// (the policy's); the others do not need it.
std::unique_ptr<RewardFunction> make_reward_function(const RewardOptions& options, const core::Runtime& runtime,
                                                     int pad_id,
                                                     std::shared_ptr<const tokenizer::Tokenizer> tokenizer = nullptr);

}  // namespace rlhf::ppo
