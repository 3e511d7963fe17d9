#include "rlhf/model/batching.h"

#include <algorithm>

namespace rlhf::model {

PaddedBatch pad_right(const std::vector<std::vector<int>>& rows, std::int64_t pad_id) {
  std::size_t width = 1;
  for (const auto& row : rows) width = std::max(width, row.size());
  const auto B = static_cast<std::int64_t>(rows.size()), T = static_cast<std::int64_t>(width);
  PaddedBatch batch{at::full({B, T}, pad_id, at::kLong), at::zeros({B, T}, at::kBool)};
  auto ids = batch.ids.accessor<std::int64_t, 2>();
  auto mask = batch.mask.accessor<bool, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::size_t t = 0; t < rows[b].size(); ++t) {
      ids[b][t] = rows[b][t];
      mask[b][t] = true;
    }
  }
  return batch;
}

at::Tensor real_token_mask(const at::Tensor& ids, std::int64_t pad_id, std::int64_t vocab_size) {
  return ids.ne(pad_id).logical_and(ids.ge(0)).logical_and(ids.lt(vocab_size));
}

}  // namespace rlhf::model
