// Test seams of one PPO batch. PpoTrainer calls a PpoHooks at five fixed points; the defaults do
// nothing, and nothing in the program installs another one (PpoParts::hooks stays null): tests do,
// to inject a NaN or Inf, to flip a sign the guards must catch, or to read the numbers a golden test
// pins. No configuration key reaches them.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhf/ppo/advantages.h"
#include "rlhf/ppo/losses.h"
#include "rlhf/ppo/rollout.h"

namespace rlhf::ppo {

// Where in a PPO batch a minibatch's hook is called.
struct MinibatchPoint {
  std::int64_t batch = 0;  // PPO batch index
  int epoch = 0;
  int minibatch = 0;
};

class PpoHooks {
 public:
  virtual ~PpoHooks() = default;
  // After the rollout, before it is checked for NaN or Inf; may change any of its tensors.
  virtual void rollout(std::int64_t /*batch*/, Rollout& /*rollout*/) {}
  // The per-token rewards [B, N] that reach GAE, before the independent reward check; may replace them.
  virtual void rewards(std::int64_t /*batch*/, at::Tensor& /*rewards*/) {}
  // A minibatch's rows of the batch (int64 [M], in minibatch order) with its whitened advantages and
  // returns ([M, N], the same order).
  virtual void advantages(const MinibatchPoint& /*at*/, const at::Tensor& /*rows*/, const Gae& /*gae*/) {}
  // One microbatch's losses (minibatch rows [start, start + rows)), before they are combined into
  // the loss that is differentiated; may replace them.
  virtual void losses(const MinibatchPoint& /*at*/, std::int64_t /*start*/, std::int64_t /*rows*/,
                      PolicyLoss& /*policy*/, ValueLoss& /*value*/) {}
  // The minibatch's accumulated gradient, before it is checked for NaN or Inf, clipped and applied.
  virtual void gradient(const MinibatchPoint& /*at*/,
                        const std::vector<std::pair<std::string, at::Tensor>>& /*parameters*/) {}
};

}  // namespace rlhf::ppo
