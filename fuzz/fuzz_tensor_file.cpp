// libFuzzer target for the weight-file parsers. Any input may be rejected with rlhf::Error; any
// other exception, crash, sanitizer report, leak or view reaching outside the input is a bug.
//
// Build and run (seeded with the test fixtures and their data.pkl entries):
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//       src/util/*.cpp src/formats/*.cpp fuzz/fuzz_tensor_file.cpp -o /tmp/fuzz_tensor_file
//   mkdir -p /tmp/corpus && cp tests/data/formats/*.bin tests/data/formats/*.safetensors /tmp/corpus/
//   /tmp/fuzz_tensor_file -max_total_time=60 -rss_limit_mb=4096 /tmp/corpus
#include <cstdint>
#include <cstring>
#include <vector>

#include "rlhf/formats/pickle.h"
#include "rlhf/formats/safetensors.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/formats/torch_zip.h"
#include "rlhf/formats/zip.h"
#include "rlhf/util/error.h"

namespace {

using namespace rlhf::formats;

// Every byte a view claims must lie inside the input; reading them lets ASan check that.
void check_views(const TensorFileContents& contents, const std::uint8_t* begin, std::size_t size) {
  for (const auto& view : contents.tensors) {
    if (view.nbytes == 0) continue;
    if (view.data < begin || view.data + view.nbytes > begin + size) __builtin_trap();
    volatile std::uint8_t sink = 0;
    for (std::size_t i = 0; i < view.nbytes; i += 4096) sink = sink ^ view.data[i];
    sink = sink ^ view.data[view.nbytes - 1];
  }
}

template <typename F>
void expect_only_errors(F&& run) {
  try {
    run();
  } catch (const rlhf::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so that ASan flags any read past the end of the input.
  std::vector<std::uint8_t> copy(data, data + size);
  const std::uint8_t* bytes = copy.data();
  const ByteSpan span{bytes, size};
  expect_only_errors([&] { check_views(parse_tensor_file("fuzz.bin", bytes, size), bytes, size); });
  // Each parser on its own too, so that mutations need not first get past the others.
  expect_only_errors([&] { check_views(parse_safetensors("fuzz.safetensors", span), bytes, size); });
  expect_only_errors([&] { check_views(parse_torch_zip("fuzz.bin", span), bytes, size); });
  expect_only_errors([&] { pickle::unpickle("fuzz.bin", "data.pkl", span); });
  expect_only_errors([&] {
    const auto zip = ZipArchive::parse("fuzz.zip", span);
    for (const auto& entry : zip.entries()) {
      expect_only_errors([&] {
        const ByteSpan body = zip.data(entry);
        if (body.size > 0 && (body.data < bytes || body.data + body.size > bytes + size)) __builtin_trap();
      });
    }
  });
  return 0;
}
