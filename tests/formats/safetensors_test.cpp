#include "rlhf/formats/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "builders.h"
#include "expected.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::formats {
namespace {

namespace fs = std::filesystem;
using testing::expect_matches;
using testing::fixture;
using testing::safetensors_bytes;
using ::testing::HasSubstr;

// Parses a safetensors file made of `header` and `data`; returns the error message ("" if none).
std::string error_of(const std::string& header, const std::string& data = "") {
  try {
    TensorFile::from_bytes("bad.safetensors", safetensors_bytes(header, data));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string f32_entry(const std::string& shape, const std::string& offsets) {
  return R"({"dtype":"F32","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

TEST(Safetensors, ReadsFixtureWrittenByPython) {
  const auto file = TensorFile::open(fixture("several.safetensors"));
  EXPECT_EQ(file.path(), fixture("several.safetensors"));
  expect_matches(file, "several.safetensors");
  EXPECT_EQ(file.find("missing"), nullptr);
}

TEST(Safetensors, AcceptsEmptyAndPaddedHeaders) {
  EXPECT_TRUE(TensorFile::from_bytes("a.safetensors", safetensors_bytes("{}", "")).tensors().empty());
  const auto file = TensorFile::from_bytes(
      "b.safetensors", safetensors_bytes(R"({"__metadata__":null,"e":)" + f32_entry("[0,3]", "[0,0]") + "}    ", ""));
  ASSERT_EQ(file.tensors().size(), 1u);
  EXPECT_EQ(file.tensors()[0].nbytes, 0u);
  EXPECT_EQ(file.tensors()[0].numel(), 0);
  EXPECT_TRUE(file.metadata().empty());
}

TEST(Safetensors, KeepsHeaderOrderNotOffsetOrder) {
  const std::string header = R"({"z":)" + f32_entry("[1]", "[4,8]") + R"(,"a":)" + f32_entry("[1]", "[0,4]") + "}";
  const auto file = TensorFile::from_bytes("o.safetensors", safetensors_bytes(header, std::string(8, '\1')));
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensors()[0].name, "z");
  EXPECT_EQ(file.tensors()[1].data - file.tensors()[0].data, -4);
}

TEST(Safetensors, RejectsFileShorterThanLength) {
  try {
    TensorFile::from_bytes("tiny.safetensors", {1, 2, 3});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("tiny.safetensors: file is 3 bytes, shorter than the 8-byte"));
  }
}

TEST(Safetensors, RejectsHeaderLengthPastEnd) {
  auto bytes = safetensors_bytes("{}", std::string(10, ' '));
  bytes[0] = 100;  // claims 100 header bytes, 12 follow
  try {
    TensorFile::from_bytes("cut.safetensors", bytes);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cut.safetensors: header length 100 goes past the end of the file (20 bytes"));
  }
}

TEST(Safetensors, RejectsAbsurdHeaderLength) {
  auto bytes = safetensors_bytes("{}", "");
  bytes[4] = 1;  // 2^32 + 2
  try {
    TensorFile::from_bytes("huge.safetensors", bytes);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("huge.safetensors: header length 4294967298 is absurdly large"));
  }
}

TEST(Safetensors, RejectsMalformedJson) {
  EXPECT_THAT(error_of(R"({"a": )"), HasSubstr("bad.safetensors: header is not valid JSON"));
  EXPECT_THAT(error_of("[1, 2]"), HasSubstr("bad.safetensors: header is JSON but not an object"));
  EXPECT_THAT(error_of(R"({"a": "\xff"})"), HasSubstr("header is not valid JSON"));
}

TEST(Safetensors, RejectsMalformedEntries) {
  EXPECT_THAT(error_of(R"({"a": 5})"), HasSubstr("bad.safetensors: tensor 'a': entry must be an object, got 5"));
  EXPECT_THAT(error_of(R"({"a": {"shape": [], "data_offsets": [0, 0]}})"), HasSubstr("tensor 'a': missing field \"dtype\""));
  EXPECT_THAT(error_of(R"({"a": {"dtype": "F32", "data_offsets": [0, 0]}})"), HasSubstr("missing field \"shape\""));
  EXPECT_THAT(error_of(R"({"a": {"dtype": "F32", "shape": []}})"), HasSubstr("missing field \"data_offsets\""));
  EXPECT_THAT(error_of(R"({"a": {"dtype": 3, "shape": [], "data_offsets": [0, 4]}})"),
              HasSubstr("\"dtype\" must be a string"));
}

TEST(Safetensors, DescribesDeeplyNestedValuesWithoutRecursing) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_THAT(error_of(R"({"a": )" + deep + "}"), HasSubstr("tensor 'a': entry must be an object, got a nested list"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry(deep, "[0,0]") + "}"), HasSubstr("got a nested list"));
}

TEST(Safetensors, RejectsUnknownDtype) {
  EXPECT_THAT(error_of(R"({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}})", "x"),
              HasSubstr("bad.safetensors: tensor 'w': unknown dtype 'F8_E4M3'"));
}

TEST(Safetensors, RejectsBadShapes) {
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[-1]", "[0,0]") + "}"),
              HasSubstr("tensor 'a': \"shape\" must be a list of non-negative integers, got [-1]"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1.5]", "[0,0]") + "}"), HasSubstr("non-negative integers"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("3", "[0,0]") + "}"), HasSubstr("non-negative integers"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[9223372036854775808]", "[0,0]") + "}"),
              HasSubstr("non-negative integers"));
}

TEST(Safetensors, RejectsShapeProductOverflow) {
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[4611686018427387904,4]", "[0,0]") + "}"),
              HasSubstr("tensor 'a': shape [4611686018427387904, 4] has too many elements (integer overflow)"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[0,4611686018427387904,4]", "[0,0]") + "}"),
              HasSubstr("too many elements"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[4611686018427387904]", "[0,0]") + "}"),
              HasSubstr("is too large in bytes (integer overflow)"));
}

TEST(Safetensors, RejectsBadOffsets) {
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[0]") + "}", "1234"),
              HasSubstr("tensor 'a': \"data_offsets\" must be two non-negative integers [begin, end], got [0]"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[0,-4]") + "}", "1234"), HasSubstr("two non-negative integers"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", R"(["0",4])") + "}", "1234"), HasSubstr("two non-negative"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[0]", "[4,0]") + "}", "1234"),
              HasSubstr("tensor 'a': data_offsets begin 4 is after end 0"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[2]", "[0,8]") + "}", "1234"),
              HasSubstr("tensor 'a': data_offsets [0, 8] go past the end of the data buffer (4 bytes)"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[0,18446744073709551615]") + "}", "1234"),
              HasSubstr("past the end of the data buffer"));
}

TEST(Safetensors, RejectsWrongByteSize) {
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[2]", "[0,4]") + "}", "1234"),
              HasSubstr("bad.safetensors: tensor 'a': holds 4 bytes, but shape [2] of F32 needs 8"));
}

TEST(Safetensors, RejectsOverlapsHolesAndTrailingBytes) {
  const std::string data(12, '\0');
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[2]", "[0,8]") + R"(,"b":)" + f32_entry("[2]", "[4,12]") + "}", data),
              HasSubstr("bad.safetensors: tensors 'a' and 'b' overlap (bytes [0, 8) and [4, 12))"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[0,4]") + R"(,"b":)" + f32_entry("[1]", "[8,12]") + "}", data),
              HasSubstr("bad.safetensors: bytes [4, 8) of the data buffer belong to no tensor"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[4,8]") + "}", "12345678"),
              HasSubstr("bytes [0, 4) of the data buffer belong to no tensor"));
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[0,4]") + "}", "12345678"),
              HasSubstr("the data buffer has 8 bytes but the tensors cover only 4"));
}

TEST(Safetensors, RejectsDuplicateNames) {
  EXPECT_THAT(error_of(R"({"a":)" + f32_entry("[1]", "[0,4]") + R"(,"a":)" + f32_entry("[1]", "[4,8]") + "}",
                       "12345678"),
              HasSubstr("bad.safetensors: header lists 'a' twice"));
}

TEST(Safetensors, RejectsBadMetadata) {
  EXPECT_THAT(error_of(R"({"__metadata__": {"format": "pt", "step": 3}})"),
              HasSubstr("bad.safetensors: __metadata__ value for 'step' is not a string: 3"));
  EXPECT_THAT(error_of(R"({"__metadata__": [1]})"), HasSubstr("__metadata__ must be an object of strings"));
}

class SafetensorsWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlhf_formats_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string error_of_write(const std::vector<TensorToWrite>& tensors) {
    try {
      write_safetensors(dir_ / "out.safetensors", tensors, {});
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(SafetensorsWrite, RoundTrips) {
  const float f[] = {1.5f, -2.0f, 0.25f, 8.0f, 3.0f, -0.5f};
  const std::int64_t ids[] = {7, -9};
  const double scalar = 0.125;
  const std::vector<TensorToWrite> tensors = {
      {"w.weight", DType::F32, {2, 3}, f, sizeof f},
      {"ids", DType::I64, {2}, ids, sizeof ids},
      {"scalar", DType::F64, {}, &scalar, sizeof scalar},
      {"empty", DType::F16, {0, 5}, nullptr, 0},
  };
  const fs::path path = dir_ / "model.safetensors";
  write_safetensors(path, tensors, {{"format", "pt"}, {"step", "12"}});
  const auto file = TensorFile::open(path);
  EXPECT_EQ(file.format(), "safetensors");
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"step", "12"}}));
  ASSERT_EQ(file.tensors().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& view = file.tensors()[i];
    EXPECT_EQ(view.name, tensors[i].name);
    EXPECT_EQ(view.dtype, tensors[i].dtype);
    EXPECT_EQ(view.shape, tensors[i].shape);
    EXPECT_TRUE(view.is_contiguous());
    ASSERT_EQ(view.nbytes, tensors[i].nbytes);
    if (view.nbytes) {
      EXPECT_EQ(std::memcmp(view.data, tensors[i].data, view.nbytes), 0);
    }
  }
  EXPECT_EQ(file.find("scalar")->strides, std::vector<std::int64_t>{});
  EXPECT_EQ(file.find("w.weight")->strides, (std::vector<std::int64_t>{3, 1}));
  // The spec's layout: header length is a multiple of 8 and the data starts right after it.
  const auto bytes = read_binary_file(path);
  const std::uint64_t header = load_u64(bytes.data());
  EXPECT_EQ(header % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header + sizeof f + sizeof ids + sizeof scalar);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // no temp file left
}

TEST_F(SafetensorsWrite, MatchesPythonWriterByteForByte) {
  const auto reference = TensorFile::open(fixture("several.safetensors"));
  std::vector<TensorToWrite> tensors;
  for (const auto& view : reference.tensors()) {
    tensors.push_back({view.name, view.dtype, view.shape, view.data, view.nbytes});
  }
  const fs::path path = dir_ / "again.safetensors";
  write_safetensors(path, tensors, reference.metadata());
  EXPECT_EQ(read_binary_file(path), read_binary_file(fixture("several.safetensors")));
}

TEST_F(SafetensorsWrite, OmitsEmptyMetadataAndOverwrites) {
  const float x = 1;
  const fs::path path = dir_ / "m.safetensors";
  write_safetensors(path, {{"x", DType::F32, {1}, &x, 4}}, {{"k", "v"}});
  write_safetensors(path, {{"x", DType::F32, {1}, &x, 4}}, {});
  const std::string text = read_text_file(path);
  EXPECT_EQ(text.find("__metadata__"), std::string::npos);
  EXPECT_EQ(text.substr(8, 4), "{\"x\"");
  EXPECT_TRUE(TensorFile::open(path).metadata().empty());
}

TEST_F(SafetensorsWrite, RejectsInconsistentInput) {
  const float x[2] = {1, 2};
  EXPECT_THAT(error_of_write({{"x", DType::F32, {3}, x, 8}}),
              HasSubstr("out.safetensors: tensor 'x': 8 bytes given, but shape [3] of F32 needs 12"));
  EXPECT_THAT(error_of_write({{"x", DType::F32, {2}, x, 8}, {"x", DType::F32, {2}, x, 8}}),
              HasSubstr("out.safetensors: tensor 'x' is given twice"));
  EXPECT_THAT(error_of_write({{"__metadata__", DType::F32, {2}, x, 8}}), HasSubstr("'__metadata__' is reserved"));
  EXPECT_THAT(error_of_write({{"x", DType::F32, {2}, nullptr, 8}}), HasSubstr("tensor 'x': data is null"));
  EXPECT_THAT(error_of_write({{"x", DType::F32, {-2}, x, 8}}), HasSubstr("negative dimension"));
  EXPECT_THAT(error_of_write({{"bad\xff", DType::F32, {2}, x, 8}}), HasSubstr("cannot encode the header"));
  EXPECT_FALSE(fs::exists(dir_ / "out.safetensors"));
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SafetensorsWrite, ReportsUnwritablePath) {
  const float x = 1;
  try {
    write_safetensors(dir_ / "no" / "such" / "dir.safetensors", {{"x", DType::F32, {1}, &x, 4}}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dir.safetensors: cannot open for writing"));
  }
}

}  // namespace
}  // namespace rlhf::formats
