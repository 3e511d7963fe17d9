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

TEST(Files, WritableDirectoryCheckNamesTheKeyAndWhyBeforeAnyWork) {
  const fs::path dir = fresh_dir("writable");
  check_writable_directory(dir / "new" / "run", "run_dir");  // created, probed, probe removed
  EXPECT_TRUE(fs::is_directory(dir / "new" / "run"));
  EXPECT_TRUE(fs::is_empty(dir / "new" / "run"));
  // A full disk: more free space asked for than the file system has.
  const std::uintmax_t available = fs::space(dir).available;
  try {
    check_writable_directory(dir, "output_dir", available + (std::uintmax_t{1} << 40));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output_dir: " + dir.string() + ": only "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(" MiB free on this file system, "), std::string::npos) << e.what();
  }
  // Unwritable, even for root: a read-only file system.
  try {
    check_writable_directory("/proc/rlhf-test-run", "run_dir");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run_dir: /proc/rlhf-test-run: cannot create directory"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

// What a writer killed mid-way leaves behind, made by hand: a swap interrupted between its two renames
// (only possible where RENAME_EXCHANGE is missing), and the staging directory of a dead process.
TEST(Files, InterruptedSwapIsRestoredAndLeftoversOfDeadWritersRemoved) {
  const fs::path dir = fresh_dir("interrupted");
  const fs::path target = dir / "checkpoint";
  const std::string dead_pid = "999999999";  // above any pid_max: no such process
  fs::create_directories(dir / ("checkpoint.old." + dead_pid + ".0"));
  write_file_atomic(dir / ("checkpoint.old." + dead_pid + ".0") / "state.json", "previous");
  fs::create_directories(dir / (".checkpoint.staging." + dead_pid + ".1"));
  write_file_atomic(dir / (".checkpoint.staging." + dead_pid + ".1") / "state.json", "half");

  EXPECT_TRUE(restore_interrupted_commit(target));
  EXPECT_EQ(read_text_file(target / "state.json"), "previous");
  EXPECT_FALSE(restore_interrupted_commit(target));  // nothing more to do

  {
    StagedDirectory staged(target);  // removes the dead writer's staging directory
    write_file_atomic(staged.path() / "state.json", "next");
    staged.commit();
  }
  EXPECT_EQ(read_text_file(target / "state.json"), "next");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1) << "no staging or old directories left behind";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rlhf
