#include "rlhf/ppo/kl_controller.h"

#include <algorithm>

#include "rlhf/util/error.h"

namespace rlhf::ppo {

void KlController::update(double kl, double n_steps) {
  if (!options_.adaptive) return;
  const double error = std::clamp(kl / options_.target - 1.0, -0.2, 0.2);
  value_ *= 1.0 + error * n_steps / options_.horizon;
}

nlohmann::json KlController::state() const {
  return {{"adaptive", options_.adaptive}, {"value", value_}};
}

void KlController::load_state(const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("value") || !state["value"].is_number()) {
    throw Error("KL controller state: expected an object with a numeric \"value\", got " + state.dump());
  }
  value_ = state["value"].get<double>();
}

}  // namespace rlhf::ppo
