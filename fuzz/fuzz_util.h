// Helpers shared by the libFuzzer targets in fuzz/ (docs/fuzzing.md). Header-only, test code.
//
// The contract every target checks: bad input may only end in rlhf::Error. Any other exception escapes
// LLVMFuzzerTestOneInput, which libFuzzer reports as a crash ("uncaught exception"), as it does sanitizer
// reports, leaks, timeouts and the explicit property checks (FUZZ_CHECK).
#pragma once

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/util/error.h"

namespace rlhf::fuzz {

// A property that must hold; on failure prints what and aborts, so libFuzzer saves the input.
#define FUZZ_CHECK(condition, what)                                                          \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, (what)); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// Runs f; rlhf::Error (a clean rejection of bad input) is swallowed, anything else propagates.
// Returns whether f completed.
template <class F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A directory of this process's own, removed at exit: the APIs that only take paths read the fuzz
// input from files written here (one fixed name per use, rewritten for every input). In /dev/shm where
// there is one: a disk file system's open/close would cost more than the parsing.
inline const std::filesystem::path& scratch_dir(const std::string& target) {
  static const std::filesystem::path dir = [&] {
    std::error_code ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    // A run that crashed (or a -minimize_crash child) left its directory behind: remove those of dead processes.
    const std::string prefix = "rlhf_fuzz_" + target + "_";
    for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove_all(entry.path(), ec);
    }
    auto path = base / (prefix + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    static const std::filesystem::path to_remove = path;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return path;
  }();
  return dir;
}

inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

// The tiny GPT-2 tokenizer of the test fixtures (512 ids: 256 bytes, 255 merges, <|endoftext|> = 511).
inline const tokenizer::Gpt2BpeTokenizer& tiny_tokenizer() {
  static const std::unique_ptr<tokenizer::Gpt2BpeTokenizer> tokenizer = tokenizer::Gpt2BpeTokenizer::from_files(
      RLHF_TEST_DATA "/tiny-gpt2/vocab.json", RLHF_TEST_DATA "/tiny-gpt2/merges.txt");
  return *tokenizer;
}

// Logging would only slow the fuzzer down.
inline void quiet_logs() { spdlog::set_level(spdlog::level::off); }

}  // namespace rlhf::fuzz
