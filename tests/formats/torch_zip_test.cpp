#include "rlhf/formats/torch_zip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "builders.h"
#include "expected.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::formats {
namespace {

using testing::build_zip;
using testing::expect_matches;
using testing::FakeTensor;
using testing::fixture;
using testing::PickleWriter;
using testing::state_dict_pickle;
using testing::to_bytes;
using testing::torch_zip;
using testing::ZipItem;
using testing::ZipOptions;
using ::testing::HasSubstr;

std::string error_of(const std::string& bytes, const std::string& name = "model.bin") {
  try {
    TensorFile::from_bytes(name, to_bytes(bytes));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string floats(std::initializer_list<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

// {"w": FloatStorage "0" of 4 elements viewed as shape [2, 2]}
std::string simple_checkpoint(const std::string& prefix = "archive", const ZipOptions& options = {}) {
  const FakeTensor w{"w", "FloatStorage", "0", 4, 0, {2, 2}, {2, 1}};
  return torch_zip(state_dict_pickle({w}), {{"0", floats({1, 2, 3, 4})}}, prefix, options);
}

std::vector<float> values_of(const TensorView& view) {
  std::vector<float> out(view.nbytes / 4);
  std::memcpy(out.data(), view.data, view.nbytes);
  return out;
}

TEST(TorchZip, ReadsEveryDtype) { expect_matches(TensorFile::open(fixture("torch_dtypes.bin")), "torch_dtypes.bin"); }

TEST(TorchZip, ReadsProtocol4) {
  expect_matches(TensorFile::open(fixture("torch_protocol4.bin")), "torch_protocol4.bin");
}

TEST(TorchZip, ReadsModuleStateDictWithMetadata) {
  const auto file = TensorFile::open(fixture("torch_module.bin"));
  expect_matches(file, "torch_module.bin");
  EXPECT_EQ(file.format(), "torch-zip");
  EXPECT_TRUE(file.metadata().empty());
  ASSERT_NE(file.find("1.num_batches_tracked"), nullptr);
  EXPECT_EQ(file.find("1.num_batches_tracked")->dtype, DType::I64);
}

TEST(TorchZip, ReadsParametersAndSkipsPlainValues) {
  const auto file = TensorFile::open(fixture("torch_parameter.bin"));
  expect_matches(file, "torch_parameter.bin");
  EXPECT_EQ(file.find("steps"), nullptr);
  EXPECT_EQ(file.find("ids"), nullptr);
}

TEST(TorchZip, ReadsViewsSharingOneStorage) {
  const auto file = TensorFile::open(fixture("torch_views.bin"));
  expect_matches(file, "torch_views.bin");
  const TensorView* base = file.find("base");
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(file.find("slice")->data, base->data + 8 * 4);
  EXPECT_EQ(file.find("row")->data, base->data + 18 * 4);
  EXPECT_EQ(file.find("transposed")->data, base->data);
  EXPECT_FALSE(file.find("transposed")->is_contiguous());
  EXPECT_FALSE(file.find("slice")->is_contiguous());
  EXPECT_TRUE(file.find("row")->is_contiguous());
  EXPECT_EQ(file.find("slice")->nbytes, (6 + 3) * 4u);  // rows 1..2, columns 2..4: elements 8..16
  EXPECT_EQ(file.find("expanded")->strides, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(file.find("expanded")->nbytes, 3 * 8u);
}

TEST(TorchZip, RejectsLegacyPickleWithConversionHint) {
  const std::string path = fixture("torch_legacy.bin");
  try {
    TensorFile::open(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ": this is a legacy (pre-PyTorch-1.6) pickle checkpoint; convert it: python -c \"import torch; "
                     "torch.save(torch.load('pytorch_model.bin'), 'pytorch_model.bin', "
                     "_use_new_zipfile_serialization=True)\" or save it as safetensors");
  }
}

TEST(TorchZip, RejectsTrainingCheckpoint) {
  try {
    TensorFile::open(fixture("torch_nested.bin"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("torch_nested.bin: state dict entry 'model' is a dict holding tensors"));
    EXPECT_THAT(e.what(), HasSubstr("save model.state_dict()"));
  }
}

TEST(TorchZip, FindsArchiveFolderByDataPkl) {
  const auto file = TensorFile::from_bytes("x.bin", to_bytes(simple_checkpoint("pytorch_model")));
  ASSERT_EQ(file.tensors().size(), 1u);
  EXPECT_EQ(values_of(file.tensors()[0]), (std::vector<float>{1, 2, 3, 4}));
}

TEST(TorchZip, ReadsZip64ExtrasCommentsAndPaddedLocalHeaders) {
  ZipOptions options;
  options.zip64_extra = true;
  options.comment = "a comment mentioning PK\x05\x06 to mislead the search";
  options.local_padding = 40;
  const auto file = TensorFile::from_bytes("x.bin", to_bytes(simple_checkpoint("archive", options)));
  EXPECT_EQ(values_of(file.tensors().at(0)), (std::vector<float>{1, 2, 3, 4}));
  options = {};
  options.zip64_eocd = false;
  EXPECT_EQ(TensorFile::from_bytes("y.bin", to_bytes(simple_checkpoint("archive", options))).tensors().size(), 1u);
}

TEST(TorchZip, RejectsTruncatedArchive) {
  const std::string whole = simple_checkpoint();
  EXPECT_THAT(error_of(whole.substr(0, whole.size() - 30)),
              HasSubstr("model.bin: zip archive: no end-of-central-directory record found (truncated download?)"));
  EXPECT_THAT(error_of(whole.substr(0, 10)), HasSubstr("model.bin: zip archive: file is too short"));
  ZipOptions plain;
  plain.zip64_eocd = false;
  std::string moved = simple_checkpoint("archive", plain);
  moved[moved.size() - 3] = '\x7f';  // the top byte of the central directory offset
  EXPECT_THAT(error_of(moved), HasSubstr("model.bin: zip archive: central directory at offset"));
  EXPECT_THAT(error_of(moved), HasSubstr("runs past the end of the file"));
}

TEST(TorchZip, RejectsCompressedEntries) {
  const std::string pickle = state_dict_pickle({});
  const std::string zip = build_zip({{"archive/data.pkl", pickle, 8}, {"archive/version", "3\n"}});
  EXPECT_THAT(error_of(zip), HasSubstr("model.bin: zip archive: entry 'archive/data.pkl' is compressed (method 8)"));
}

TEST(TorchZip, RejectsArchivesThatAreNotCheckpoints) {
  EXPECT_THAT(error_of(build_zip({{"readme.txt", "hi"}})),
              HasSubstr("model.bin: a zip archive without <name>/data.pkl: not a PyTorch checkpoint"));
  const std::string pickle = state_dict_pickle({});
  EXPECT_THAT(error_of(build_zip({{"a/data.pkl", pickle}, {"b/data.pkl", pickle}})),
              HasSubstr("several data.pkl entries"));
  EXPECT_THAT(error_of(build_zip({{"a/data.pkl", pickle}, {"a/data.pkl", pickle}})),
              HasSubstr("entry 'a/data.pkl' appears twice"));
}

TEST(TorchZip, RejectsBigEndian) {
  const std::string zip =
      build_zip({{"archive/data.pkl", state_dict_pickle({})}, {"archive/byteorder", "big"}});
  EXPECT_THAT(error_of(zip), HasSubstr("model.bin: the tensors are stored big-endian"));
  const std::string little =
      build_zip({{"archive/data.pkl", state_dict_pickle({})}, {"archive/byteorder", "little"}});
  EXPECT_TRUE(TensorFile::from_bytes("ok.bin", to_bytes(little)).tensors().empty());
}

TEST(TorchZip, RejectsUnsupportedGlobalsWithoutRunningThem) {
  PickleWriter w;
  w.proto().global("os", "system").str("echo hi").op(0x85).reduce().stop();
  EXPECT_THAT(error_of(torch_zip(w.str(), {})),
              HasSubstr("model.bin: archive/data.pkl, byte 2: unsupported pickle global 'os.system'"));
  PickleWriter script;
  script.proto().global("__torch__.MyModel", "MyModel").stop();
  EXPECT_THAT(error_of(torch_zip(script.str(), {})), HasSubstr("this is a TorchScript archive"));
}

TEST(TorchZip, RejectsMissingOrShortStorages) {
  FakeTensor t{"w", "FloatStorage", "5", 4, 0, {4}, {1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), {{"0", floats({1, 2, 3, 4})}})),
              HasSubstr("model.bin: tensor 'w': its storage '5' (entry archive/data/5) is missing from the archive"));
  t.key = "0";
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), {{"0", floats({1, 2})}})),
              HasSubstr("model.bin: tensor 'w': storage entry archive/data/0 holds 8 bytes but declares 16"));
}

TEST(TorchZip, RejectsTensorsReachingPastTheirStorage) {
  const auto storage = std::map<std::string, std::string>{{"0", floats({1, 2, 3, 4, 5})}};
  FakeTensor t{"w", "FloatStorage", "0", 4, 1, {4}, {1}};  // the entry has 5 floats, the storage declares 4
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), storage)),
              HasSubstr("model.bin: tensor 'w': offset 1, shape [4] and strides [1] of F32 reach past its storage (16 bytes)"));
  t = {"w", "FloatStorage", "0", 4, 0, {2, 2}, {3, 1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), storage)), HasSubstr("reach past its storage"));
  t = {"w", "FloatStorage", "0", 4, 0, {2}, {-1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), storage)), HasSubstr("tensor 'w': negative stride in [-1]"));
  t = {"w", "FloatStorage", "0", 4, 0, {2, 2}, {1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), storage)), HasSubstr("differ in length"));
  t = {"w", "FloatStorage", "0", 4, -1, {1}, {1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), storage)), HasSubstr("offset -1"));
  t = {"w", "FloatStorage", "0", 4, 0, {1 << 30, 1 << 30, 1 << 30}, {0, 0, 0}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t}), storage)), HasSubstr("too many elements"));
}

TEST(TorchZip, AcceptsEmptyAndBroadcastTensors) {
  const auto storage = std::map<std::string, std::string>{{"0", floats({1, 2})}};
  const FakeTensor empty{"e", "FloatStorage", "0", 2, 2, {0, 3}, {3, 1}};
  const FakeTensor broadcast{"b", "FloatStorage", "0", 2, 1, {1000, 1}, {0, 1}};
  const auto file = TensorFile::from_bytes("ok.bin", to_bytes(torch_zip(state_dict_pickle({empty, broadcast}), storage)));
  EXPECT_EQ(file.find("e")->nbytes, 0u);
  EXPECT_EQ(file.find("b")->nbytes, 4u);
  EXPECT_EQ(values_of(*file.find("b")), std::vector<float>{2});
}

TEST(TorchZip, RejectsStateDictsOfTheWrongShape) {
  PickleWriter list;
  list.proto().empty_list().stop();
  EXPECT_THAT(error_of(torch_zip(list.str(), {})),
              HasSubstr("model.bin: archive/data.pkl holds a list, not a state dict"));
  PickleWriter int_key;
  int_key.proto().empty_dict().integer(1).integer(2).setitem().stop();
  EXPECT_THAT(error_of(torch_zip(int_key.str(), {})), HasSubstr("a state dict key is not a string"));
  const FakeTensor t{"w", "FloatStorage", "0", 1, 0, {1}, {1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({t, t}), {{"0", floats({1})}})),
              HasSubstr("model.bin: tensor 'w' appears twice in the state dict"));
}

TEST(TorchZip, ReadsUntypedStorageThroughRebuildTensorV3) {
  PickleWriter w;
  w.proto().empty_dict().str("h");
  w.global("torch._utils", "_rebuild_tensor_v3").mark();
  w.mark().str("storage").global("torch", "UntypedStorage").str("0").str("cpu").integer(6).tuple().persid();
  w.integer(1).ints({2}).ints({1}).boolean(false).empty_dict().global("torch", "float16").tuple().reduce();
  w.setitem().stop();
  const std::string halves("\x00\x3c\x00\x40\x00\x42", 6);  // 1, 2, 3 in float16
  const auto file = TensorFile::from_bytes("v3.bin", to_bytes(torch_zip(w.str(), {{"0", halves}})));
  const TensorView& h = file.tensors().at(0);
  EXPECT_EQ(h.dtype, DType::F16);
  EXPECT_EQ(h.nbytes, 4u);
  EXPECT_EQ(std::memcmp(h.data, "\x00\x40\x00\x42", 4), 0);

  FakeTensor untyped{"u", "UntypedStorage", "0", 6, 0, {6}, {1}};
  EXPECT_THAT(error_of(torch_zip(state_dict_pickle({untyped}), {{"0", halves}})),
              HasSubstr("a tensor on an untyped storage needs _rebuild_tensor_v3"));
}

}  // namespace
}  // namespace rlhf::formats
