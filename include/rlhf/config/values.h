// The value types a configuration field may have, and their conversions from JSON, from --set text
// and back to JSON. One non-template overload per type; the code lives in src/config/values.cpp.
// `where` is the prefix of every error message ("configs/x.json: sampling.top_k").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace rlhf::config::detail {

enum class Scalar { Bool, Int, Int64, UInt64, Float, Double, String };
enum class Shape { One, Optional, List };

struct TypeInfo {
  Scalar scalar;
  Shape shape;
};

// TypeOf<T>::supported tells whether T may be a field; TypeOf<T>::info describes it.
template <class T>
struct TypeOf {
  static constexpr bool supported = false;
};
template <Scalar S>
struct ScalarType {
  static constexpr bool supported = true;
  static constexpr TypeInfo info{S, Shape::One};
};
template <>
struct TypeOf<bool> : ScalarType<Scalar::Bool> {};
template <>
struct TypeOf<int> : ScalarType<Scalar::Int> {};
template <>
struct TypeOf<std::int64_t> : ScalarType<Scalar::Int64> {};
template <>
struct TypeOf<std::uint64_t> : ScalarType<Scalar::UInt64> {};
template <>
struct TypeOf<float> : ScalarType<Scalar::Float> {};
template <>
struct TypeOf<double> : ScalarType<Scalar::Double> {};
template <>
struct TypeOf<std::string> : ScalarType<Scalar::String> {};
template <class T>
struct TypeOf<std::optional<T>> {
  static constexpr bool supported = TypeOf<T>::supported && TypeOf<T>::info.shape == Shape::One;
  static constexpr TypeInfo info{TypeOf<T>::info.scalar, Shape::Optional};
};
template <class T>
struct ListType {
  static constexpr bool supported = true;
  static constexpr TypeInfo info{TypeOf<T>::info.scalar, Shape::List};
};
template <>
struct TypeOf<std::vector<std::string>> : ListType<std::string> {};
template <>
struct TypeOf<std::vector<int>> : ListType<int> {};
template <>
struct TypeOf<std::vector<double>> : ListType<double> {};
template <>
struct TypeOf<std::vector<std::int64_t>> : ListType<std::int64_t> {};

// "int", "optional double", "list of strings", ...
std::string type_name(TypeInfo info);

// JSON -> value. Throws rlhf::Error("WHERE: expected an integer, got \"ten\"").
// Floats and doubles also accept the strings "inf", "-inf" and "nan" (what to_json writes for them).
void read_value(const nlohmann::json& j, bool& out, const std::string& where);
void read_value(const nlohmann::json& j, int& out, const std::string& where);
void read_value(const nlohmann::json& j, std::int64_t& out, const std::string& where);
void read_value(const nlohmann::json& j, std::uint64_t& out, const std::string& where);
void read_value(const nlohmann::json& j, float& out, const std::string& where);
void read_value(const nlohmann::json& j, double& out, const std::string& where);
void read_value(const nlohmann::json& j, std::string& out, const std::string& where);
void read_value(const nlohmann::json& j, std::vector<std::string>& out, const std::string& where);
void read_value(const nlohmann::json& j, std::vector<int>& out, const std::string& where);
void read_value(const nlohmann::json& j, std::vector<double>& out, const std::string& where);
void read_value(const nlohmann::json& j, std::vector<std::int64_t>& out, const std::string& where);

// null means "not set".
template <class T>
void read_value(const nlohmann::json& j, std::optional<T>& out, const std::string& where) {
  if (j.is_null()) {
    out.reset();
    return;
  }
  T value{};
  read_value(j, value, where);
  out = std::move(value);
}

// Value -> JSON (floats written with the fewest digits that read back the same float).
nlohmann::ordered_json write_value(bool value);
nlohmann::ordered_json write_value(int value);
nlohmann::ordered_json write_value(std::int64_t value);
nlohmann::ordered_json write_value(std::uint64_t value);
nlohmann::ordered_json write_value(float value);
nlohmann::ordered_json write_value(double value);
nlohmann::ordered_json write_value(const std::string& value);
nlohmann::ordered_json write_value(const std::vector<std::string>& value);
nlohmann::ordered_json write_value(const std::vector<int>& value);
nlohmann::ordered_json write_value(const std::vector<double>& value);
nlohmann::ordered_json write_value(const std::vector<std::int64_t>& value);

template <class T>
nlohmann::ordered_json write_value(const std::optional<T>& value) {
  return value ? write_value(*value) : nlohmann::ordered_json(nullptr);
}

// The text of `--set key=TEXT` as the JSON value that read_value then checks:
//   strings: the text itself (a JSON-quoted string is unquoted); optional strings: "null" = not set;
//   bools: true/false/1/0; numbers: a JSON number; optionals: "null" = not set;
//   lists: a JSON array, or comma-separated items ("" = empty list).
// Text that does not parse becomes a JSON string, so that read_value reports it as the wrong type.
nlohmann::json override_text_to_json(const std::string& text, TypeInfo info);

// Shortest decimal text that reads back as the same number ("0.1", "1", "1e-05").
std::string format_number(double value);
std::string format_number(float value);

// A JSON value for an error message: its dump, shortened when long.
std::string show_json(const nlohmann::json& j);

}  // namespace rlhf::config::detail
