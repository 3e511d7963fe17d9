#include "rlhf/ppo/guards.h"

#include <cmath>
#include <sstream>

namespace rlhf::ppo {

void check_rewards(const at::Tensor& rewards, const at::Tensor& score, const at::Tensor& logprobs,
                   const at::Tensor& ref_logprobs, double kl_coef, std::int64_t batch) {
  // Deliberately not per_token_kl / kl_penalized_rewards: an independent path in double precision.
  const at::Tensor lp = logprobs.detach().to(at::kCPU, at::kDouble);
  const at::Tensor ref = ref_logprobs.detach().to(at::kCPU, at::kDouble);
  const at::Tensor s = score.detach().to(at::kCPU, at::kDouble);
  const at::Tensor got = rewards.detach().to(at::kCPU, at::kDouble);
  at::Tensor expected = (ref - lp) * kl_coef;
  const auto N = expected.size(1);
  expected.select(1, N - 1).add_(s);
  const double scale = 1.0 + expected.abs().max().item<double>();
  const double error = (got - expected).abs().max().item<double>();
  if (!(error <= 1e-4 * scale)) {
    const at::Tensor got_total = got.sum(1), expected_total = expected.sum(1);
    const double corr = at::corrcoef(at::stack({got_total, expected_total}))[0][1].item<double>();
    std::ostringstream msg;
    msg << "guard: batch " << batch << ": the rewards passed to GAE differ from score - beta * KL recomputed "
        << "independently (max difference " << error << ", correlation of the per-episode totals " << corr
        << (corr < 0 ? ": the reward sign is flipped" : "")
        << "); a bug in the reward computation, stopped before it trains the policy";
    throw GuardError(msg.str());
  }
}

double gradient_cosine(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  TORCH_CHECK(a.size() == b.size(), "gradient_cosine: lists of different lengths");
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].defined() || !b[i].defined()) {
      if (a[i].defined()) na += a[i].to(at::kDouble).pow(2).sum().item<double>();
      if (b[i].defined()) nb += b[i].to(at::kDouble).pow(2).sum().item<double>();
      continue;
    }
    const at::Tensor x = a[i].to(at::kDouble), y = b[i].to(at::kDouble);
    dot += (x * y).sum().item<double>();
    na += x.pow(2).sum().item<double>();
    nb += y.pow(2).sum().item<double>();
  }
  if (na == 0.0 || nb == 0.0) return 0.0;
  return dot / std::sqrt(na * nb);
}

Slope slope_t(const std::deque<double>& y) {
  const auto n = static_cast<double>(y.size());
  if (y.size() < 3) return {};
  const double x_mean = (n - 1) / 2.0;
  double y_mean = 0.0;
  for (double v : y) y_mean += v;
  y_mean /= n;
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    sxx += (i - x_mean) * (i - x_mean);
    sxy += (i - x_mean) * (y[i] - y_mean);
  }
  Slope out;
  out.slope = sxy / sxx;
  double sse = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double r = y[i] - y_mean - out.slope * (i - x_mean);
    sse += r * r;
  }
  const double se = std::sqrt(sse / (n - 2) / sxx);
  out.t = se > 0 ? out.slope / se : (out.slope == 0 ? 0.0 : std::copysign(INFINITY, out.slope));
  return out;
}

void TrendMonitor::add(double score, double kl, std::int64_t batch) {
  if (window_ <= 0) return;
  scores_.push_back(score);
  kls_.push_back(kl);
  while (static_cast<int>(scores_.size()) > window_) {
    scores_.pop_front();
    kls_.pop_front();
  }
  if (static_cast<int>(scores_.size()) < window_) return;
  const Slope s = slope_t(scores_), k = slope_t(kls_);
  if (s.t < -t_ && k.t > t_) {
    std::ostringstream msg;
    msg << "guard: batch " << batch << ": over the last " << window_ << " batches the score fell (slope " << s.slope
        << " per batch, t = " << s.t << ") while the KL rose (slope " << k.slope << ", t = " << k.t
        << "): the policy is moving away from the reference without earning reward, as when the reward's sign is "
           "flipped; stopped (raise guards.trend_t or set guards.trend_window=0 to go on)";
    throw GuardError(msg.str());
  }
}

nlohmann::json TrendMonitor::state() const {
  return {{"scores", std::vector<double>(scores_.begin(), scores_.end())},
          {"kls", std::vector<double>(kls_.begin(), kls_.end())}};
}

void TrendMonitor::load_state(const nlohmann::json& state) {
  const auto s = state.at("scores").get<std::vector<double>>();
  const auto k = state.at("kls").get<std::vector<double>>();
  scores_.assign(s.begin(), s.end());
  kls_.assign(k.begin(), k.end());
}

}  // namespace rlhf::ppo
