// Fuzz target: the pytorch_model.bin reader: the ZIP reader (formats/zip.h), the restricted pickle
// interpreter (formats/pickle.h) and the state-dict walk over both (formats/torch_zip.h), plus the format
// detection of tensor_file.h. The same input goes to each, so that a mutation need not first get past the
// ZIP layer to reach the unpickler: seeds are whole torch.save files and the data.pkl entries in them.
// Properties, besides "only rlhf::Error on bad input": every tensor view and every stored entry lies
// inside the input (the view's bytes are read, so ASan checks each one).
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "rlhf/formats/pickle.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/formats/torch_zip.h"
#include "rlhf/formats/zip.h"

namespace {

using namespace rlhf::formats;
using rlhf::fuzz::accepts;

void check_span(ByteSpan span, const std::uint8_t* begin, std::size_t size) {
  if (span.size == 0) return;
  FUZZ_CHECK(span.data >= begin && span.data + span.size <= begin + size, "a view reaches outside the input");
  volatile std::uint8_t sink = 0;
  for (std::size_t i = 0; i < span.size; i += 4096) sink = sink ^ span.data[i];
  sink = sink ^ span.data[span.size - 1];
}

void check_views(const TensorFileContents& contents, const std::uint8_t* begin, std::size_t size) {
  for (const auto& view : contents.tensors) check_span({view.data, view.nbytes}, begin, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so that ASan flags any read past the end of the input.
  const std::vector<std::uint8_t> copy(data, data + size);
  const std::uint8_t* bytes = copy.data();
  const ByteSpan span{bytes, size};
  accepts([&] { check_views(parse_torch_zip("fuzz.bin", span), bytes, size); });
  accepts([&] { check_views(parse_tensor_file("fuzz.bin", bytes, size), bytes, size); });
  accepts([&] { pickle::unpickle("fuzz.bin", "data.pkl", span); });
  accepts([&] {
    const ZipArchive zip = ZipArchive::parse("fuzz.zip", span);
    for (const ZipEntry& entry : zip.entries()) {
      FUZZ_CHECK(zip.find(entry.name) != nullptr, "an entry is listed but cannot be found by name");
      accepts([&] { check_span(zip.data(entry), bytes, size); });
    }
  });
  return 0;
}
