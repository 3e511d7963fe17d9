// The visitors behind the functions of config.h. A configuration struct calls, from `visit(V& v)`:
//   v.field("name", member, "doc" [, Range or OneOf]);
//   v.section("name", sub_struct, "doc");
// and each visitor below does one job with those calls. Only the template glue lives here; the
// conversions, checks and messages are non-template code in src/config/.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhf/config/constraints.h"
#include "rlhf/config/keys.h"
#include "rlhf/config/values.h"
#include "rlhf/util/error.h"

namespace rlhf::config::detail {

// ---- Types and constraints -----------------------------------------------------------------------

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
void check_field_type() {
  static_assert(TypeOf<T>::supported,
                "config field type must be bool, int, std::int64_t, std::uint64_t, float, double, std::string, "
                "std::optional of one of those, or std::vector of std::string, int, double or std::int64_t");
}

template <class T>
void check_value(const NoConstraint&, const T&, const std::string&) {}

template <class T>
void check_value(const Range& range, const T& value, const std::string& where) {
  constexpr Scalar kScalar = TypeOf<T>::info.scalar;
  static_assert(kScalar != Scalar::Bool && kScalar != Scalar::String, "config::Range applies to numeric fields only");
  if constexpr (IsOptional<T>::value) {
    if (value) check_value(range, *value, where);
  } else if constexpr (IsVector<T>::value) {
    for (std::size_t i = 0; i < value.size(); ++i) check_value(range, value[i], where + "[" + std::to_string(i) + "]");
  } else if constexpr (std::is_same_v<T, int>) {
    range.check(static_cast<std::int64_t>(value), where);
  } else {
    range.check(value, where);
  }
}

template <class T>
void check_value(const OneOf& one_of, const T& value, const std::string& where) {
  static_assert(TypeOf<T>::info.scalar == Scalar::String, "config::OneOf applies to string fields only");
  if constexpr (IsOptional<T>::value) {
    if (value) one_of.check(*value, where);
  } else if constexpr (IsVector<T>::value) {
    for (std::size_t i = 0; i < value.size(); ++i) one_of.check(value[i], where + "[" + std::to_string(i) + "]");
  } else {
    one_of.check(value, where);
  }
}

inline std::string describe_constraint(const NoConstraint&) {
  return "";
}
inline std::string describe_constraint(const Range& range) {
  return range.describe();
}
inline std::string describe_constraint(const OneOf& one_of) {
  return one_of.describe();
}

// An optional `void check() const` member: cross-field rules, run by validate_config.
template <class S, class = void>
struct HasCheck : std::false_type {};
template <class S>
struct HasCheck<S, std::void_t<decltype(std::declval<const S&>().check())>> : std::true_type {};

template <class S>
void run_check(const S& section, const std::string& path) {
  if constexpr (HasCheck<S>::value) {
    try {
      section.check();
    } catch (const Error& e) {
      rethrow_check_error(e, path);
    }
  }
}

// visit() is a non-const member (one function serves reading and writing); the read-only visitors
// below never write through the references they are given.
template <class C, class V>
void visit_const(const C& config, V& visitor) {
  const_cast<C&>(config).visit(visitor);
}

// ---- Key paths ------------------------------------------------------------------------------------

// Collects every key path (sections and fields), checking that names are well formed and unique.
class KeyCollector {
 public:
  explicit KeyCollector(std::vector<std::string>& paths, std::string prefix = "")
      : paths_(paths), prefix_(std::move(prefix)) {}

  template <class T, class K = NoConstraint>
  void field(std::string_view name, T&, std::string_view, const K& = {}) {
    check_field_type<T>();
    add(name);
  }
  template <class S>
  void section(std::string_view name, S& sub, std::string_view) {
    add(name);
    KeyCollector inner(paths_, join_path(prefix_, name));
    sub.visit(inner);
  }

 private:
  void add(std::string_view name) {
    check_key_name(name, prefix_, names_);
    names_.emplace_back(name);
    paths_.push_back(join_path(prefix_, name));
  }
  std::vector<std::string>& paths_;
  std::string prefix_;
  std::vector<std::string> names_;
};

// ---- JSON -> config ---------------------------------------------------------------------------------

class JsonReader {
 public:
  JsonReader(const nlohmann::json& object, const std::string& source, std::string prefix,
             const std::vector<std::string>& all_paths)
      : object_(object), source_(source), prefix_(std::move(prefix)), all_paths_(all_paths) {}

  template <class T, class K = NoConstraint>
  void field(std::string_view name, T& value, std::string_view, const K& constraint = {}) {
    const nlohmann::json* j = take(name);
    if (j == nullptr) return;
    const std::string where = location(source_, join_path(prefix_, name));
    read_value(*j, value, where);
    check_value(constraint, value, where);
  }
  template <class S>
  void section(std::string_view name, S& sub, std::string_view) {
    const nlohmann::json* j = take(name);
    if (j == nullptr) return;
    const std::string path = join_path(prefix_, name);
    if (!j->is_object()) throw_not_a_section(location(source_, path), *j);
    JsonReader inner(*j, source_, path, all_paths_);
    sub.visit(inner);
    inner.finish();
  }

  // Throws for the first key of the object that no field or section took.
  void finish() const;

 private:
  const nlohmann::json* take(std::string_view name);  // records the name; the member, or null

  const nlohmann::json& object_;
  const std::string& source_;
  std::string prefix_;
  const std::vector<std::string>& all_paths_;
  std::vector<std::string> names_;
};

// ---- --set key=value -> config -----------------------------------------------------------------------

class OverrideSetter {
 public:
  OverrideSetter(const Assignment& assignment, std::size_t depth, const std::string& source,
                 const std::vector<std::string>& all_paths)
      : assignment_(assignment), depth_(depth), source_(source), all_paths_(all_paths) {}

  template <class T, class K = NoConstraint>
  void field(std::string_view name, T& value, std::string_view, const K& constraint = {}) {
    if (!match(name)) return;
    if (!is_last()) throw_value_not_section();
    const std::string where = location(source_, current_path());
    read_value(override_text_to_json(assignment_.value, TypeOf<T>::info), value, where);
    check_value(constraint, value, where);
  }
  template <class S>
  void section(std::string_view name, S& sub, std::string_view) {
    if (!match(name)) return;
    if (is_last()) {
      std::vector<std::string> keys;
      KeyCollector collector(keys);
      sub.visit(collector);
      throw_section_not_value(keys);
    }
    OverrideSetter inner(assignment_, depth_ + 1, source_, all_paths_);
    sub.visit(inner);
    inner.finish();
  }

  // Throws when no key at this level matched.
  void finish() const;

 private:
  bool match(std::string_view name);  // records the name; whether it is the assignment's key here
  bool is_last() const { return depth_ + 1 == assignment_.parts.size(); }
  std::string current_path() const;  // the assignment's key down to this level
  [[noreturn]] void throw_value_not_section() const;
  [[noreturn]] void throw_section_not_value(const std::vector<std::string>& keys) const;

  const Assignment& assignment_;
  std::size_t depth_;
  const std::string& source_;
  const std::vector<std::string>& all_paths_;
  std::vector<std::string> names_;
  bool found_ = false;
};

// ---- Validation ---------------------------------------------------------------------------------------

class Validator {
 public:
  explicit Validator(std::string prefix = "") : prefix_(std::move(prefix)) {}

  template <class T, class K = NoConstraint>
  void field(std::string_view name, T& value, std::string_view, const K& constraint = {}) {
    check_field_type<T>();
    check_value(constraint, value, join_path(prefix_, name));
  }
  template <class S>
  void section(std::string_view name, S& sub, std::string_view) {
    const std::string path = join_path(prefix_, name);
    Validator inner(path);
    sub.visit(inner);
    run_check(sub, path);
  }

 private:
  std::string prefix_;
};

// ---- config -> JSON -----------------------------------------------------------------------------------

class JsonWriter {
 public:
  explicit JsonWriter(nlohmann::ordered_json& out) : out_(out) {}

  template <class T, class K = NoConstraint>
  void field(std::string_view name, T& value, std::string_view, const K& = {}) {
    check_field_type<T>();
    out_[std::string(name)] = write_value(static_cast<const T&>(value));
  }
  template <class S>
  void section(std::string_view name, S& sub, std::string_view) {
    nlohmann::ordered_json& inner_json = out_[std::string(name)];
    inner_json = nlohmann::ordered_json::object();
    JsonWriter inner(inner_json);
    sub.visit(inner);
  }

 private:
  nlohmann::ordered_json& out_;
};

// ---- Documentation ------------------------------------------------------------------------------------

struct DocRow {
  std::string key;         // full path
  std::string type;        // "int", "section", ...
  std::string value;       // JSON text of the default; empty for sections
  std::string constraint;  // ">= 1", "one of a, b"; empty when none
  std::string doc;
};

// "# TITLE", then one table row per key.
std::string render_markdown(const std::vector<DocRow>& rows, const std::string& title);

class Describer {
 public:
  explicit Describer(std::vector<DocRow>& rows, std::string prefix = "") : rows_(rows), prefix_(std::move(prefix)) {}

  template <class T, class K = NoConstraint>
  void field(std::string_view name, T& value, std::string_view doc, const K& constraint = {}) {
    check_field_type<T>();
    rows_.push_back(
        {join_path(prefix_, name), type_name(TypeOf<T>::info),
         write_value(static_cast<const T&>(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
         describe_constraint(constraint), std::string(doc)});
  }
  template <class S>
  void section(std::string_view name, S& sub, std::string_view doc) {
    const std::string path = join_path(prefix_, name);
    rows_.push_back({path, "section", "", "", std::string(doc)});
    Describer inner(rows_, path);
    sub.visit(inner);
  }

 private:
  std::vector<DocRow>& rows_;
  std::string prefix_;
};

}  // namespace rlhf::config::detail
