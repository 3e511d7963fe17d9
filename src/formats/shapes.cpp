#include "rlhf/formats/shapes.h"

#include <limits>

#include "rlhf/formats/bytes.h"
#include "rlhf/util/error.h"

namespace rlhf::formats {
namespace {

constexpr std::uint64_t kMaxElements = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

[[noreturn]] void shape_error(const std::string& source, const std::string& name, const std::string& what) {
  throw_file_error(source, "tensor '" + name + "': " + what);
}

}  // namespace

std::string shape_to_string(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::uint64_t checked_nbytes(const std::string& source, const std::string& name, const std::vector<std::int64_t>& shape,
                             DType dtype) {
  std::uint64_t padded = 1;  // product with empty dimensions counted as 1
  bool empty = false;
  for (const auto dim : shape) {
    if (dim < 0) shape_error(source, name, "negative dimension in shape " + shape_to_string(shape));
    empty = empty || dim == 0;
    const auto factor = static_cast<std::uint64_t>(dim == 0 ? 1 : dim);
    if (!checked_mul(padded, factor, padded) || padded > kMaxElements) {
      shape_error(source, name, "shape " + shape_to_string(shape) + " has too many elements (integer overflow)");
    }
  }
  std::uint64_t nbytes = 0;
  if (!empty && !checked_mul(padded, dtype_size(dtype), nbytes)) {
    shape_error(source, name, "shape " + shape_to_string(shape) + " is too large in bytes (integer overflow)");
  }
  return nbytes;
}

std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i] == 0 ? 1 : shape[i];  // checked_nbytes bounded this product
  }
  return strides;
}

std::uint64_t strided_span(const std::string& source, const std::string& name, const std::vector<std::int64_t>& shape,
                           const std::vector<std::int64_t>& strides) {
  if (shape.size() != strides.size()) {
    shape_error(source, name, "shape " + shape_to_string(shape) + " and strides " + shape_to_string(strides) +
                                  " differ in length");
  }
  std::uint64_t last = 0;  // index of the last element
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) shape_error(source, name, "negative dimension in shape " + shape_to_string(shape));
    if (strides[i] < 0) shape_error(source, name, "negative stride in " + shape_to_string(strides));
    if (shape[i] == 0) return 0;
  }
  for (std::size_t i = 0; i < shape.size(); ++i) {
    std::uint64_t step = 0;
    if (!checked_mul(static_cast<std::uint64_t>(shape[i] - 1), static_cast<std::uint64_t>(strides[i]), step) ||
        !checked_add(last, step, last) || last >= kMaxElements) {
      shape_error(source, name, "shape " + shape_to_string(shape) + " with strides " + shape_to_string(strides) +
                                    " spans too many elements (integer overflow)");
    }
  }
  return last + 1;
}

}  // namespace rlhf::formats
