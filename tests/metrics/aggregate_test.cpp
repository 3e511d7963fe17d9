// Corpus statistics: mean, standard error, percentile bootstrap, pooled ratios.
#include "rlhf/metrics/aggregate.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rlhf/util/error.h"

namespace rlhf::metrics {
namespace {

TEST(Aggregate, MeanAndStandardError) {
  // Values 0, 1, 0.5, 0.5: mean 0.5; sample variance (0.25 + 0.25 + 0 + 0) / 3 = 1/6;
  // standard error sqrt(1/6) / sqrt(4) = 0.2041241.
  const Aggregate a = aggregate({0, 1, 0.5, 0.5}, {0, 0.95, 1});
  EXPECT_EQ(a.count, 4u);
  EXPECT_DOUBLE_EQ(a.mean, 0.5);
  EXPECT_NEAR(a.standard_error, std::sqrt(1.0 / 6) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(a.ci_low, 0.5);  // no resampling: the interval collapses to the mean
  EXPECT_DOUBLE_EQ(a.ci_high, 0.5);
}

TEST(Aggregate, BootstrapIntervalIsSeededAndSensible) {
  std::vector<double> values;
  for (int i = 0; i < 200; ++i) values.push_back(i % 4 == 0 ? 1.0 : 0.0);  // mean 0.25
  const Aggregate a = aggregate(values, {1000, 0.95, 7});
  const Aggregate again = aggregate(values, {1000, 0.95, 7});
  EXPECT_EQ(a.ci_low, again.ci_low);
  EXPECT_EQ(a.ci_high, again.ci_high);
  EXPECT_LT(a.ci_low, 0.25);
  EXPECT_GT(a.ci_high, 0.25);
  // A normal approximation gives 0.25 -+ 1.96 * 0.0307 = [0.19, 0.31]; the bootstrap lands near it.
  EXPECT_NEAR(a.ci_low, 0.25 - 1.96 * a.standard_error, 0.02);
  EXPECT_NEAR(a.ci_high, 0.25 + 1.96 * a.standard_error, 0.02);
  const Aggregate other_seed = aggregate(values, {1000, 0.95, 8});
  EXPECT_NE(a.ci_low + a.ci_high, other_seed.ci_low + other_seed.ci_high);
  // Constant values: every resample has the same mean.
  const Aggregate constant = aggregate({0.3, 0.3, 0.3}, {100, 0.95, 1});
  EXPECT_DOUBLE_EQ(constant.ci_low, 0.3);
  EXPECT_DOUBLE_EQ(constant.ci_high, 0.3);
}

TEST(Aggregate, EdgeCases) {
  const Aggregate none = aggregate({});
  EXPECT_EQ(none.count, 0u);
  EXPECT_EQ(none.mean, 0.0);
  const Aggregate one = aggregate({0.7});
  EXPECT_DOUBLE_EQ(one.mean, 0.7);
  EXPECT_EQ(one.standard_error, 0.0);
  EXPECT_THROW(aggregate({1.0}, {-1, 0.95, 1}), Error);
  EXPECT_THROW(aggregate({1.0}, {10, 1.0, 1}), Error);
}

TEST(Aggregate, QuantileInterpolatesLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], 25) = 1.75: position 0.25 * 3 = 0.75 between 1 and 2.
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile_sorted({5}, 0.975), 5.0);
}

TEST(Aggregate, PooledRatio) {
  // 1/2, 0/1, 2/2 pooled: 3/5 = 0.6. Residuals a - 0.6 b: -0.2, -0.6, 0.8; squares sum 1.04;
  // sqrt(1.04 / (3 * 2)) / (5/3) = 0.2497999.
  const Ratio r = pooled_ratio({1, 0, 2}, {2, 1, 2});
  EXPECT_DOUBLE_EQ(r.value, 0.6);
  EXPECT_NEAR(r.standard_error, std::sqrt(1.04 / 6) / (5.0 / 3), 1e-12);
  EXPECT_EQ(pooled_ratio({0}, {0}).value, 0.0);
  EXPECT_THROW(pooled_ratio({1}, {1, 2}), Error);
}

}  // namespace
}  // namespace rlhf::metrics
