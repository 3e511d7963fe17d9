// Constraints a configuration field may carry: a numeric Range or a OneOf list of allowed strings.
// They are checked when a value is read (file, --set) and again by validate_config.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace rlhf::config {

// No constraint: the default fourth argument of `v.field(...)`.
struct NoConstraint {};

// An interval for int, std::int64_t, std::uint64_t, float and double fields (and each element of a
// list or the value of an optional). Bounds are inclusive unless the factory says otherwise.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  static Range at_least(double lo);                   // [lo, inf)
  static Range greater_than(double lo);               // (lo, inf)
  static Range at_most(double hi);                    // (-inf, hi]
  static Range less_than(double hi);                  // (-inf, hi)
  static Range between(double lo, double hi);         // [lo, hi]
  static Range in_open_closed(double lo, double hi);  // (lo, hi]

  // ">= 1", "> 0", "<= 1", "< 1", "in [0, 1]", "in (0, 1]".
  std::string describe() const;

  // Throw rlhf::Error("WHERE: must be >= 1, got 0") when the value is outside the range.
  void check(std::int64_t value, const std::string& where) const;
  void check(std::uint64_t value, const std::string& where) const;
  void check(double value, const std::string& where) const;
  void check(float value, const std::string& where) const;
};

// The allowed values of a std::string field (or of each element of a list of strings).
struct OneOf {
  std::vector<std::string> values;

  // "one of 124M, gpt2, 355M".
  std::string describe() const;

  // Throws rlhf::Error("WHERE: must be one of a, b, got \"c\"") (with a suggestion when one is close).
  void check(const std::string& value, const std::string& where) const;
};

}  // namespace rlhf::config
