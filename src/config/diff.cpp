#include "rlhf/config/diff.h"

namespace rlhf::config {
namespace {

std::string join(const std::string& prefix, const std::string& key) { return prefix.empty() ? key : prefix + "." + key; }

void collect(const nlohmann::json& a, const nlohmann::json& b, const std::string& prefix, std::vector<KeyChange>& out) {
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      if (b.contains(key)) {
        collect(value, b.at(key), join(prefix, key), out);
      } else {
        out.push_back({join(prefix, key), value, nullptr});
      }
    }
    for (const auto& [key, value] : b.items()) {
      if (!a.contains(key)) out.push_back({join(prefix, key), nullptr, value});
    }
    return;
  }
  if (a != b) out.push_back({prefix, a, b});
}

}  // namespace

std::string KeyChange::describe() const {
  if (before.is_null()) return key + ": added (" + after.dump() + ")";
  if (after.is_null()) return key + ": removed (was " + before.dump() + ")";
  return key + ": " + before.dump() + " -> " + after.dump();
}

std::vector<KeyChange> changed_keys(const nlohmann::json& before, const nlohmann::json& after) {
  std::vector<KeyChange> out;
  collect(before, after, "", out);
  return out;
}

}  // namespace rlhf::config
