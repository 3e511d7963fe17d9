// What every resumable trainer (PPO, SFT) saves besides its weights and optimizer: the random
// generators, so a resumed run draws what a straight one would; and the guard that keeps a damaged
// model out of any checkpoint.
#pragma once

#include <torch/nn/module.h>

#include <filesystem>
#include <string>

namespace rlhf::model {

// Every default generator's state (CPU as "cpu", each CUDA device as "cuda.N") into a tensor file
// whose metadata carries `format`; and back.
void save_generator_states(const std::filesystem::path& path, const std::string& format);
void restore_generator_states(const std::filesystem::path& path);

// Throws rlhf::Error "checkpoint: parameter NAME holds NaN or Inf; not saved" for the first such one.
void check_finite_parameters(const torch::nn::Module& module);

}  // namespace rlhf::model
