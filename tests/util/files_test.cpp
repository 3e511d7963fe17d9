#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("rlhf_util_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Files, ReadMissingFileNamesThePath) {
  try {
    read_text_file("/nonexistent/dir/file.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/file.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos);
  }
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemporary) {
  const fs::path dir = fresh_dir("atomic");
  write_file_atomic(dir / "a.txt", "first");
  write_file_atomic(dir / "a.txt", "second");
  EXPECT_EQ(read_text_file(dir / "a.txt"), "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::remove_all(dir);
}

TEST(Files, AtomicWriteIntoMissingDirectoryFailsCleanly) {
  EXPECT_THROW(write_file_atomic("/nonexistent/dir/a.txt", "x"), Error);
}

TEST(Files, StagedDirectoryReplacesOnlyOnCommit) {
  const fs::path dir = fresh_dir("staged");
  const fs::path target = dir / "model";
  {
    StagedDirectory staged(target);
    write_file_atomic(staged.path() / "weights", "good");
    staged.commit();
  }
  EXPECT_EQ(read_text_file(target / "weights"), "good");
  {
    StagedDirectory staged(target);
    write_file_atomic(staged.path() / "weights", "half-written");
    // No commit: as if the process failed while saving.
  }
  EXPECT_EQ(read_text_file(target / "weights"), "good");
  {
    StagedDirectory staged(target);
    write_file_atomic(staged.path() / "weights", "better");
    staged.commit();
  }
  EXPECT_EQ(read_text_file(target / "weights"), "better");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1) << "no staging or old directories left behind";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rlhf
