// Helpers shared by the data-module tests: the tiny tokenizer, temporary files, and the messages of
// thrown rlhf::Errors.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "../tokenizer/tokenizer_test_util.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"

namespace rlhf::data::testing {

namespace fs = std::filesystem;
using ::rlhf::tokenizer::testing::TempDir;

inline fs::path test_data() {
  return fs::path(RLHF_TEST_DATA);
}

// The 512-token tokenizer of tests/data/tiny-gpt2 ("." = 13, "\n" = 198, "<|endoftext|>" = 511).
inline const tokenizer::Tokenizer& tiny_tokenizer() {
  static const std::unique_ptr<tokenizer::Tokenizer> tok = tokenizer::load_tokenizer(test_data() / "tiny-gpt2");
  return *tok;
}

// Writes `contents` to dir/name and returns the path.
inline fs::path write_temp(const TempDir& dir, const std::string& name, const std::string& contents) {
  const fs::path path = dir.path() / name;
  ::rlhf::tokenizer::testing::write_file(path, contents);
  return path;
}

// The message of the rlhf::Error that `f` throws; fails the test if it throws nothing.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an rlhf::Error";
  return "";
}

}  // namespace rlhf::data::testing
