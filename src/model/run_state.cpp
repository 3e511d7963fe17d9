#include "rlhf/model/run_state.h"

#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/optim/adam.h"
#include "rlhf/util/error.h"

namespace rlhf::model {

void load_optimizer_state(optim::Adam& adam, const std::filesystem::path& file) {
  auto tensors = read_tensor_map(file);  // names the file itself when unreadable
  try {
    adam.load_state(tensors);
  } catch (const Error& e) {
    throw_file_error(file.string(), e.what());
  }
}

std::string json_error_summary(const std::exception& e) {
  std::string text = e.what();
  const std::size_t bracket = text.find("] ");
  if (text.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos) text = text.substr(bracket + 2);
  return text;
}

void save_generator_states(const std::filesystem::path& path, const std::string& format) {
  std::vector<std::pair<std::string, at::Tensor>> states = {{"cpu", compat::cpu_generator_state()}};
  const auto cuda = compat::cuda_generator_states();
  for (std::size_t i = 0; i < cuda.size(); ++i) states.emplace_back("cuda." + std::to_string(i), cuda[i]);
  write_tensors(path, states, {{"format", format}});
}

void restore_generator_states(const std::filesystem::path& path) {
  const auto states = read_tensor_map(path);
  if (states.count("cpu") == 0) throw Error(path.string() + ": no \"cpu\" generator state");
  compat::set_cpu_generator_state(states.at("cpu"));
  std::vector<at::Tensor> cuda;
  for (int i = 0; states.count("cuda." + std::to_string(i)) != 0; ++i)
    cuda.push_back(states.at("cuda." + std::to_string(i)));
  compat::set_cuda_generator_states(cuda);
}

void check_finite_parameters(const torch::nn::Module& module) {
  for (const auto& item : module.named_parameters()) {
    if (!item.value().isfinite().all().item<bool>()) {
      throw Error("checkpoint: parameter " + item.key() + " holds NaN or Inf; not saved");
    }
  }
}

}  // namespace rlhf::model
