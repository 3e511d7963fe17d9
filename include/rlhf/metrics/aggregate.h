// Corpus statistics of per-example values (ROUGE F1s, 0/1 indicators): the mean, its standard error
// and a bootstrap 95% interval, the way rouge_score's BootstrapAggregator reports an interval
// (resample the examples with replacement, take percentiles of the resampled means).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rlhf::metrics {

struct BootstrapOptions {
  int samples = 1000;        // resamples; 0 = no interval (ci_low = ci_high = mean)
  double confidence = 0.95;  // the interval covers the middle `confidence` of the resampled means
  std::uint64_t seed = 1;    // the same values and seed give the same interval on every machine
};

struct Aggregate {
  std::size_t count = 0;
  double mean = 0;
  double standard_error = 0;  // sample standard deviation (n - 1) / sqrt(n); 0 for fewer than 2 values
  double ci_low = 0;          // bootstrap percentile interval of the mean
  double ci_high = 0;
};

// All zeros for no values.
Aggregate aggregate(const std::vector<double>& values, const BootstrapOptions& options = {});

// The q-quantile (0 <= q <= 1) of values sorted ascending, interpolated linearly between the two
// nearest ranks (numpy.percentile's default): position q * (n - 1).
double quantile_sorted(const std::vector<double>& sorted, double q);

// The share sum(numerators) / sum(denominators) with the standard error of that ratio estimator
// over examples (delta method): sqrt(sum_i (a_i - R b_i)^2 / (n (n - 1))) / mean(b). Used for pooled
// shares such as "copied sentences of all summary sentences", where examples differ in size.
struct Ratio {
  double value = 0;
  double standard_error = 0;
};
Ratio pooled_ratio(const std::vector<double>& numerators, const std::vector<double>& denominators);

}  // namespace rlhf::metrics
