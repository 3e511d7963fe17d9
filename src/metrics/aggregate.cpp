#include "rlhf/metrics/aggregate.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "rlhf/util/error.h"

namespace rlhf::metrics {
namespace {

double mean_of(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double standard_error_of(const std::vector<double>& values, double mean) {
  const std::size_t n = values.size();
  if (n < 2) return 0.0;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(n - 1)) / std::sqrt(static_cast<double>(n));
}

// The means of `samples` resamples (with replacement, same size), sorted ascending. The index draw
// uses mt19937_64 with a plain modulo-free scaling, so results are identical across standard
// libraries (std::uniform_int_distribution is implementation-defined).
std::vector<double> bootstrap_means(const std::vector<double>& values, const BootstrapOptions& options) {
  std::mt19937_64 generator(options.seed);
  const std::size_t n = values.size();
  std::vector<double> means(static_cast<std::size_t>(options.samples));
  for (auto& m : means) {
    double sum = 0;
    for (std::size_t k = 0; k < n; ++k) {
      // The top 53 bits as a double in [0, 1), times n: uniform up to a 2^-53 bias.
      const double u = static_cast<double>(generator() >> 11) * 0x1.0p-53;
      sum += values[std::min(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)))];
    }
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  return means;
}

}  // namespace

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw Error("quantile of no values");
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

Aggregate aggregate(const std::vector<double>& values, const BootstrapOptions& options) {
  if (options.samples < 0) throw Error("bootstrap samples must be >= 0, got " + std::to_string(options.samples));
  if (!(options.confidence > 0 && options.confidence < 1)) {
    throw Error("bootstrap confidence must be in (0, 1), got " + std::to_string(options.confidence));
  }
  Aggregate a;
  a.count = values.size();
  if (values.empty()) return a;
  a.mean = mean_of(values);
  a.standard_error = standard_error_of(values, a.mean);
  a.ci_low = a.ci_high = a.mean;
  if (options.samples > 0) {
    const auto means = bootstrap_means(values, options);
    const double tail = (1 - options.confidence) / 2;
    a.ci_low = quantile_sorted(means, tail);
    a.ci_high = quantile_sorted(means, 1 - tail);
  }
  return a;
}

Ratio pooled_ratio(const std::vector<double>& numerators, const std::vector<double>& denominators) {
  if (numerators.size() != denominators.size()) throw Error("pooled_ratio: numerators and denominators differ in size");
  const std::size_t n = numerators.size();
  const double total = std::accumulate(denominators.begin(), denominators.end(), 0.0);
  Ratio r;
  if (total <= 0) return r;
  r.value = std::accumulate(numerators.begin(), numerators.end(), 0.0) / total;
  if (n < 2) return r;
  double squares = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double residual = numerators[i] - r.value * denominators[i];
    squares += residual * residual;
  }
  const double mean_denominator = total / static_cast<double>(n);
  r.standard_error = std::sqrt(squares / (static_cast<double>(n) * static_cast<double>(n - 1))) / mean_denominator;
  return r;
}

}  // namespace rlhf::metrics
