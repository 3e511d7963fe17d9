// Agreement between two labelers on the same questions (two people, a person and a mock labeler),
// as the paper measures it: the fraction of questions where both chose the same sample.
//
// Questions are matched by content, in any order: the query and the multiset of samples, with pad
// ids dropped. Two answers agree when the chosen samples have the same content (so permuted samples,
// or two identical samples, are handled). Every question of A must be in B; B may hold more.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rlhf/data/labels.h"

namespace rlhf::labelers {

struct Agreement {
  std::size_t compared = 0;   // questions of A, all found in B
  std::size_t agreed = 0;     // ... where both chose the same sample
  std::size_t only_in_b = 0;  // questions of B not in A (ignored)
  double rate = 0;            // agreed / compared
  double chance = 0;          // mean of 1/N: the expected rate of two independent uniform choosers
  double stderr_ = 0;         // binomial standard error sqrt(rate (1 - rate) / compared)
  double ci_low = 0;          // 95% Wilson score interval of the rate
  double ci_high = 0;
  double kappa = 0;  // (rate - chance) / (1 - chance): 0 = chance, 1 = always agree
};

// The 95% Wilson score interval of a proportion `rate` observed in `n` > 0 trials, clipped to [0, 1].
// Also used for win rates (rlhf compare), where a tie counts half and `rate` need not be k / n.
struct Interval {
  double low = 0, high = 0;
};
Interval wilson_interval(double rate, double n);

// Throws rlhf::Error naming `name_a`, the record and its query ids when a question of A has no match
// in B (or fewer copies in B than in A), and for empty input.
Agreement agreement(const std::vector<data::Comparison>& a, const std::vector<data::Comparison>& b,
                    int pad_id = data::kOpenAiPad, const std::string& name_a = "A", const std::string& name_b = "B");

}  // namespace rlhf::labelers
