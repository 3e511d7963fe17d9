// The RewardFunction backed by a reward model directory written by `rlhf train-reward`: no autograd,
// the runtime's device and precision, scored in chunks so a whole PPO batch never runs at once.
#include <spdlog/spdlog.h>

#include "rlhf/ppo/reward_function.h"
#include "rlhf/reward/reward_model.h"
#include "rlhf/util/error.h"

namespace rlhf::ppo {
namespace {

class RewardModelFunction : public RewardFunction {
 public:
  RewardModelFunction(reward::RewardModel model, std::string dir, int pad_id, std::int64_t chunk)
      : model_(std::move(model)), dir_(std::move(dir)), pad_id_(pad_id), chunk_(chunk) {}

  at::Tensor score(const at::Tensor& query, const at::Tensor& response) override {
    at::NoGradGuard no_grad;
    const auto B = query.size(0);
    std::vector<at::Tensor> parts;
    for (std::int64_t start = 0; start < B; start += chunk_) {
      const auto n = std::min(chunk_, B - start);
      parts.push_back(model_->score(query.narrow(0, start, n), response.narrow(0, start, n), pad_id_));
    }
    return at::cat(parts).to(query.device(), at::kFloat);
  }
  std::string name() const override { return "reward model " + dir_; }

 private:
  reward::RewardModel model_;
  std::string dir_;
  int pad_id_;
  std::int64_t chunk_;
};

}  // namespace

std::unique_ptr<RewardFunction> load_reward_model_function(const std::string& dir, const core::Runtime& runtime,
                                                           int pad_id) {
  nlohmann::json info;
  reward::RewardModel model = reward::load_reward_model(dir, &info);
  if (info.contains("pad_id") && info["pad_id"].is_number_integer() && info["pad_id"].get<int>() != pad_id) {
    spdlog::warn(
        "reward model {} was trained with pad id {}; the queries use {} (both are masked when outside "
        "the vocabulary)",
        dir, info["pad_id"].get<int>(), pad_id);
  }
  const at::ScalarType dtype = core::precision_dtype(runtime.precision);
  if (dtype == at::kHalf && runtime.device.is_cpu()) {
    throw Error("precision: fp16 is not supported on the CPU (use fp32 or bf16)");
  }
  model->to(runtime.device, dtype);
  model->eval();
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  return std::make_unique<RewardModelFunction>(std::move(model), dir, pad_id, /*chunk=*/64);
}

}  // namespace rlhf::ppo
