// Compares a TensorFile with tests/data/formats/expected.json, which scripts/make_format_fixtures.py
// writes from the very tensors PyTorch saved: every element is compared exactly, as bytes and as
// a number, after walking the view's strides.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rlhf/formats/tensor_file.h"

namespace rlhf::formats::testing {

inline std::string fixture(const std::string& name) { return std::string(RLHF_TEST_DATA) + "/formats/" + name; }

inline const nlohmann::json& expected_json() {
  static const nlohmann::json expected = [] {
    std::ifstream in(fixture("expected.json"));
    return nlohmann::json::parse(in);
  }();
  return expected;
}

// The elements of `view` in row-major order, gathered through its strides.
inline std::vector<std::uint8_t> logical_bytes(const TensorView& view) {
  const std::size_t element = dtype_size(view.dtype);
  std::vector<std::uint8_t> out;
  const std::int64_t numel = view.numel();
  std::vector<std::int64_t> index(view.shape.size(), 0);
  for (std::int64_t n = 0; n < numel; ++n) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d < index.size(); ++d) offset += index[d] * view.strides[d];
    EXPECT_LE(static_cast<std::size_t>(offset + 1) * element, view.nbytes) << view.name;
    const std::uint8_t* p = view.data + offset * element;
    out.insert(out.end(), p, p + element);
    for (std::size_t d = index.size(); d-- > 0;) {  // odometer
      if (++index[d] < view.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

inline std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 31, mantissa = h & 1023;
  float value;
  if (exponent == 0) {
    value = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal (or zero)
  } else if (exponent == 31) {
    value = mantissa ? NAN : INFINITY;
  } else {
    value = std::ldexp(static_cast<float>(mantissa | 1024), static_cast<int>(exponent) - 25);
  }
  return sign ? -value : value;
}

template <typename T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// One element as a double (exact for every supported dtype except I64 beyond 2^53; see callers).
inline double element_value(DType dtype, const std::uint8_t* p) {
  switch (dtype) {
    case DType::F64: return load<double>(p);
    case DType::F32: return load<float>(p);
    case DType::F16: return half_to_float(load<std::uint16_t>(p));
    case DType::BF16: {
      const std::uint32_t bits = static_cast<std::uint32_t>(load<std::uint16_t>(p)) << 16;
      return load<float>(reinterpret_cast<const std::uint8_t*>(&bits));
    }
    case DType::I64: return static_cast<double>(load<std::int64_t>(p));
    case DType::I32: return load<std::int32_t>(p);
    case DType::I16: return load<std::int16_t>(p);
    case DType::I8: return load<std::int8_t>(p);
    case DType::U8: return *p;
    case DType::Bool: return *p;
  }
  return 0;
}

inline void expect_matches(const TensorFile& file, const std::string& fixture_name) {
  const auto& expected = expected_json().at(fixture_name);
  EXPECT_EQ(file.format(), expected.at("format").get<std::string>());
  EXPECT_EQ(file.metadata(), (expected.at("metadata").get<std::map<std::string, std::string>>()));
  const auto& tensors = expected.at("tensors");
  ASSERT_EQ(file.tensors().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& want = tensors[i];
    const TensorView& view = file.tensors()[i];
    SCOPED_TRACE(fixture_name + ": " + view.name);
    EXPECT_EQ(view.name, want.at("name").get<std::string>());  // file order
    EXPECT_EQ(dtype_name(view.dtype), want.at("dtype").get<std::string>());
    EXPECT_EQ(view.shape, want.at("shape").get<std::vector<std::int64_t>>());
    EXPECT_EQ(view.strides, want.at("strides").get<std::vector<std::int64_t>>());
    EXPECT_EQ(file.find(view.name), &view);
    const auto bytes = logical_bytes(view);
    EXPECT_EQ(to_hex(bytes), want.at("hex").get<std::string>());
    const auto& values = want.at("values");
    const std::size_t element = dtype_size(view.dtype);
    ASSERT_EQ(values.size() * element, bytes.size());
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (view.dtype == DType::I64) {
        EXPECT_EQ(load<std::int64_t>(&bytes[k * element]), values[k].get<std::int64_t>());
      } else {
        EXPECT_EQ(element_value(view.dtype, &bytes[k * element]), values[k].get<double>()) << "element " << k;
      }
    }
  }
}

}  // namespace rlhf::formats::testing
