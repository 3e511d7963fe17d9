// Turning token lists into the padded [B, T] batches the model takes (the paper's right padding).
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace rlhf::model {

struct PaddedBatch {
  at::Tensor ids;   // int64 [B, T], T = the longest row (at least 1); positions past a row's end hold pad_id
  at::Tensor mask;  // bool [B, T]: true where the row has a token
};

// Right-pads rows into a batch on the CPU.
PaddedBatch pad_right(const std::vector<std::vector<int>>& rows, std::int64_t pad_id);

// The tokens the model should see: neither pad_id nor outside [0, vocab_size). For ids that carry pads
// inside rows (OpenAI's files pad queries and samples with 50259). ids: int64 [B, T] -> bool [B, T].
at::Tensor real_token_mask(const at::Tensor& ids, std::int64_t pad_id, std::int64_t vocab_size);

}  // namespace rlhf::model
