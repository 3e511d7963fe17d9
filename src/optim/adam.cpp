#include "rlhf/optim/adam.h"

#include <cmath>

#include "rlhf/util/error.h"

namespace rlhf::optim {

AdamStyle parse_adam_style(const std::string& name) {
  if (name == "tensorflow") return AdamStyle::TensorFlow;
  if (name == "pytorch") return AdamStyle::PyTorch;
  throw Error("adam_style: expected tensorflow or pytorch, got \"" + name + "\"");
}

Adam::Adam(std::vector<std::pair<std::string, at::Tensor>> params, AdamOptions options)
    : params_(std::move(params)), options_(options) {
  for (const auto& [name, p] : params_) {
    m_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous).detach());
    v_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous).detach());
  }
}

void Adam::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

void Adam::step(double lr) {
  at::NoGradGuard no_grad;
  const double t = static_cast<double>(++step_);
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = 1.0 - std::pow(b1, t), correction2 = 1.0 - std::pow(b2, t);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    const at::Tensor& g = p.grad();
    m_[i].mul_(b1).add_(g, 1.0 - b1);
    v_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    if (options_.style == AdamStyle::TensorFlow) {
      const double lr_t = lr * std::sqrt(correction2) / correction1;
      p.addcdiv_(m_[i], v_[i].sqrt().add_(options_.eps), -lr_t);
    } else {
      p.addcdiv_(m_[i], v_[i].sqrt().div_(std::sqrt(correction2)).add_(options_.eps), -lr / correction1);
    }
  }
}

std::vector<std::pair<std::string, at::Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.emplace_back("adam.step", at::tensor({step_}, at::kLong));
  for (std::size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("adam.m." + params_[i].first, m_[i].detach().cpu().clone());
    out.emplace_back("adam.v." + params_[i].first, v_[i].detach().cpu().clone());
  }
  return out;
}

void Adam::load_state(const std::map<std::string, at::Tensor>& state) {
  auto get = [&](const std::string& name) -> const at::Tensor& {
    const auto it = state.find(name);
    if (it == state.end()) throw Error("optimizer state: missing tensor \"" + name + "\"");
    return it->second;
  };
  at::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    for (auto* slot : {&m_[i], &v_[i]}) {
      const std::string name = (slot == &m_[i] ? "adam.m." : "adam.v.") + params_[i].first;
      const at::Tensor& saved = get(name);
      if (saved.sizes() != slot->sizes()) {
        throw Error("optimizer state: \"" + name + "\" has shape " + std::to_string(saved.numel()) +
                    " values, the parameter has " + std::to_string(slot->numel()));
      }
      slot->copy_(saved);
    }
  }
  step_ = get("adam.step").item<std::int64_t>();
}

}  // namespace rlhf::optim
