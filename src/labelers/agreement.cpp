#include "rlhf/labelers/agreement.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "rlhf/util/error.h"

namespace rlhf::labelers {
namespace {

using Ids = std::vector<int>;
using Key = std::pair<Ids, std::vector<Ids>>;  // query, sorted samples (pads dropped)

Ids strip(const Ids& ids, int pad_id) {
  Ids out;
  for (int id : ids) {
    if (id != pad_id) out.push_back(id);
  }
  return out;
}

Key key_of(const data::Comparison& c, int pad_id) {
  Key key{strip(c.query, pad_id), {}};
  for (const Ids& s : c.samples) key.second.push_back(strip(s, pad_id));
  std::sort(key.second.begin(), key.second.end());
  return key;
}

Ids chosen(const data::Comparison& c, int pad_id, const std::string& name, std::size_t record) {
  if (c.best < 0 || c.best >= static_cast<int>(c.samples.size())) {
    throw Error(name + ": record " + std::to_string(record) + " has no answer (best " + std::to_string(c.best) + ")");
  }
  return strip(c.samples[static_cast<std::size_t>(c.best)], pad_id);
}

std::string show_ids(const Ids& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size() && i < 8; ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + (ids.size() > 8 ? ", ...]" : "]");
}

}  // namespace

Interval wilson_interval(double rate, double n) {
  if (!(n > 0)) throw Error("wilson_interval: no trials");
  constexpr double z = 1.959963984540054;  // the 97.5% normal quantile
  const double z2 = z * z;
  const double center = (rate + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(rate * (1 - rate) / n + z2 / (4 * n * n));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

Agreement agreement(const std::vector<data::Comparison>& a, const std::vector<data::Comparison>& b, int pad_id,
                    const std::string& name_a, const std::string& name_b) {
  if (a.empty()) throw Error(name_a + ": no questions to compare");
  std::map<Key, std::vector<std::size_t>> in_b;  // key -> B's records, in file order
  for (std::size_t j = 0; j < b.size(); ++j) in_b[key_of(b[j], pad_id)].push_back(j);
  std::map<Key, std::size_t> used;  // copies of each key taken so far

  Agreement r;
  double inverse_n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Key key = key_of(a[i], pad_id);
    const auto it = in_b.find(key);
    std::size_t& taken = used[key];
    if (it == in_b.end() || taken >= it->second.size()) {
      throw Error(name_a + ": record " + std::to_string(i) + " (query " + show_ids(key.first) +
                  ") is not among the questions of " + name_b +
                  (it == in_b.end() ? "" : " (it occurs there fewer times)") +
                  "; both files must hold the same questions (same query and samples)");
    }
    const std::size_t j = it->second[taken++];
    r.agreed += chosen(a[i], pad_id, name_a, i) == chosen(b[j], pad_id, name_b, j) ? 1 : 0;
    inverse_n += 1.0 / static_cast<double>(a[i].samples.size());
    ++r.compared;
  }
  r.only_in_b = b.size() - r.compared;

  const double n = static_cast<double>(r.compared);
  r.rate = static_cast<double>(r.agreed) / n;
  r.chance = inverse_n / n;
  r.stderr_ = std::sqrt(r.rate * (1.0 - r.rate) / n);
  const Interval ci = wilson_interval(r.rate, n);
  r.ci_low = ci.low;
  r.ci_high = ci.high;
  r.kappa = r.chance < 1.0 ? (r.rate - r.chance) / (1.0 - r.chance) : 0.0;
  return r;
}

}  // namespace rlhf::labelers
