// Dynamic loss scaling for fp16 training (runtime.train_precision = fp16), as PyTorch's GradScaler:
// fp16 flushes gradients below 6e-8 to zero, so the loss is multiplied by `scale` before backward and
// the gradients divided by it again before clipping and the optimizer step. A step whose gradients
// hold Inf or NaN (the scale was too large) is skipped and the scale backs off; after
// growth_interval clean steps in a row it grows. bf16 and fp32 need none: a disabled scaler has
// scale 1 and never skips.
//
// The trainers' NaN/Inf guards (guards.on_nonfinite) see only what scaling cannot explain: a
// non-finite loss (computed in fp32, before any scaling), or a non-finite gradient at min_scale.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace rlhf::optim {

struct LossScalerOptions {
  bool enabled = false;
  double init_scale = 65536.0;  // 2^16, GradScaler's default
  double growth_factor = 2.0;   // after growth_interval clean steps in a row
  double backoff_factor = 0.5;  // after a step with non-finite gradients
  int growth_interval = 2000;   // GradScaler's default
  double min_scale = 1.0;       // overflowing at scale 1 is not an overflow that scaling causes
};

class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions options = {});

  bool enabled() const { return options_.enabled; }
  double scale() const { return options_.enabled ? scale_ : 1.0; }
  // The loss to call backward on: loss * scale (the loss itself when disabled).
  at::Tensor scale_loss(const at::Tensor& loss) const;
  // Divides every defined gradient by the scale, in place (nothing when disabled).
  void unscale(const std::vector<std::pair<std::string, at::Tensor>>& params) const;

  // Whether a step with these (unscaled) gradients' finiteness is an overflow the scaler handles:
  // enabled, non-finite, and the scale still above min_scale.
  bool is_overflow(bool gradients_finite) const;
  // Records one step's outcome after unscale. Non-finite: the step is skipped (the caller must not
  // apply it), the scale multiplies by backoff_factor (not below min_scale) and the clean-step count
  // restarts. Finite: the count grows, and at growth_interval the scale multiplies by growth_factor.
  // Returns whether the step is to be applied. Disabled: always true, nothing changes.
  bool update(bool gradients_finite);

  std::int64_t skipped_steps() const { return skipped_; }
  std::int64_t clean_steps() const { return clean_; }

  // {"scale", "clean_steps", "skipped_steps"} for checkpoints, and back (throws rlhf::Error when malformed).
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  LossScalerOptions options_;
  double scale_;
  std::int64_t clean_ = 0;    // clean steps since the last growth or backoff
  std::int64_t skipped_ = 0;  // steps skipped for overflow, over the run
};

// Whether every defined gradient of `params` is finite (one device-to-host copy).
bool gradients_finite(const std::vector<std::pair<std::string, at::Tensor>>& params);

}  // namespace rlhf::optim
