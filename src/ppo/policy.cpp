#include "rlhf/ppo/policy.h"

#include <spdlog/spdlog.h>

#include "rlhf/model/checkpoint.h"
#include "rlhf/ppo/losses.h"
#include "rlhf/util/error.h"

namespace rlhf::ppo {

ResponseAnalysis analyze_responses(model::Gpt2Impl& trunk, torch::nn::LinearImpl* v_head, const at::Tensor& context,
                                   const at::Tensor& context_mask, const at::Tensor& response, double temperature,
                                   bool with_entropy) {
  TORCH_CHECK(context.dim() == 2 && response.dim() == 2 && context.size(0) == response.size(0),
              "analyze_responses: context [B, Tc] and response [B, N] must share B");
  TORCH_CHECK(temperature > 0.0, "analyze_responses: temperature must be > 0");
  const auto Tc = context.size(1), N = response.size(1);
  const at::Tensor ids = at::cat({context, response}, 1);  // [B, Tc+N]
  const at::Tensor mask = at::cat({context_mask.to(at::kBool), at::ones_like(response, at::kBool)}, 1);
  const at::Tensor hidden = trunk.forward(ids, mask, model::positions_from_mask(mask));  // [B, Tc+N, C]
  const at::Tensor h = hidden.narrow(1, Tc - 1, N);                                      // [B, N, C]
  const at::Tensor raw_logits = trunk.logits(h);                                          // [B, N, V]
  const at::Tensor logits = raw_logits.to(loss_dtype(raw_logits)) / temperature;          // [B, N, V]
  const at::Tensor logp_all = logits.log_softmax(-1);
  ResponseAnalysis out;
  out.logprobs = logp_all.gather(-1, response.unsqueeze(-1)).squeeze(-1);  // [B, N]
  if (with_entropy) out.entropy = -(logp_all.exp() * logp_all).sum(-1);
  if (v_head != nullptr) {
    const at::Tensor values = v_head->forward(h.to(v_head->weight.scalar_type())).squeeze(-1);  // [B, N]
    out.values = values.to(loss_dtype(values));
  }
  return out;
}

PolicyImpl::PolicyImpl(model::Gpt2 trunk_model) {
  const auto C = trunk_model->config().n_embd;
  trunk = register_module("trunk", std::move(trunk_model));
  v_head = register_module("v_head", torch::nn::Linear(C, 1));
  at::NoGradGuard no_grad;
  v_head->weight.zero_();  // paper-spec 4.1: the value head starts at exactly zero
  v_head->bias.zero_();
  v_head->to(trunk->device(), trunk->dtype());
}

ResponseAnalysis PolicyImpl::analyze(const at::Tensor& context, const at::Tensor& context_mask,
                                     const at::Tensor& response, double temperature, bool with_entropy) {
  return analyze_responses(*trunk, v_head.get(), context, context_mask, response, temperature, with_entropy);
}

void PolicyImpl::save(const std::filesystem::path& dir, const tokenizer::Tokenizer* tokenizer) {
  const std::map<std::string, at::Tensor> extra = {{"v_head.weight", v_head->weight.detach().to(at::kFloat)},
                                                   {"v_head.bias", v_head->bias.detach().to(at::kFloat)}};
  model::SaveOptions options;
  options.metadata["rlhf"] = "policy with value head";
  model::save_gpt2(*trunk, dir, tokenizer, extra, options);
}

Policy load_policy(const std::filesystem::path& dir) {
  std::map<std::string, at::Tensor> extra;
  model::Gpt2 trunk = model::load_gpt2(dir, &extra);
  trunk->train();  // no dropout exists; train mode only matters for autograd bookkeeping
  Policy policy(trunk);
  const auto C = trunk->config().n_embd;
  const auto w = extra.find("v_head.weight");
  const auto b = extra.find("v_head.bias");
  if ((w == extra.end()) != (b == extra.end())) {
    throw Error(dir.string() + ": has only one of v_head.weight and v_head.bias");
  }
  if (w != extra.end()) {
    if (w->second.sizes() != at::IntArrayRef{1, C} || b->second.sizes() != at::IntArrayRef{1}) {
      throw Error(dir.string() + ": v_head.weight must be [1, " + std::to_string(C) + "] and v_head.bias [1], got " +
                  std::to_string(w->second.numel()) + " and " + std::to_string(b->second.numel()) + " values");
    }
    at::NoGradGuard no_grad;
    policy->v_head->weight.copy_(w->second);
    policy->v_head->bias.copy_(b->second);
    extra.erase(w);
    extra.erase("v_head.bias");
  }
  for (const auto& item : extra) spdlog::warn("{}: ignoring tensor {}", dir.string(), item.first);
  return policy;
}

}  // namespace rlhf::ppo
