#include "rlhf/config/constraints.h"

#include <algorithm>
#include <cmath>

#include "rlhf/config/keys.h"
#include "rlhf/config/values.h"
#include "rlhf/util/error.h"

namespace rlhf::config {
namespace {

bool inside(const Range& range, long double value) {
  const long double lo = range.lo;
  const long double hi = range.hi;
  const bool above = range.lo_open ? value > lo : value >= lo;  // false for NaN
  const bool below = range.hi_open ? value < hi : value <= hi;
  return above && below;
}

[[noreturn]] void out_of_range(const Range& range, const std::string& shown, const std::string& where) {
  throw Error(where + ": must be " + range.describe() + ", got " + shown);
}

std::string join(const std::vector<std::string>& values, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? separator : "") + values[i];
  return out;
}

}  // namespace

Range Range::at_least(double lo) {
  return Range{lo, std::numeric_limits<double>::infinity(), false, false};
}
Range Range::greater_than(double lo) {
  return Range{lo, std::numeric_limits<double>::infinity(), true, false};
}
Range Range::at_most(double hi) {
  return Range{-std::numeric_limits<double>::infinity(), hi, false, false};
}
Range Range::less_than(double hi) {
  return Range{-std::numeric_limits<double>::infinity(), hi, false, true};
}
Range Range::between(double lo, double hi) {
  return Range{lo, hi, false, false};
}
Range Range::in_open_closed(double lo, double hi) {
  return Range{lo, hi, true, false};
}

std::string Range::describe() const {
  const bool has_lo = !std::isinf(lo);
  const bool has_hi = !std::isinf(hi);
  if (has_lo && has_hi) {
    return std::string("in ") + (lo_open ? "(" : "[") + detail::format_number(lo) + ", " + detail::format_number(hi) +
           (hi_open ? ")" : "]");
  }
  if (has_lo) return (lo_open ? "> " : ">= ") + detail::format_number(lo);
  if (has_hi) return (hi_open ? "< " : "<= ") + detail::format_number(hi);
  return "any number";
}

void Range::check(std::int64_t value, const std::string& where) const {
  if (!inside(*this, static_cast<long double>(value))) out_of_range(*this, std::to_string(value), where);
}
void Range::check(std::uint64_t value, const std::string& where) const {
  if (!inside(*this, static_cast<long double>(value))) out_of_range(*this, std::to_string(value), where);
}
void Range::check(double value, const std::string& where) const {
  if (!inside(*this, value)) out_of_range(*this, detail::format_number(value), where);
}
void Range::check(float value, const std::string& where) const {
  if (!inside(*this, value)) out_of_range(*this, detail::format_number(value), where);
}

std::string OneOf::describe() const {
  return "one of " + join(values, ", ");
}

void OneOf::check(const std::string& value, const std::string& where) const {
  if (std::find(values.begin(), values.end(), value) != values.end()) return;
  std::string message = where + ": must be " + describe() + ", got " + detail::show_json(value);
  if (const auto close = detail::closest_match(value, values)) message += " (did you mean \"" + *close + "\"?)";
  throw Error(message);
}

}  // namespace rlhf::config
