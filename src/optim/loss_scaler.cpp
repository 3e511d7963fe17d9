#include "rlhf/optim/loss_scaler.h"

#include <algorithm>
#include <cmath>

#include "rlhf/util/error.h"

namespace rlhf::optim {

LossScaler::LossScaler(LossScalerOptions options) : options_(options), scale_(options.init_scale) {
  if (!(options_.init_scale > 0 && options_.growth_factor > 1 && options_.backoff_factor > 0 &&
        options_.backoff_factor < 1 && options_.growth_interval >= 1 && options_.min_scale > 0)) {
    throw Error("loss scaler: need init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1, growth_interval >= 1 "
                "and min_scale > 0");
  }
}

at::Tensor LossScaler::scale_loss(const at::Tensor& loss) const {
  return options_.enabled ? loss * scale_ : loss;
}

void LossScaler::unscale(const std::vector<std::pair<std::string, at::Tensor>>& params) const {
  if (!options_.enabled) return;
  at::NoGradGuard no_grad;
  const double inverse = 1.0 / scale_;  // a power of two with the default factors: exact
  for (const auto& [name, p] : params) {
    if (p.grad().defined()) p.grad().mul_(inverse);
  }
}

bool LossScaler::is_overflow(bool finite) const {
  return options_.enabled && !finite && scale_ > options_.min_scale;
}

bool LossScaler::update(bool finite) {
  if (!options_.enabled) return true;
  if (!finite) {
    scale_ = std::max(options_.min_scale, scale_ * options_.backoff_factor);
    clean_ = 0;
    ++skipped_;
    return false;
  }
  if (++clean_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    clean_ = 0;
  }
  return true;
}

nlohmann::json LossScaler::state() const {
  return {{"scale", scale_}, {"clean_steps", clean_}, {"skipped_steps", skipped_}};
}

void LossScaler::load_state(const nlohmann::json& state) {
  try {
    const double s = state.at("scale").get<double>();
    if (!(s > 0 && std::isfinite(s))) throw Error("loss scaler state: scale must be finite and > 0");
    scale_ = s;
    clean_ = state.at("clean_steps").get<std::int64_t>();
    skipped_ = state.at("skipped_steps").get<std::int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("loss scaler state: expected {scale, clean_steps, skipped_steps}: ") + e.what());
  }
}

bool gradients_finite(const std::vector<std::pair<std::string, at::Tensor>>& params) {
  std::vector<at::Tensor> flags;
  for (const auto& [name, p] : params) {
    if (p.grad().defined()) flags.push_back(p.grad().isfinite().all());
  }
  return flags.empty() || at::stack(flags).all().item<bool>();
}

}  // namespace rlhf::optim
