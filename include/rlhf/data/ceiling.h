// The accuracy ceiling of a label set: the expected accuracy of a perfect reward model on those labels.
//
// A mock labeler (labelers::choose_best) answers a question of N samples with a top-scoring sample,
// picked uniformly among the k samples that share the top score, except that with probability `noise`
// it answers a uniformly random index in [0, N) instead. A reward model that ranks the samples exactly
// as the labeler scores them picks one of the k, so on that question it is right with probability
//   (1 - noise) / k + noise / N,
// 1 with one best sample and no noise. The ceiling of a set is the mean of that over its questions;
// chance is 1 / N. How much of the achievable gain a reward model got:
//   gain share = (accuracy - chance) / (ceiling - chance).
// Labels from people, or files that do not carry the labeler's scores, have no known ceiling.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "rlhf/data/labels.h"

namespace rlhf::data {

// The number of samples sharing the top score (k >= 1; exact comparison, as choose_best ties them).
// `scores` must not be empty.
std::size_t top_ties(const std::vector<double>& scores);

// (1 - noise) / k + noise / n: a perfect reward model's expected accuracy on one question.
double question_ceiling(std::size_t k, std::size_t n, double noise);

struct AccuracyCeiling {
  std::size_t questions = 0;      // in the set
  std::size_t tied = 0;           // questions whose top score is shared (k >= 2); 0 when unknown
  double chance = 0;              // 1 / N (0 for an empty set)
  std::optional<double> ceiling;  // unset when some question carries no labeler scores (or the set is empty)
  // tied / questions when the ceiling is known.
  std::optional<double> tied_share() const;
  // (accuracy - chance) / (ceiling - chance); unset when the ceiling is unknown or not above chance.
  std::optional<double> gain_share(double accuracy) const;
};

// The ceiling of `items` from their labeler_scores and labeler_noise (see Comparison). Every item must
// have the same number of samples.
AccuracyCeiling accuracy_ceiling(const std::vector<Comparison>& items);

// One line a newcomer understands, e.g.
//   "validation accuracy 0.620 (chance 0.250, ceiling 0.780: 70% of the achievable gain)"
//   "validation accuracy 0.620 (chance 0.250, ceiling unknown: the labels carry no labeler scores)"
// `what` names the accuracy ("validation accuracy"); `chance` <= 0 leaves chance out (unknown).
std::string describe_accuracy(const std::string& what, double accuracy, double chance, std::optional<double> ceiling);

}  // namespace rlhf::data
