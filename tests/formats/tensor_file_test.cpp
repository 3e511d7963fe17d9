#include "rlhf/formats/tensor_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "expected.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::formats {
namespace {

namespace fs = std::filesystem;
using testing::fixture;
using ::testing::HasSubstr;

std::string error_of(const std::string& name, const std::string& bytes) {
  try {
    TensorFile::from_bytes(name, {bytes.begin(), bytes.end()});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string open_error(const fs::path& path) {
  try {
    TensorFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DType, NamesAndSizes) {
  const std::vector<std::pair<DType, std::size_t>> all = {
      {DType::F64, 8}, {DType::F32, 4}, {DType::F16, 2}, {DType::BF16, 2}, {DType::I64, 8},
      {DType::I32, 4}, {DType::I16, 2}, {DType::I8, 1},  {DType::U8, 1},   {DType::Bool, 1}};
  for (const auto& [dtype, size] : all) {
    EXPECT_EQ(dtype_size(dtype), size);
    EXPECT_EQ(dtype_from_name(dtype_name(dtype)), dtype);
  }
  EXPECT_EQ(dtype_name(DType::Bool), "BOOL");
  EXPECT_EQ(dtype_name(DType::BF16), "BF16");
  EXPECT_EQ(dtype_from_name("bool"), std::nullopt);
  EXPECT_EQ(dtype_from_name("U16"), std::nullopt);
}

TEST(TensorFile, DetectsFormatByContent) {
  // A safetensors file under a .bin name, and a torch zip under a .safetensors name.
  const auto safetensors = read_binary_file(fixture("several.safetensors"));
  EXPECT_EQ(TensorFile::from_bytes("weights.bin", safetensors).format(), "safetensors");
  const auto zip = read_binary_file(fixture("torch_views.bin"));
  EXPECT_EQ(TensorFile::from_bytes("weights.safetensors", zip).format(), "torch-zip");
}

// A header of 128 bytes makes the file start with 0x80, the first byte of a pickle: still safetensors.
TEST(TensorFile, SafetensorsWhoseLengthStartsLikeAPickle) {
  std::string header = R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  header.resize(128, ' ');
  std::vector<std::uint8_t> bytes = {0x80, 0, 0, 0, 0, 0, 0, 0};
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.push_back(42);
  const TensorFile file = TensorFile::from_bytes("len128.safetensors", bytes);
  EXPECT_EQ(file.format(), "safetensors");
  EXPECT_EQ(file.find("x")->data[0], 42);
}

TEST(TensorFile, RejectsUnknownFormats) {
  EXPECT_EQ(error_of("model.bin", "hello world, no tensors here"),
            "model.bin: not a safetensors or PyTorch zip file (28 bytes, starting with 68 65 6c 6c 6f 20 77 6f)");
  EXPECT_THAT(error_of("tf_model.h5", std::string("\x89HDF\r\n\x1a\n\0\0\0\0", 12)),
              HasSubstr("tf_model.h5: not a safetensors or PyTorch zip file (12 bytes"));
  EXPECT_THAT(error_of("tf_model.h5", std::string("\x89HDF\r\n\x1a\n\0\0\0\0", 12)), HasSubstr("HDF5"));
  EXPECT_THAT(error_of("x.gguf", "GGUF\3\0\0\0"), HasSubstr("GGUF"));
  EXPECT_EQ(error_of("empty.bin", ""), "empty.bin: file is empty: not a safetensors or PyTorch zip file");
  EXPECT_THAT(error_of("p.bin", "\x80\x02K\x01."), HasSubstr("p.bin: this is a legacy (pre-PyTorch-1.6) pickle"));
}

TEST(TensorFile, OpenReportsMissingFilesAndDirectories) {
  EXPECT_EQ(open_error("/nonexistent/model.safetensors"), "/nonexistent/model.safetensors: file not found");
  EXPECT_THAT(open_error(fs::temp_directory_path()), HasSubstr("is a directory, expected a weights file"));
  const fs::path empty = fs::temp_directory_path() / ("rlhf_empty_" + std::to_string(::getpid()) + ".bin");
  std::ofstream(empty).close();
  EXPECT_EQ(open_error(empty), empty.string() + ": file is empty: not a safetensors or PyTorch zip file");
  fs::remove(empty);
}

TEST(TensorFile, ViewsSurviveMoves) {
  auto file = TensorFile::open(fixture("torch_dtypes.bin"));
  const TensorView* f32 = file.find("f32");
  ASSERT_NE(f32, nullptr);
  const std::uint8_t* data = f32->data;
  TensorFile moved = std::move(file);
  EXPECT_EQ(moved.find("f32")->data, data);
  TensorFile assigned = TensorFile::open(fixture("several.safetensors"));
  assigned = std::move(moved);
  EXPECT_EQ(assigned.find("f32")->data, data);
  testing::expect_matches(assigned, "torch_dtypes.bin");
}

TEST(TensorFile, FromBytesMatchesOpen) {
  for (const char* name : {"several.safetensors", "torch_module.bin"}) {
    const auto file = TensorFile::from_bytes(name, read_binary_file(fixture(name)));
    EXPECT_EQ(file.path(), fs::path(name));
    testing::expect_matches(file, name);
  }
}

TEST(TensorView, NumelAndContiguity) {
  const TensorView scalar{"s", DType::F32, {}, {}, nullptr, 4};
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_TRUE(scalar.is_contiguous());
  const TensorView t{"t", DType::F32, {2, 3}, {1, 2}, nullptr, 24};
  EXPECT_EQ(t.numel(), 6);
  EXPECT_FALSE(t.is_contiguous());
  const TensorView unit{"u", DType::F32, {3, 1}, {1, 7}, nullptr, 12};  // size-1 dims may have any stride
  EXPECT_TRUE(unit.is_contiguous());
}

}  // namespace
}  // namespace rlhf::formats
