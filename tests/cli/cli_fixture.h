// The fixture of the CLI tests: runs the `rlhf` executable with stdout and stderr captured, in a
// temporary directory of its own per test.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace rlhf::testing {

namespace fs = std::filesystem;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
inline const fs::path kData = RLHF_TEST_DATA;
inline const fs::path kTiny = kData / "tiny-gpt2";

struct Result {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("rlhf_cli_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Runs `rlhf <args>` with stdout and stderr captured to files.
  Result run(const std::string& args) {
    const std::string command = std::string(RLHF_BINARY) + " " + args + " >" + (dir / "stdout").string() + " 2>" +
                                (dir / "stderr").string();
    const int status = std::system(command.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(dir / "stdout");
    r.err = slurp(dir / "stderr");
    return r;
  }

  // Expects a clean failure: exit code 1 (not a crash), and an error line containing `what`.
  void expect_error(const Result& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("error: "));
    EXPECT_THAT(r.err, HasSubstr(what));
    EXPECT_THAT(r.err, Not(HasSubstr("Exception raised from")));  // no LibTorch backtraces
  }

  // A copy of the tiny model whose files a test may break.
  fs::path copy_tiny() {
    const fs::path copy = dir / "model";
    fs::copy(kTiny, copy, fs::copy_options::recursive);
    return copy;
  }

  fs::path dir;
};

}  // namespace rlhf::testing
