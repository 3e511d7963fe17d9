#include "rlhf/formats/zip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "builders.h"
#include "rlhf/util/error.h"

namespace rlhf::formats {
namespace {

using testing::build_zip;
using testing::ZipOptions;
using ::testing::HasSubstr;

ByteSpan span(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string error_of(const std::string& zip) {
  try {
    ZipArchive::parse("a.zip", span(zip));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Zip, ListsEntriesAndFindsTheirData) {
  ZipOptions options;
  options.local_padding = 13;  // the local extra field differs from the central one
  const std::string zip = build_zip({{"a/x", "hello"}, {"a/y", ""}, {"b", "world!"}}, options);
  const auto archive = ZipArchive::parse("a.zip", span(zip));
  ASSERT_EQ(archive.entries().size(), 3u);
  EXPECT_EQ(archive.entries()[2].name, "b");
  EXPECT_EQ(archive.data(*archive.find("a/x")).str(), "hello");
  EXPECT_EQ(archive.data(*archive.find("a/y")).size, 0u);
  EXPECT_EQ(archive.data(*archive.find("b")).str(), "world!");
  EXPECT_EQ(archive.find("c"), nullptr);
  EXPECT_TRUE(ZipArchive::parse("empty.zip", span(build_zip({}))).entries().empty());
}

TEST(Zip, ReadsZip64ExtraFields) {
  ZipOptions options;
  options.zip64_extra = true;
  const std::string zip = build_zip({{"a", "12345"}, {"b", "678"}}, options);
  const auto archive = ZipArchive::parse("a.zip", span(zip));
  EXPECT_EQ(archive.data(*archive.find("b")).str(), "678");
  EXPECT_EQ(archive.find("b")->size, 3u);
}

TEST(Zip, RejectsInconsistentDirectories) {
  std::string zip = build_zip({{"a", "12345"}});
  const std::size_t cd = zip.find("PK\x01\x02");
  std::string encrypted = zip;
  encrypted[cd + 8] = 1;  // general-purpose flag bit 0
  const auto archive = ZipArchive::parse("a.zip", span(encrypted));
  EXPECT_THROW(archive.data(archive.entries()[0]), Error);

  std::string renamed = zip;
  renamed[cd + 46] = 'z';  // the central name no longer matches the local one
  EXPECT_THAT(error_of(renamed), HasSubstr("a.zip: zip archive: entry 'z': the local header names 'a'"));

  std::string far = zip;
  far[cd + 45] = 0x7f;  // local header offset beyond the file
  EXPECT_THAT(error_of(far), HasSubstr("local header at offset"));

  std::string oversized = zip;
  oversized[cd + 23] = 0x7f;  // compressed size beyond the file
  EXPECT_THAT(error_of(oversized), HasSubstr("data of entry 'a' at offset"));

  std::string saturated = zip;
  for (int i = 20; i < 28; ++i) saturated[cd + i] = '\xff';  // sizes saturated, but no ZIP64 extra
  EXPECT_THAT(error_of(saturated), HasSubstr("saturated 32-bit fields but no ZIP64 extra field"));

  std::string bad_sig = zip;
  bad_sig[cd + 1] = 'Q';
  EXPECT_THAT(error_of(bad_sig), HasSubstr("bad central directory signature"));
}

TEST(Zip, RejectsAbsurdEntryCountsAndMultiDisk) {
  ZipOptions plain;
  plain.zip64_eocd = false;
  std::string zip = build_zip({{"a", "1"}}, plain);
  const std::size_t eocd = zip.size() - 22;
  std::string many = zip;
  many[eocd + 11] = 0x10;  // 4097 entries in a 47-byte directory
  EXPECT_THAT(error_of(many), HasSubstr("central directory claims 4097 entries in 47 bytes"));
  std::string disks = zip;
  disks[eocd + 4] = 1;
  EXPECT_THAT(error_of(disks), HasSubstr("multi-disk archives are not supported"));
}

}  // namespace
}  // namespace rlhf::formats
