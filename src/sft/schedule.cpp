#include "rlhf/sft/schedule.h"

#include <algorithm>
#include <cmath>

#include "rlhf/util/error.h"

namespace rlhf::sft {

double scheduled_lr(const std::string& schedule, double peak, std::int64_t warmup_steps, std::int64_t total_steps,
                    std::int64_t step) {
  if (schedule != "cosine" && schedule != "linear" && schedule != "constant") {
    throw Error("training.schedule: expected cosine, linear or constant, got \"" + schedule + "\"");
  }
  if (step < warmup_steps) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (schedule == "constant") return peak;
  const double span = static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps));
  const double progress = std::clamp(static_cast<double>(step - warmup_steps) / span, 0.0, 1.0);
  if (schedule == "linear") return peak * (1.0 - progress);
  return peak * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace rlhf::sft
