// Adam as the paper's code runs it (tf.train.AdamOptimizer: beta 0.9/0.999, epsilon 1e-5, no weight
// decay, no clipping), and PyTorch's formulation for comparison (paper-spec item 22).
//
// TensorFlow:  lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);  p -= lr_t * m / (sqrt(v) + eps)
// PyTorch:     p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// They differ only in where epsilon sits; TensorFlow's is effectively larger early in training, which
// makes the first updates gentler.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rlhf::optim {

enum class AdamStyle { TensorFlow, PyTorch };

// "tensorflow" | "pytorch"; throws rlhf::Error otherwise.
AdamStyle parse_adam_style(const std::string& name);

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-5;  // the paper's code
  AdamStyle style = AdamStyle::TensorFlow;
};

class Adam {
 public:
  // `params`: (name, parameter) pairs in a fixed order; the names key the saved state.
  Adam(std::vector<std::pair<std::string, at::Tensor>> params, AdamOptions options);

  void zero_grad();
  // One update with learning rate `lr` (the caller owns the schedule). Parameters without a gradient
  // are left alone (their moments do not decay).
  void step(double lr);
  std::int64_t steps() const { return step_; }

  // The moments and step count as named CPU tensors, and back (throws rlhf::Error on a mismatch).
  std::vector<std::pair<std::string, at::Tensor>> state() const;
  void load_state(const std::map<std::string, at::Tensor>& state);

  const std::vector<std::pair<std::string, at::Tensor>>& params() const { return params_; }

 private:
  std::vector<std::pair<std::string, at::Tensor>> params_;
  AdamOptions options_;
  std::int64_t step_ = 0;
  std::vector<at::Tensor> m_, v_;
};

}  // namespace rlhf::optim
