#include "rlhf/reward/accuracy.h"

#include "rlhf/data/ceiling.h"

namespace rlhf::reward {
namespace {

using json = nlohmann::json;

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

void add_split(json& training, const std::string& split, const std::vector<data::Comparison>& items) {
  const data::AccuracyCeiling c = data::accuracy_ceiling(items);
  const std::string accuracy = split + "_accuracy";
  training[split + "_ceiling"] = optional_number(c.ceiling);
  training[split + "_tied_share"] = optional_number(c.tied_share());
  training[split + "_gain_share"] = training.contains(accuracy) && training[accuracy].is_number()
                                        ? optional_number(c.gain_share(training[accuracy].get<double>()))
                                        : json(nullptr);
}

}  // namespace

void add_accuracy_ceilings(json& training, const std::vector<data::Comparison>& train,
                           const std::vector<data::Comparison>& validation) {
  if (!train.empty()) training["chance"] = 1.0 / static_cast<double>(train.front().samples.size());
  add_split(training, "train", train);
  if (!validation.empty()) add_split(training, "validation", validation);
}

std::string describe_accuracy(const json& training, const std::string& split) {
  const auto accuracy = training.find(split + "_accuracy");
  if (accuracy == training.end() || !accuracy->is_number()) return "";
  const auto chance = training.find("chance");
  const auto ceiling = training.find(split + "_ceiling");
  return data::describe_accuracy(
      split + " accuracy", accuracy->get<double>(),
      chance != training.end() && chance->is_number() ? chance->get<double>() : 0.0,
      ceiling != training.end() && ceiling->is_number() ? std::optional<double>(ceiling->get<double>()) : std::nullopt);
}

}  // namespace rlhf::reward
