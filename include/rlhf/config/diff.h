// What changed between two resolved configurations (config::to_json): used when a run is resumed, to
// warn about or refuse values that differ from the ones it started with.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rlhf::config {

struct KeyChange {
  std::string key;        // dotted path, e.g. "ppo.lr"
  nlohmann::json before;  // null when the key is new
  nlohmann::json after;   // null when the key was removed
  std::string describe() const;  // "ppo.lr: 0.0005 -> 0.0001"
};

// Every leaf whose value differs, in `before`'s key order, then keys only `after` has.
std::vector<KeyChange> changed_keys(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace rlhf::config
