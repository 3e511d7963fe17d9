// File helpers: whole-file reads with clear errors, and atomic writes (temporary file, then rename),
// so that a crash or a full disk never leaves a half-written file where a good one stood.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rlhf {

// Reads a whole file; throws Error naming the path if it is missing or unreadable.
std::string read_text_file(const std::filesystem::path& path);
std::vector<std::uint8_t> read_binary_file(const std::filesystem::path& path);

// Writes `contents` to `path.tmp.<pid>`, flushes and fsyncs it, then renames it over `path`.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

// Before long work: creates `dir` if needed, proves a file can be written in it, and checks that at
// least `min_free_bytes` are free on its file system. Throws Error "KEY: DIR: why" otherwise.
void check_writable_directory(const std::filesystem::path& dir, const std::string& key,
                              std::uintmax_t min_free_bytes = 64u << 20);

// Builds a directory atomically: everything is written into a sibling staging directory, and
// `commit()` swaps it into place. A previous directory at `target` survives until the swap and is
// removed only after the new one is in place. If `commit()` is never called (an exception, a crash),
// the staging directory is removed (or left as `.NAME.staging.*`, never at `target`; the next
// StagedDirectory for the same target removes those of processes no longer running).
// The swap is one renameat2(RENAME_EXCHANGE), so a process killed at any moment leaves `target` whole,
// old or new. Where the file system lacks it, two renames are used, and a kill between them leaves the
// previous directory at `NAME.old.*`: restore_interrupted_commit puts it back.
// When `target` is missing but a swap into it was interrupted between its two renames, moves the
// previous directory (NAME.old.*) back. Returns true when it did. Call before deciding that a
// checkpoint does not exist.
bool restore_interrupted_commit(const std::filesystem::path& target);

class StagedDirectory {
 public:
  explicit StagedDirectory(std::filesystem::path target);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  const std::filesystem::path& path() const { return staging_; }  // write files here
  const std::filesystem::path& target() const { return target_; }
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

}  // namespace rlhf
