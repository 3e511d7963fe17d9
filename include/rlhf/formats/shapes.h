// Shape arithmetic shared by the parsers. All of it is overflow-checked: a shape comes from the
// file, and a wrapped product would turn a bounds check into an out-of-bounds read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rlhf/formats/tensor_file.h"

namespace rlhf::formats {

std::string shape_to_string(const std::vector<std::int64_t>& shape);  // "[2, 3]"

// Bytes of a contiguous tensor: prod(shape) * dtype_size. Throws Error naming the source and the
// tensor if a dimension is negative or the product overflows (also counting empty dimensions as 1,
// so that the strides of an empty tensor cannot overflow either).
std::uint64_t checked_nbytes(const std::string& source, const std::string& name, const std::vector<std::int64_t>& shape,
                             DType dtype);

// Row-major strides in elements; call after checked_nbytes accepted the shape.
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape);

// Elements spanned by a strided tensor, from its first element to one past its last:
// 1 + sum((size_i - 1) * stride_i), or 0 if it is empty. Throws on negative sizes or strides,
// a rank mismatch, or overflow.
std::uint64_t strided_span(const std::string& source, const std::string& name, const std::vector<std::int64_t>& shape,
                           const std::vector<std::int64_t>& strides);

}  // namespace rlhf::formats
