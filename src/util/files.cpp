#include "rlhf/util/files.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc 2.28+)
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "rlhf/util/error.h"

namespace rlhf {
namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

template <typename Container>
Container read_file_into(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_file_error(path.string(), "file not found");
  if (fs::is_directory(path, ec)) throw_file_error(path.string(), "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path.string(), "cannot open for reading: " + errno_text());
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  Container data(static_cast<size_t>(size < 0 ? 0 : size), 0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(data.data()), size)) {
    throw_file_error(path.string(), "read failed");
  }
  return data;
}

void fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;  // best effort: some file systems do not allow opening directories
  ::fsync(fd);
  ::close(fd);
}

std::string unique_suffix() {
  static int counter = 0;
  return std::to_string(::getpid()) + "." + std::to_string(counter++);
}

}  // namespace

std::string read_text_file(const fs::path& path) { return read_file_into<std::string>(path); }

std::vector<std::uint8_t> read_binary_file(const fs::path& path) {
  return read_file_into<std::vector<std::uint8_t>>(path);
}

void write_file_atomic(const fs::path& path, const std::string& contents) {
  const fs::path tmp = path.string() + ".tmp." + unique_suffix();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw_file_error(path.string(), "cannot open for writing: " + errno_text());
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw_file_error(path.string(), "write failed (disk full?)");
    }
  }
  fsync_path(tmp, O_RDONLY);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw_file_error(path.string(), "cannot rename temporary file into place: " + ec.message());
  }
  fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

void check_writable_directory(const fs::path& dir, const std::string& key, std::uintmax_t min_free_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(key + ": " + dir.string() + ": cannot create directory: " + ec.message());
  const fs::path probe = dir / (".write-test." + unique_suffix());
  {
    std::ofstream out(probe, std::ios::binary);
    out << "probe";
    out.flush();
    if (!out) {
      fs::remove(probe, ec);
      throw Error(key + ": " + dir.string() + ": cannot write files here");
    }
  }
  fs::remove(probe, ec);
  const fs::space_info space = fs::space(dir, ec);
  if (!ec && space.available < min_free_bytes) {
    throw Error(key + ": " + dir.string() + ": only " + std::to_string(space.available >> 20) +
                " MiB free on this file system, " + std::to_string(min_free_bytes >> 20) + " MiB needed");
  }
}

namespace {

// Swaps two existing paths in one step; false where the kernel or file system cannot.
bool exchange_paths(const fs::path& a, const fs::path& b) {
#ifdef RENAME_EXCHANGE
  return ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
#else
  return false;
#endif
}

// Siblings of `target` named PREFIX + "<pid>.<n>" (staging and old directories).
std::vector<std::pair<fs::path, long>> siblings_with_prefix(const fs::path& parent, const std::string& prefix) {
  std::vector<std::pair<fs::path, long>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (end != nullptr && *end == '.') out.emplace_back(entry.path(), pid);
  }
  return out;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

fs::path parent_of(const fs::path& target) {
  return target.parent_path().empty() ? fs::path(".") : target.parent_path();
}

}  // namespace

bool restore_interrupted_commit(const fs::path& target_in) {
  fs::path target = target_in;
  if (target.filename().empty()) target = target.parent_path();
  std::error_code ec;
  if (fs::exists(target, ec)) return false;
  // The newest NAME.old.* is the directory that was moved aside last.
  fs::path newest;
  fs::file_time_type newest_time{};
  for (const auto& [path, pid] : siblings_with_prefix(parent_of(target), target.filename().string() + ".old.")) {
    const auto time = fs::last_write_time(path, ec);
    if (!ec && (newest.empty() || time > newest_time)) {
      newest = path;
      newest_time = time;
    }
  }
  if (newest.empty()) return false;
  fs::rename(newest, target, ec);
  if (ec) throw_file_error(target.string(), "cannot restore the previous directory " + newest.string() + ": " + ec.message());
  return true;
}

StagedDirectory::StagedDirectory(fs::path target) : target_(std::move(target)) {
  if (target_.filename().empty()) target_ = target_.parent_path();  // "dir/" -> "dir"
  const fs::path parent = parent_of(target_);
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw_file_error(parent.string(), "cannot create directory: " + ec.message());
  restore_interrupted_commit(target_);
  // Leftovers of killed writers: their staging directories, and previous directories already replaced.
  for (const auto& [path, pid] : siblings_with_prefix(parent, "." + target_.filename().string() + ".staging.")) {
    if (!process_alive(pid)) fs::remove_all(path, ec);
  }
  if (fs::exists(target_, ec)) {
    for (const auto& [path, pid] : siblings_with_prefix(parent, target_.filename().string() + ".old.")) {
      if (!process_alive(pid)) fs::remove_all(path, ec);
    }
  }
  staging_ = parent / ("." + target_.filename().string() + ".staging." + unique_suffix());
  fs::create_directory(staging_, ec);
  if (ec) throw_file_error(staging_.string(), "cannot create staging directory: " + ec.message());
}

StagedDirectory::~StagedDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void StagedDirectory::commit() {
  std::error_code ec;
  const bool had_previous = fs::exists(target_, ec);
  if (had_previous && exchange_paths(staging_, target_)) {
    committed_ = true;
    fsync_path(parent_of(target_), O_RDONLY | O_DIRECTORY);
    fs::remove_all(staging_, ec);  // it now holds the previous directory
    return;
  }
  const fs::path old = target_.string() + ".old." + unique_suffix();
  if (had_previous) {
    fs::rename(target_, old, ec);
    if (ec) throw_file_error(target_.string(), "cannot move previous directory aside: " + ec.message());
  }
  fs::rename(staging_, target_, ec);
  if (ec) {
    if (had_previous) fs::rename(old, target_, ec);  // put the previous one back
    throw_file_error(target_.string(), "cannot move new directory into place: " + ec.message());
  }
  committed_ = true;
  fsync_path(target_.parent_path().empty() ? fs::path(".") : target_.parent_path(), O_RDONLY | O_DIRECTORY);
  if (had_previous) fs::remove_all(old, ec);
}

}  // namespace rlhf
