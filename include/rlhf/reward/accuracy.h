// The reward model's accuracies beside chance and the ceiling of its labels (data/ceiling.h), as
// stored in the training summary (reward_model.json's "training") and shown by train-reward, train.log,
// summary.md/summary.json and `rlhf report`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/data/labels.h"

namespace rlhf::reward {

// Adds "chance" (1 / N) and, for split = train and validation, "<split>_ceiling", "<split>_tied_share"
// and "<split>_gain_share" to `training` (null where unknown: labels without the labeler's scores, or
// no accuracy for the split). Reads "<split>_accuracy" from `training`.
void add_accuracy_ceilings(nlohmann::json& training, const std::vector<data::Comparison>& train,
                           const std::vector<data::Comparison>& validation);

// "validation accuracy 0.620 (chance 0.250, ceiling 0.780: 70% of the achievable gain)" for split =
// "train" or "validation" of such a summary; "" when it has no accuracy for the split. A summary
// written before ceilings were recorded reads "ceiling unknown".
std::string describe_accuracy(const nlohmann::json& training, const std::string& split);

}  // namespace rlhf::reward
