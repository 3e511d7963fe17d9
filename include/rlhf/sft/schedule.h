// The learning-rate schedule of supervised fine-tuning: linear warm-up from 0, then cosine or linear
// decay to 0 over the rest of the run, or constant.
#pragma once

#include <cstdint>
#include <string>

namespace rlhf::sft {

// The learning rate of optimizer step `step` (0-based) of `total_steps`:
//   step < warmup:  peak * (step + 1) / warmup                 (the last warm-up step reaches peak)
//   afterwards, with progress p = (step - warmup) / (total_steps - warmup) in [0, 1):
//     cosine    peak * (1 + cos(pi * p)) / 2
//     linear    peak * (1 - p)
//     constant  peak
// The decay reaches 0 at step total_steps, one past the last step taken, as Hugging Face's schedules do.
// Throws rlhf::Error for an unknown schedule name.
double scheduled_lr(const std::string& schedule, double peak, std::int64_t warmup_steps, std::int64_t total_steps,
                    std::int64_t step);

}  // namespace rlhf::sft
