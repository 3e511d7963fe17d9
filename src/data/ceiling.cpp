#include "rlhf/data/ceiling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rlhf/util/error.h"

namespace rlhf::data {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::size_t top_ties(const std::vector<double>& scores) {
  if (scores.empty()) throw Error("top_ties: no scores");
  double top = scores.front();
  for (double s : scores) top = std::max(top, s);
  std::size_t k = 0;
  for (double s : scores) k += s == top ? 1 : 0;
  return k;
}

double question_ceiling(std::size_t k, std::size_t n, double noise) {
  if (k < 1 || n < k) throw Error("question_ceiling: needs 1 <= k <= n");
  return (1.0 - noise) / static_cast<double>(k) + noise / static_cast<double>(n);
}

std::optional<double> AccuracyCeiling::tied_share() const {
  if (!ceiling || questions == 0) return std::nullopt;
  return static_cast<double>(tied) / static_cast<double>(questions);
}

std::optional<double> AccuracyCeiling::gain_share(double accuracy) const {
  if (!ceiling || !(*ceiling - chance > 1e-12)) return std::nullopt;
  return (accuracy - chance) / (*ceiling - chance);
}

AccuracyCeiling accuracy_ceiling(const std::vector<Comparison>& items) {
  AccuracyCeiling c;
  c.questions = items.size();
  if (items.empty()) return c;
  const std::size_t n = items.front().samples.size();
  c.chance = 1.0 / static_cast<double>(n);
  double sum = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Comparison& item = items[i];
    if (item.samples.size() != n) {
      throw Error("accuracy_ceiling: question " + std::to_string(i) + " has " + std::to_string(item.samples.size()) +
                  " samples, the first has " + std::to_string(n));
    }
    if (item.labeler_scores.size() != n) {  // a person's answer, or a file without scores
      c.tied = 0;
      return c;
    }
    const std::size_t k = top_ties(item.labeler_scores);
    c.tied += k > 1 ? 1 : 0;
    sum += question_ceiling(k, n, item.labeler_noise);
  }
  c.ceiling = sum / static_cast<double>(items.size());
  return c;
}

std::string describe_accuracy(const std::string& what, double accuracy, double chance, std::optional<double> ceiling) {
  std::string s = what + " " + fixed(accuracy, 3) + " (";
  if (chance > 0) s += "chance " + fixed(chance, 3) + ", ";
  if (!ceiling) return s + "ceiling unknown: the labels carry no labeler scores)";
  s += "ceiling " + fixed(*ceiling, 3);
  if (chance <= 0) return s + ")";
  if (!(*ceiling - chance > 1e-12)) return s + ": the labels carry no signal)";
  const double share = (accuracy - chance) / (*ceiling - chance);
  return s + ": " + fixed(100.0 * share, 0) + "% of the achievable gain)";
}

}  // namespace rlhf::data
