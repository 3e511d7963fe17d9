// PyTorch checkpoints as torch.save writes them since 1.6: a ZIP archive holding
// `<archive>/data.pkl` (the pickled state dict), `<archive>/data/<key>` (one entry per storage),
// `<archive>/version` and, since 2.x, `<archive>/byteorder`.
#pragma once

#include <string>

#include "rlhf/formats/bytes.h"
#include "rlhf/formats/tensor_file.h"

namespace rlhf::formats {

// Reads a state dict (a dict from name to tensor) out of the archive in `bytes`; tensor views
// point into `bytes`. Plain non-tensor values (ints, strings, ...) next to the tensors are skipped.
TensorFileContents parse_torch_zip(const std::string& source, ByteSpan bytes);

}  // namespace rlhf::formats
