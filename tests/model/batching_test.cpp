// Padded batches from token lists.
#include <gtest/gtest.h>

#include "rlhf/model/batching.h"
#include "torch_test_util.h"

namespace rlhf::model {
namespace {

TEST(Batching, PadRightFillsAndMasks) {
  const PaddedBatch batch = pad_right({{5, 6, 7}, {8}, {}}, 99);
  EXPECT_TRUE(batch.ids.equal(testing::long_matrix({{5, 6, 7}, {8, 99, 99}, {99, 99, 99}})));
  EXPECT_TRUE(batch.mask.equal(testing::long_matrix({{1, 1, 1}, {1, 0, 0}, {0, 0, 0}}).to(at::kBool)));
  // A batch of empty rows still has one column.
  EXPECT_EQ(pad_right({{}}, 0).ids.sizes(), at::IntArrayRef({1, 1}));
}

TEST(Batching, RealTokenMaskDropsPadsAndIdsOutsideTheVocabulary) {
  const at::Tensor ids = testing::long_matrix({{1, 50259, 2, 600, -1}});
  EXPECT_TRUE(real_token_mask(ids, 50259, 512).equal(testing::long_matrix({{1, 0, 1, 0, 0}}).to(at::kBool)));
}

}  // namespace
}  // namespace rlhf::model
