// Fuzz target: the safetensors reader (include/rlhf/formats/safetensors.h) and the format detection of
// tensor_file.h. The input is a whole file.
// Properties, besides "only rlhf::Error on bad input":
//   - every tensor view lies inside the input (the bytes are read, so ASan checks each one);
//   - a file the reader accepts survives a round trip: safetensors_header of its tensors plus their
//     bytes parses back to the same names, dtypes, shapes, bytes and metadata.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_util.h"
#include "rlhf/formats/safetensors.h"
#include "rlhf/formats/tensor_file.h"

namespace {

using namespace rlhf::formats;
using rlhf::fuzz::accepts;

void check_views(const TensorFileContents& contents, const std::uint8_t* begin, std::size_t size) {
  for (const auto& view : contents.tensors) {
    if (view.nbytes == 0) continue;
    FUZZ_CHECK(view.data >= begin && view.data + view.nbytes <= begin + size, "a view reaches outside the input");
    volatile std::uint8_t sink = 0;
    for (std::size_t i = 0; i < view.nbytes; i += 4096) sink = sink ^ view.data[i];
    sink = sink ^ view.data[view.nbytes - 1];
  }
}

void check_round_trip(const TensorFileContents& contents) {
  std::vector<TensorToWrite> tensors;
  for (const auto& view : contents.tensors) tensors.push_back({view.name, view.dtype, view.shape, view.data, view.nbytes});
  std::string file = safetensors_header("round trip", tensors, contents.metadata);
  for (const auto& view : contents.tensors) file.append(reinterpret_cast<const char*>(view.data), view.nbytes);
  const ByteSpan span{reinterpret_cast<const std::uint8_t*>(file.data()), file.size()};
  const TensorFileContents again = parse_safetensors("round trip", span);
  FUZZ_CHECK(again.metadata == contents.metadata, "metadata changed in the round trip");
  FUZZ_CHECK(again.tensors.size() == contents.tensors.size(), "tensor count changed in the round trip");
  for (std::size_t i = 0; i < again.tensors.size(); ++i) {
    const TensorView& a = contents.tensors[i];
    const TensorView& b = again.tensors[i];
    FUZZ_CHECK(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.nbytes == b.nbytes,
               "a tensor changed in the round trip");
    FUZZ_CHECK(a.nbytes == 0 || std::memcmp(a.data, b.data, a.nbytes) == 0, "tensor bytes changed in the round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so that ASan flags any read past the end of the input.
  const std::vector<std::uint8_t> copy(data, data + size);
  const ByteSpan span{copy.data(), size};
  TensorFileContents contents;
  if (accepts([&] { contents = parse_safetensors("fuzz.safetensors", span); })) {
    check_views(contents, copy.data(), size);
    check_round_trip(contents);
  }
  accepts([&] { check_views(parse_tensor_file("fuzz.safetensors", copy.data(), size), copy.data(), size); });
  return 0;
}
