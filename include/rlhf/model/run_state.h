// What every resumable trainer (PPO, SFT) saves besides its weights and optimizer: the random
// generators, so a resumed run draws what a straight one would; and the guard that keeps a damaged
// model out of any checkpoint.
#pragma once

#include <torch/nn/module.h>

#include <exception>
#include <filesystem>
#include <string>

namespace rlhf::optim {
class Adam;
}

namespace rlhf::model {

// Adam's step and moments from a tensor file; an error (a missing or misshapen tensor) names the file.
void load_optimizer_state(optim::Adam& adam, const std::filesystem::path& file);

// The message of a JSON library error without its "[json.exception.type_error.302] " prefix.
std::string json_error_summary(const std::exception& e);

// Every default generator's state (CPU as "cpu", each CUDA device as "cuda.N") into a tensor file
// whose metadata carries `format`; and back.
void save_generator_states(const std::filesystem::path& path, const std::string& format);
void restore_generator_states(const std::filesystem::path& path);

// Throws rlhf::Error "checkpoint: parameter NAME holds NaN or Inf; not saved" for the first such one.
void check_finite_parameters(const torch::nn::Module& module);

}  // namespace rlhf::model
