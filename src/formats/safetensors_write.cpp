// Writing safetensors. The file is streamed to a temporary file and renamed into place, rather
// than built in one string for write_file_atomic, so that saving a multi-gigabyte model does not
// hold a second copy of its weights in memory.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "rlhf/formats/safetensors.h"
#include "rlhf/formats/shapes.h"
#include "rlhf/util/error.h"

namespace rlhf::formats {
namespace fs = std::filesystem;

namespace {

using nlohmann::json;

void check_tensors(const std::string& source, const std::vector<TensorToWrite>& tensors) {
  std::set<std::string> names;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__") throw_file_error(source, "'__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(t.name).second) throw_file_error(source, "tensor '" + t.name + "' is given twice");
    const std::uint64_t expected = checked_nbytes(source, t.name, t.shape, t.dtype);
    if (t.nbytes != expected) {
      throw_file_error(source, "tensor '" + t.name + "': " + std::to_string(t.nbytes) + " bytes given, but shape " +
                                   shape_to_string(t.shape) + " of " + dtype_name(t.dtype) + " needs " +
                                   std::to_string(expected));
    }
    if (t.nbytes > 0 && t.data == nullptr) throw_file_error(source, "tensor '" + t.name + "': data is null");
  }
}

std::string json_text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::strict); }

// {"dtype":...,"shape":...,"data_offsets":...} in the reference writer's field order (nlohmann
// would sort the fields), so that files match its output byte for byte.
std::string entry_json(const TensorToWrite& t, std::uint64_t begin) {
  std::string dims;
  for (std::size_t i = 0; i < t.shape.size(); ++i) dims += (i ? "," : "") + std::to_string(t.shape[i]);
  return "{\"dtype\":\"" + dtype_name(t.dtype) + "\",\"shape\":[" + dims + "],\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(begin + t.nbytes) + "]}";
}

// Members are joined by hand rather than through an ordered JSON object, whose insertion is
// linear in its size, to keep the given order in linear time.
std::string header_json(const std::vector<TensorToWrite>& tensors, const std::map<std::string, std::string>& metadata) {
  std::string out = "{";
  if (!metadata.empty()) out += "\"__metadata__\":" + json_text(json(metadata));
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (out.size() > 1) out += ",";
    out += json_text(json(t.name)) + ":" + entry_json(t, offset);
    offset += t.nbytes;
  }
  return out + "}";
}

void write_all(int fd, const void* data, std::size_t size, const std::string& source) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_file_error(source, std::string("write failed: ") + std::strerror(errno) + " (disk full?)");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void fsync_directory(const fs::path& path) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some file systems do not allow opening directories
  ::fsync(fd);
  ::close(fd);
}

void write_contents(int fd, const std::string& header, const std::vector<TensorToWrite>& tensors,
                    const std::string& source) {
  write_all(fd, header.data(), header.size(), source);
  for (const auto& t : tensors) write_all(fd, t.data, t.nbytes, source);
  if (::fsync(fd) != 0) throw_file_error(source, std::string("fsync failed: ") + std::strerror(errno));
}

}  // namespace

std::string safetensors_header(const std::string& source, const std::vector<TensorToWrite>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  check_tensors(source, tensors);
  std::string text;
  try {
    text = header_json(tensors, metadata);
  } catch (const json::exception& e) {  // a name or metadata value that is not valid UTF-8
    throw_file_error(source, std::string("cannot encode the header: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-byte aligned
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xff);
  return out + text;
}

void write_safetensors(const fs::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string source = path.string();
  const std::string header = safetensors_header(source, tensors, metadata);
  static std::atomic<int> counter{0};
  const fs::path tmp = source + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_file_error(source, std::string("cannot open for writing: ") + std::strerror(errno));
  try {
    write_contents(fd, header, tensors, source);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  const bool closed = ::close(fd) == 0;
  if (!closed || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw_file_error(source, (closed ? "cannot rename temporary file into place: " : "close failed: ") + reason);
  }
  fsync_directory(path);
}

}  // namespace rlhf::formats
