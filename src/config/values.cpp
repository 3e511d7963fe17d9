// Conversions of configuration values: JSON -> value (strict, with messages naming the key and the
// value), value -> JSON, and --set text -> JSON.
#include "rlhf/config/values.h"

#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "rlhf/util/error.h"
#include "rlhf/util/json_depth.h"

namespace rlhf::config::detail {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& where, const std::string& expected, const json& got) {
  throw Error(where + ": expected " + expected + ", got " + show_json(got));
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// An integer of type I from a JSON number; integral floats (1e3) are accepted, 1.5 is not.
template <class I>
I read_integer(const json& j, const std::string& where) {
  constexpr I kMin = std::numeric_limits<I>::min();
  constexpr I kMax = std::numeric_limits<I>::max();
  const std::string range = "an integer in [" + std::to_string(kMin) + ", " + std::to_string(kMax) + "]";
  const std::string kind = kMin == 0 ? "a non-negative integer" : "an integer";
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMax)) fail(where, range, j);
    return static_cast<I>(v);
  }
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v < 0 && kMin == 0) fail(where, kind, j);
    if (v < static_cast<std::int64_t>(kMin) || (kMin != 0 && v > static_cast<std::int64_t>(kMax))) {
      fail(where, range, j);
    }
    return static_cast<I>(v);
  }
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v) || v != std::trunc(v)) fail(where, kind, j);
    if (v < 0 && kMin == 0) fail(where, kind, j);
    // 2^63 and 2^64 are exact doubles; kMax of int32 is exact too.
    const long double hi = static_cast<long double>(kMax) + 1.0L;
    if (static_cast<long double>(v) < static_cast<long double>(kMin) || static_cast<long double>(v) >= hi) {
      fail(where, range, j);
    }
    return static_cast<I>(v);
  }
  fail(where, kind, j);
}

// A double from a JSON number, or from "inf", "-inf", "nan" (how non-finite values are saved).
double read_real(const json& j, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string text = lower(j.get<std::string>());
    if (text == "inf" || text == "+inf" || text == "infinity") return std::numeric_limits<double>::infinity();
    if (text == "-inf" || text == "-infinity") return -std::numeric_limits<double>::infinity();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  fail(where, "a number", j);
}

template <class T>
void read_list(const json& j, std::vector<T>& out, const std::string& where, const char* expected) {
  if (!j.is_array()) fail(where, expected, j);
  std::vector<T> values(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) read_value(j[i], values[i], where + "[" + std::to_string(i) + "]");
  out = std::move(values);
}

ordered_json write_real(double value) {
  if (std::isfinite(value)) return value;
  return format_number(value);  // "inf", "-inf", "nan": JSON has no literal for them
}

template <class T>
ordered_json write_list(const std::vector<T>& values) {
  ordered_json out = ordered_json::array();
  for (const T& v : values) out.push_back(write_value(v));
  return out;
}

// One item of --set text as JSON, by the scalar type it is meant for.
json scalar_from_text(const std::string& text, Scalar scalar, bool optional) {
  if (optional && trim(text) == "null") return nullptr;
  if (scalar == Scalar::String) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
      json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (j.is_string()) return j;
    }
    return text;
  }
  const std::string t = trim(text);
  if (scalar == Scalar::Bool && t == "1") return true;
  if (scalar == Scalar::Bool && t == "0") return false;
  if (!json_depth_ok(t)) return text;  // reported as "expected ..., got \"TEXT\""
  json j = json::parse(t, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return text;  // reported as "expected ..., got \"TEXT\""
  return j;
}

}  // namespace

std::string type_name(TypeInfo info) {
  static const char* const kNames[] = {"bool", "int", "int64", "uint64", "float", "double", "string"};
  const std::string name = kNames[static_cast<int>(info.scalar)];
  switch (info.shape) {
    case Shape::Optional:
      return "optional " + name;
    case Shape::List:
      return "list of " + name + "s";
    case Shape::One:
      break;
  }
  return name;
}

void read_value(const json& j, bool& out, const std::string& where) {
  if (!j.is_boolean()) fail(where, "true or false", j);
  out = j.get<bool>();
}
void read_value(const json& j, int& out, const std::string& where) {
  out = read_integer<int>(j, where);
}
void read_value(const json& j, std::int64_t& out, const std::string& where) {
  out = read_integer<std::int64_t>(j, where);
}
void read_value(const json& j, std::uint64_t& out, const std::string& where) {
  out = read_integer<std::uint64_t>(j, where);
}
void read_value(const json& j, float& out, const std::string& where) {
  const double v = read_real(j, where);
  if (std::isfinite(v) && std::fabs(v) > static_cast<double>(FLT_MAX)) fail(where, "a number in float range", j);
  out = static_cast<float>(v);
}
void read_value(const json& j, double& out, const std::string& where) {
  out = read_real(j, where);
}
void read_value(const json& j, std::string& out, const std::string& where) {
  if (!j.is_string()) fail(where, "a string", j);
  // A JSON file can only hold UTF-8, but --set text can hold any bytes. Refuse them here: the resolved
  // config is saved (and diffed on resume) as JSON, which cannot hold them either.
  try {
    (void)j.dump();
  } catch (const json::type_error&) {
    fail(where, "UTF-8 text", j);  // shown with U+FFFD for each invalid byte
  }
  out = j.get<std::string>();
}
void read_value(const json& j, std::vector<std::string>& out, const std::string& where) {
  read_list(j, out, where, "a list of strings");
}
void read_value(const json& j, std::vector<int>& out, const std::string& where) {
  read_list(j, out, where, "a list of integers");
}
void read_value(const json& j, std::vector<double>& out, const std::string& where) {
  read_list(j, out, where, "a list of numbers");
}
void read_value(const json& j, std::vector<std::int64_t>& out, const std::string& where) {
  read_list(j, out, where, "a list of integers");
}

ordered_json write_value(bool value) {
  return value;
}
ordered_json write_value(int value) {
  return value;
}
ordered_json write_value(std::int64_t value) {
  return value;
}
ordered_json write_value(std::uint64_t value) {
  return value;
}
ordered_json write_value(float value) {
  if (!std::isfinite(value)) return write_real(value);
  // The double nearest the float's shortest decimal form, so that 0.1f is written "0.1".
  return std::strtod(format_number(value).c_str(), nullptr);
}
ordered_json write_value(double value) {
  return write_real(value);
}
ordered_json write_value(const std::string& value) {
  return value;
}
ordered_json write_value(const std::vector<std::string>& value) {
  return write_list(value);
}
ordered_json write_value(const std::vector<int>& value) {
  return write_list(value);
}
ordered_json write_value(const std::vector<double>& value) {
  return write_list(value);
}
ordered_json write_value(const std::vector<std::int64_t>& value) {
  return write_list(value);
}

json override_text_to_json(const std::string& text, TypeInfo info) {
  if (info.shape != Shape::List) return scalar_from_text(text, info.scalar, info.shape == Shape::Optional);
  std::string items = trim(text);
  if (items.empty()) return json::array();
  if (items.front() == '[') {
    if (!json_depth_ok(items)) return text;  // reported as the wrong type
    json j = json::parse(items, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) return j;
    if (info.scalar != Scalar::String || items.back() != ']') return text;  // reported as the wrong type
    items = items.substr(1, items.size() - 2);                              // [a, b] without quotes
    if (trim(items).empty()) return json::array();
  }
  json out = json::array();
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = items.find(',', begin);
    const std::string item = trim(items.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    out.push_back(scalar_from_text(item, info.scalar, false));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string format_number(float value) {
  if (!std::isfinite(value)) return format_number(static_cast<double>(value));
  char buffer[64];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, static_cast<double>(value));
    if (std::strtof(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string show_json(const json& j) {
  constexpr std::size_t kMaxLength = 80;
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxLength) text = text.substr(0, kMaxLength - 3) + "...";
  return text;
}

}  // namespace rlhf::config::detail
