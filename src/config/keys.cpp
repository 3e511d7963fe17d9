// Key paths, suggestions for mistyped keys, and the non-template parts of the visitors that read
// JSON and --set assignments.
#include "rlhf/config/keys.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "rlhf/config/visitors.h"
#include "rlhf/util/error.h"

namespace rlhf::config::detail {
namespace {

std::string normalize(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

std::size_t count_parts(const std::string& path) {
  return std::count(path.begin(), path.end(), '.') + 1;
}

// The last `parts` components of `path` ("" when it has fewer).
std::string tail(const std::string& path, std::size_t parts) {
  std::size_t start = path.size();
  for (std::size_t i = 0; i < parts; ++i) {
    if (start == 0) return "";
    const std::size_t dot = path.rfind('.', start - 1);
    start = dot == std::string::npos ? 0 : dot;
    if (dot == std::string::npos && i + 1 < parts) return "";
  }
  return start == 0 ? path : path.substr(start + 1);
}

// A key elsewhere in the configuration whose last parts are `wanted` or close to it
// ("temperature" given at the top level -> "sampling.temperature").
std::optional<std::string> elsewhere(const std::string& wanted, const std::string& full,
                                     const std::vector<std::string>& all_paths) {
  const std::size_t parts = count_parts(wanted);
  std::vector<std::string> tails;
  std::vector<std::string> owners;
  for (const std::string& path : all_paths) {
    const std::string t = tail(path, parts);
    if (t.empty() || path == full) continue;
    tails.push_back(t);
    owners.push_back(path);
  }
  const auto match = closest_match(wanted, tails);
  if (!match) return std::nullopt;
  return owners[std::find(tails.begin(), tails.end(), *match) - tails.begin()];
}

}  // namespace

std::string join_path(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

std::string location(const std::string& source, const std::string& path) {
  return source.empty() ? path : source + ": " + path;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string w = normalize(word);
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    const std::string c = normalize(candidate);
    const std::size_t distance = edit_distance(w, c);
    // A typo: about one edit per three letters of the shorter word (case and '-' do not count).
    const std::size_t allowed = std::min(w.size(), c.size()) / 3;
    if (distance > allowed) continue;
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

void throw_unknown_key(const std::string& source, const std::string& prefix, const std::string& key,
                       const std::string& rest, const std::vector<std::string>& siblings,
                       const std::vector<std::string>& all_paths) {
  const std::string full = join_path(prefix, key) + rest;
  std::string message = (source.empty() ? "" : source + ": ") + "unknown key '" + full + "'";
  if (const auto close = closest_match(key, siblings)) {
    message += " (did you mean '" + join_path(prefix, *close) + rest + "'?)";
  } else if (const auto other = elsewhere(key + rest, full, all_paths)) {
    message += " (did you mean '" + *other + "'?)";
  } else if (siblings.empty()) {
    message += " ('" + prefix + "' has no keys)";
  } else {
    message +=
        " (valid keys" + (prefix.empty() ? std::string() : " in '" + prefix + "'") + ": " + join(siblings, ", ") + ")";
  }
  throw Error(message);
}

void throw_not_a_section(const std::string& where, const nlohmann::json& j) {
  throw Error(where + ": expected an object (a section), got " + show_json(j));
}

void expect_top_level_object(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) {
    throw Error((source.empty() ? "" : source + ": ") + "expected a JSON object at the top level, got " + show_json(j));
  }
}

Assignment parse_assignment(const std::string& assignment, const std::string& source) {
  const auto bad = [&]() -> Error {
    return Error((source.empty() ? "" : source + ": ") + "expected section.key=value, got '" + assignment + "'");
  };
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos) throw bad();
  Assignment out;
  const std::string raw_key = assignment.substr(0, eq);
  const auto begin = raw_key.find_first_not_of(" \t");
  if (begin == std::string::npos) throw bad();
  out.key = raw_key.substr(begin, raw_key.find_last_not_of(" \t") - begin + 1);
  out.value = assignment.substr(eq + 1);
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = out.key.find('.', start);
    out.parts.push_back(out.key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (out.parts.back().empty()) throw bad();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

void rethrow_check_error(const Error& error, const std::string& path) {
  if (path.empty()) throw error;
  throw Error(path + ": " + error.what());
}

void check_key_name(std::string_view name, const std::string& prefix, const std::vector<std::string>& earlier) {
  const std::string where = "config key '" + join_path(prefix, name) + "'";
  if (name.empty() || name.find_first_of(".=[ ") != std::string_view::npos) {
    throw std::logic_error(where + ": a name must be non-empty without '.', '=', '[' or spaces");
  }
  if (std::find(earlier.begin(), earlier.end(), name) != earlier.end()) {
    throw std::logic_error(where + ": declared twice");
  }
}

// ---- JsonReader -----------------------------------------------------------------------------------

const nlohmann::json* JsonReader::take(std::string_view name) {
  names_.emplace_back(name);
  const auto it = object_.find(std::string(name));
  return it == object_.end() ? nullptr : &*it;
}

void JsonReader::finish() const {
  for (const auto& item : object_.items()) {
    if (std::find(names_.begin(), names_.end(), item.key()) == names_.end()) {
      throw_unknown_key(source_, prefix_, item.key(), "", names_, all_paths_);
    }
  }
}

// ---- OverrideSetter -------------------------------------------------------------------------------

bool OverrideSetter::match(std::string_view name) {
  names_.emplace_back(name);
  if (found_ || name != assignment_.parts[depth_]) return false;
  found_ = true;
  return true;
}

std::string OverrideSetter::current_path() const {
  std::string path;
  for (std::size_t i = 0; i <= depth_; ++i) path = join_path(path, assignment_.parts[i]);
  return path;
}

void OverrideSetter::finish() const {
  if (found_) return;
  std::string prefix;
  for (std::size_t i = 0; i < depth_; ++i) prefix = join_path(prefix, assignment_.parts[i]);
  std::string rest;
  for (std::size_t i = depth_ + 1; i < assignment_.parts.size(); ++i) rest += "." + assignment_.parts[i];
  throw_unknown_key(source_, prefix, assignment_.parts[depth_], rest, names_, all_paths_);
}

void OverrideSetter::throw_value_not_section() const {
  throw Error(location(source_, current_path()) + ": is a value, not a section, so '" + assignment_.key +
              "' does not exist");
}

void OverrideSetter::throw_section_not_value(const std::vector<std::string>& keys) const {
  std::string message = location(source_, current_path()) + ": is a section, not a value";
  if (!keys.empty()) message += " (set one of its keys, e.g. '" + current_path() + "." + keys.front() + "=...')";
  throw Error(message);
}

}  // namespace rlhf::config::detail
