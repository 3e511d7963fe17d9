#include "rlhf/reward/reward_model.h"

#include <cmath>

#include "rlhf/model/batching.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::reward {
namespace fs = std::filesystem;

namespace {
constexpr int kFormatVersion = 1;
constexpr const char* kInfoFile = "reward_model.json";
}  // namespace

RewardModelImpl::RewardModelImpl(model::Gpt2 trunk_model) {
  trunk = register_module("trunk", std::move(trunk_model));
  const auto C = trunk->config().n_embd;
  head = register_module("head", torch::nn::Linear(C, 1));
  gain = register_parameter("gain", at::ones({}));
  bias = register_parameter("bias", at::zeros({}));
  init_head();
}

void RewardModelImpl::init_head() {
  at::NoGradGuard no_grad;
  const double std = 1.0 / std::sqrt(static_cast<double>(trunk->config().n_embd) + 1.0);
  head->weight.normal_(0.0, std);
  head->bias.zero_();
  reset_normalization();
}

void RewardModelImpl::reset_normalization() {
  at::NoGradGuard no_grad;
  gain.fill_(1.0);
  bias.fill_(0.0);
}

void RewardModelImpl::set_normalization(double raw_mean, double raw_std) {
  if (!(raw_std > 0.0) || !std::isfinite(raw_mean)) {
    throw Error("reward normalisation: the sampled rewards have std " + std::to_string(raw_std) + " and mean " +
                std::to_string(raw_mean) + "; cannot scale them to std 1");
  }
  at::NoGradGuard no_grad;
  gain.fill_(1.0 / raw_std);
  bias.fill_(-raw_mean / raw_std);
}

at::Tensor RewardModelImpl::forward(const at::Tensor& ids, const at::Tensor& mask) {
  const at::Tensor real = mask.to(at::kBool);  // [B, T]
  const auto T = ids.size(1);
  const std::int64_t context = trunk->config().n_positions;
  if (T > context) {
    // Wider than the context is fine as long as the real tokens fit (pads take no position).
    const auto longest = real.sum(1).max().item<std::int64_t>();
    if (longest > context) {
      throw Error("reward model: a sequence has " + std::to_string(longest) + " real tokens, more than the model's " +
                  "context of " + std::to_string(context));
    }
  }
  // Pads after the last fitting real token would get position `context`; their value never matters.
  const at::Tensor positions = model::positions_from_mask(real).clamp_max(context - 1);
  const at::Tensor hidden = trunk->forward(ids, real, positions);  // [B, T, C]
  // Read at each row's last real token explicitly (the trunk also copies it into trailing pads).
  const at::Tensor last_index = model::last_real_index(real).select(1, T - 1);  // [B]
  const at::Tensor last =
      hidden.gather(1, last_index.view({-1, 1, 1}).expand({hidden.size(0), 1, hidden.size(2)})).squeeze(1);  // [B, C]
  const at::Tensor raw = head->forward(last.to(head->weight.scalar_type())).squeeze(-1).to(at::kFloat);      // [B]
  return raw * gain.to(at::kFloat) + bias.to(at::kFloat);
}

at::Tensor RewardModelImpl::score(const at::Tensor& query, const at::Tensor& response, std::int64_t pad_id) {
  const at::Tensor ids = at::cat({query, response}, 1);
  const at::Tensor mask = model::real_token_mask(ids, pad_id, trunk->config().vocab_size);
  return forward(ids, mask);
}

at::Tensor comparison_loss(const at::Tensor& rewards, const at::Tensor& best) {
  const at::Tensor logp = rewards.to(at::kFloat).log_softmax(-1);  // [B, N]
  return -logp.gather(1, best.view({-1, 1})).mean();
}

RewardModel make_reward_model(const fs::path& pretrained_dir) {
  return RewardModel(model::load_gpt2(pretrained_dir));
}

void save_reward_model(RewardModelImpl& model, const fs::path& dir, const tokenizer::Tokenizer& tokenizer,
                       nlohmann::json info, const std::map<std::string, std::string>& extra_files) {
  info["format"] = "rlhf-reward-model";
  info["format_version"] = kFormatVersion;
  info["gain"] = model.gain.item<double>();
  info["bias"] = model.bias.item<double>();
  const std::map<std::string, at::Tensor> extra = {
      {"reward_head.weight", model.head->weight.detach()},
      {"reward_head.bias", model.head->bias.detach()},
      {"reward_gain", model.gain.detach()},
      {"reward_bias", model.bias.detach()},
  };
  // reward_model.json goes into the same staged directory, so the whole directory appears at once.
  model::SaveOptions options;
  options.metadata["rlhf"] = "reward-model";
  options.extra_files = extra_files;
  options.extra_files[kInfoFile] = info.dump(2) + "\n";
  model::save_gpt2(*model.trunk, dir, &tokenizer, extra, options);
}

RewardModel load_reward_model(const fs::path& dir, nlohmann::json* info_out) {
  const fs::path info_path = dir / kInfoFile;
  std::error_code ec;
  if (!fs::exists(info_path, ec)) {
    throw_file_error(info_path.string(), "not found: " + dir.string() +
                                             " is not a reward-model directory (make one with rlhf train-reward)");
  }
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(read_text_file(info_path));
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(info_path.string(), std::string("invalid JSON: ") + e.what());
  }
  if (!info.is_object() || info.value("format", "") != "rlhf-reward-model") {
    throw_file_error(info_path.string(), "format: expected \"rlhf-reward-model\"");
  }
  if (!info.contains("format_version") || !info["format_version"].is_number_integer() ||
      info["format_version"].get<int>() > kFormatVersion) {
    throw_file_error(info_path.string(), "format_version: expected an integer <= " + std::to_string(kFormatVersion));
  }
  std::map<std::string, at::Tensor> extra;
  model::Gpt2 trunk = model::load_gpt2(dir, &extra);
  RewardModel model(trunk);
  const fs::path weights = model::find_weights_file(dir);
  auto take = [&](const std::string& name, const at::Tensor& into) {
    const auto it = extra.find(name);
    if (it == extra.end()) throw_file_error(weights.string(), "missing tensor " + name + " (not a reward model?)");
    if (it->second.numel() != into.numel()) {
      throw_file_error(weights.string(), "tensor " + name + ": expected " + std::to_string(into.numel()) +
                                             " values, got " + std::to_string(it->second.numel()));
    }
    at::NoGradGuard no_grad;
    into.copy_(it->second.reshape(into.sizes()).to(into.scalar_type()));
  };
  take("reward_head.weight", model->head->weight);
  take("reward_head.bias", model->head->bias);
  take("reward_gain", model->gain);
  take("reward_bias", model->bias);
  model->eval();
  if (info_out != nullptr) *info_out = info;
  return model;
}

}  // namespace rlhf::reward
