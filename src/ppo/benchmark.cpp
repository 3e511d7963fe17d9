#include "rlhf/ppo/benchmark.h"

#include <spdlog/spdlog.h>

#include "rlhf/core/cuda_device.h"
#include "rlhf/core/torch_compat.h"
#include "rlhf/ppo/trainer.h"

namespace rlhf::ppo {
namespace {

// A reward model of the policy's shape with random weights: GPT-2 over query + response, a linear
// head on the hidden state of the last real token (pads take the last real token's state).
class RandomRewardModel : public RewardFunction {
 public:
  RandomRewardModel(const model::Gpt2Config& config, const core::Runtime& runtime, int pad_id)
      : trunk_(config), head_(at::randn({config.n_embd}) / std::sqrt(config.n_embd + 1.0)), pad_id_(pad_id) {
    trunk_->to(runtime.device, core::precision_dtype(runtime.precision));
    trunk_->eval();
    head_ = head_.to(runtime.device, core::precision_dtype(runtime.precision));
  }
  at::Tensor score(const at::Tensor& query, const at::Tensor& response) override {
    at::NoGradGuard no_grad;
    const at::Tensor ids = at::cat({query, response}, 1);
    const at::Tensor mask = ids.ne(pad_id_);
    const at::Tensor hidden = trunk_->forward(ids, mask, model::positions_from_mask(mask));  // [B, T, C]
    return at::matmul(hidden.select(1, ids.size(1) - 1), head_).to(at::kFloat);
  }
  std::string name() const override { return "random reward model"; }

 private:
  model::Gpt2 trunk_;
  at::Tensor head_;
  int pad_id_;
};

// Right-padded random queries, a function of the batch index alone.
QuerySource random_queries(int vocab, int query_length, int pad_id) {
  return [=](std::int64_t batch_index, std::int64_t batch_size, const at::Device& device) {
    at::Generator generator = at::detail::createCPUGenerator(1000003ULL * static_cast<std::uint64_t>(batch_index) + 17);
    const at::Tensor tokens = at::randint(vocab, {batch_size, query_length}, generator, at::kLong);
    const at::Tensor lengths =
        at::randint(query_length / 2 + 1, query_length + 1, {batch_size, 1}, generator, at::kLong);
    const at::Tensor index = at::arange(query_length, at::kLong).unsqueeze(0);
    QueryBatch out;
    out.query = tokens.masked_fill(index.ge(lengths), pad_id).to(device);
    out.context = out.query;
    out.context_mask = out.context.ne(pad_id);
    return out;
  };
}

}  // namespace

nlohmann::ordered_json benchmark(const model::Gpt2Config& config, const BenchmarkOptions& o,
                                 const core::Runtime& runtime) {
  TrainPolicyConfig c;
  const int pad_id = 50259;
  c.task.queries.pad_id = pad_id;
  c.task.queries.query_length = o.query_length;
  c.task.response_length = o.response_length;
  c.task.temperature = 0.7;
  c.task.truncate_token = o.response_length > 16 ? 13 : -1;  // the books rule when it fits
  c.task.truncate_after = 16;
  c.reward.kind = "token_count";
  c.reward.token = 13;
  c.ppo.batch_size = o.batch_size;
  c.ppo.nminibatches = o.nminibatches;
  c.ppo.noptepochs = o.noptepochs;
  c.ppo.microbatch_size = o.microbatch_size;
  c.ppo.whiten_rewards = o.batch_size / o.nminibatches >= 8;
  c.ppo.total_episodes = static_cast<std::int64_t>(o.batch_size) * (o.warmup + o.batches);
  c.runtime.seed = static_cast<std::int64_t>(runtime.seed);

  compat::manual_seed(runtime.seed);
  PpoParts parts;
  parts.policy = Policy(model::Gpt2(config));
  parts.reference = model::Gpt2(config);
  {
    at::NoGradGuard no_grad;
    auto source = parts.policy->trunk->named_parameters();
    for (auto& item : parts.reference->named_parameters()) item.value().copy_(*source.find(item.key()));
  }
  if (o.reward_model) {
    parts.reward = std::make_unique<RandomRewardModel>(config, runtime, pad_id);
  } else {
    parts.reward = std::make_unique<TokenCountReward>(13);
  }
  parts.queries = random_queries(config.vocab_size, o.query_length, pad_id);
  PpoTrainer trainer(c, runtime, std::move(parts));

  for (int i = 0; i < o.warmup; ++i) trainer.train_batch();
  trainer.forbid_host_sync(o.forbid_sync);
  core::reset_peak_memory(runtime.device);
  double sample = 0, policy = 0, reference = 0, reward = 0, train = 0, total = 0;
  for (int i = 0; i < o.batches; ++i) {
    const auto m = trainer.train_batch();
    const auto& t = m["time"];
    sample += t["sample"].get<double>();
    policy += t["policy"].get<double>();
    reference += t["reference"].get<double>();
    reward += t["reward"].get<double>();
    train += t["train"].get<double>();
    total += t["total"].get<double>();
  }
  const core::PeakMemory memory = core::peak_memory(runtime.device);
  const double n = std::max(1, o.batches);
  const double per_batch = total / n;
  nlohmann::ordered_json out;
  out["model"] = {{"n_layer", config.n_layer},         {"n_head", config.n_head},
                  {"n_embd", config.n_embd},           {"vocab_size", config.vocab_size},
                  {"n_positions", config.n_positions}, {"parameters", model::gpt2_parameter_count(config)}};
  out["options"] = {{"batch_size", o.batch_size},
                    {"query_length", o.query_length},
                    {"response_length", o.response_length},
                    {"microbatch_size", o.microbatch_size},
                    {"nminibatches", o.nminibatches},
                    {"noptepochs", o.noptepochs},
                    {"batches", o.batches},
                    {"reward_model", o.reward_model},
                    {"forbid_sync", o.forbid_sync},
                    {"device", runtime.device.str()},
                    {"threads", runtime.threads},
                    {"precision", core::precision_dtype(runtime.precision) == at::kFloat ? "fp32" : "reduced"}};
  out["episodes_per_s"] = o.batch_size / per_batch;
  out["tokens_per_s"] = static_cast<double>(o.batch_size) * o.response_length / per_batch;
  out["seconds_per_batch"] = per_batch;
  out["peak_memory"] = core::peak_memory_json(memory);
  const double other = std::max(0.0, total - sample - policy - reference - reward - train);
  out["breakdown_s"] = {{"sample", sample / n}, {"policy_forward", policy / n}, {"reference", reference / n},
                        {"reward", reward / n}, {"train", train / n},           {"other", other / n}};
  nlohmann::ordered_json fraction;
  for (const auto& [key, value] : out["breakdown_s"].items()) fraction[key] = value.get<double>() / per_batch;
  out["breakdown_fraction"] = fraction;
  return out;
}

}  // namespace rlhf::ppo
