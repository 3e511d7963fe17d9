// Format fortune: strfile source files (texts between lines holding only '%'), one file or a
// directory of them, checked on a hand-made fixture and, where Debian's `fortunes` is installed,
// against the entry count that strfile wrote into the .dat index.
#include <fstream>

#include "dataset_test_util.h"
#include "rlhf/data/queries.h"

namespace rlhf::data {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::test_data;
using testing::tiny_tokenizer;
using testing::write_temp;
namespace fs = std::filesystem;

using Texts = std::vector<std::string>;

QueryOptions fortune_options(const fs::path& path) {
  QueryOptions options;
  options.format = "fortune";
  options.path = path.string();
  options.query_length = 64;
  options.shuffle = false;
  return options;
}

Texts texts_of(const QueryDataset& data) {
  Texts texts;
  for (std::size_t i = 0; i < data.size(); ++i) texts.push_back(data[i].text);
  return texts;
}

const Texts kAlpha = {"First fortune,\ntwo lines.", "Second fortune.\n%% not a separator\n 50% sure",
                      "Last one without a trailing percent"};

TEST(FortuneQueries, OneFile) {
  // Empty and blank entries ("%\n%", "%\n   \n%") are not texts.
  const QueryDataset data =
      QueryDataset::load(fortune_options(test_data() / "queries" / "fortunes" / "alpha"), tiny_tokenizer());
  EXPECT_EQ(texts_of(data), kAlpha);
  EXPECT_EQ(data.skipped(), 0u);
}

TEST(FortuneQueries, DirectoryReadsFilesWithoutExtensionInNameOrder) {
  // alpha.dat, notes.txt and the subdirectory off/ are left out; beta has "\r\n" line ends.
  const QueryDataset data = QueryDataset::load(fortune_options(test_data() / "queries" / "fortunes"), tiny_tokenizer());
  Texts expected = kAlpha;
  expected.insert(expected.end(), {"Beta one.", "Beta two."});
  EXPECT_EQ(texts_of(data), expected);
  EXPECT_EQ(data[4].source_index, 4u);
}

TEST(FortuneQueries, Errors) {
  TempDir dir;
  write_temp(dir, "x.dat", "index");
  EXPECT_THAT(error_of([&] { QueryDataset::load(fortune_options(dir.path()), tiny_tokenizer()); }),
              HasSubstr(dir.path().string() + ": holds no fortune files"));
  const fs::path only_separators = write_temp(dir, "empty", "%\n%\n\n%\n");
  EXPECT_EQ(error_of([&] { QueryDataset::load(fortune_options(only_separators), tiny_tokenizer()); }),
            only_separators.string() + ": contains no texts (check path and format)");
  EXPECT_THAT(error_of([&] { QueryDataset::load(fortune_options(dir.path() / "nope"), tiny_tokenizer()); }),
              HasSubstr("nope: not found"));
}

// strfile's .dat header: version, then the number of entries, big-endian 32-bit words.
std::uint32_t strfile_count(const fs::path& dat) {
  std::ifstream in(dat, std::ios::binary);
  unsigned char header[8] = {};
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  return (std::uint32_t{header[4]} << 24) | (std::uint32_t{header[5]} << 16) | (std::uint32_t{header[6]} << 8) |
         header[7];
}

TEST(FortuneQueries, DebianFortunesMatchStrfileCounts) {
  const fs::path dir = "/usr/share/games/fortunes";
  if (!fs::exists(dir / "debian") || !fs::exists(dir / "debian.dat")) {
    GTEST_SKIP() << "Debian's fortunes package is not installed (scripts/setup.sh installs it)";
  }
  for (const char* name : {"debian", "magic", "pratchett"}) {
    const QueryDataset data = QueryDataset::load(fortune_options(dir / name), tiny_tokenizer());
    EXPECT_EQ(data.size(), strfile_count(dir / (std::string(name) + ".dat"))) << name;
  }
}

}  // namespace
}  // namespace rlhf::data
