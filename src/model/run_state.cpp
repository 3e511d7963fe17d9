#include "rlhf/model/run_state.h"

#include "rlhf/core/torch_compat.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/util/error.h"

namespace rlhf::model {

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
