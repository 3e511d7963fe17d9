// Small helpers shared by the LibTorch tests.
#pragma once

#include <ATen/ATen.h>

#include <initializer_list>
#include <vector>

namespace rlhf::testing {

// An int64 [rows, cols] tensor from nested braces (at::tensor takes only flat lists).
inline at::Tensor long_matrix(std::initializer_list<std::initializer_list<std::int64_t>> rows) {
  std::vector<std::int64_t> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  const auto n_rows = static_cast<std::int64_t>(rows.size());
  return at::tensor(flat, at::kLong).view({n_rows, static_cast<std::int64_t>(flat.size()) / n_rows});
}

inline at::Tensor float_matrix(std::initializer_list<std::initializer_list<float>> rows) {
  std::vector<float> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  const auto n_rows = static_cast<std::int64_t>(rows.size());
  return at::tensor(flat, at::kFloat).view({n_rows, static_cast<std::int64_t>(flat.size()) / n_rows});
}

}  // namespace rlhf::testing
