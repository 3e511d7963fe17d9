#include "rlhf/formats/tensor_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rlhf/formats/safetensors.h"
#include "rlhf/formats/torch_zip.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::formats {
namespace fs = std::filesystem;

namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};

const DTypeInfo& info(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  throw Error("invalid DType value " + std::to_string(static_cast<int>(dtype)));
}

bool starts_with(const std::uint8_t* data, std::size_t size, const char* magic, std::size_t length) {
  return size >= length && std::memcmp(data, magic, length) == 0;
}

std::string hex_prefix(const std::uint8_t* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size && i < 8; ++i) {
    if (i) out += ' ';
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

[[noreturn]] void throw_legacy_pickle(const std::string& source) {
  throw_file_error(source,
                   "this is a legacy (pre-PyTorch-1.6) pickle checkpoint; convert it: python -c \"import torch; "
                   "torch.save(torch.load('pytorch_model.bin'), 'pytorch_model.bin', "
                   "_use_new_zipfile_serialization=True)\" or save it as safetensors");
}

[[noreturn]] void throw_unrecognized(const std::string& source, const std::uint8_t* data, std::size_t size) {
  if (size == 0) throw_file_error(source, "file is empty: not a safetensors or PyTorch zip file");
  std::string hint;
  if (starts_with(data, size, "\x89HDF\r\n\x1a\n", 8)) {
    hint = "; it looks like an HDF5 file (Keras/TensorFlow tf_model.h5): use model.safetensors or pytorch_model.bin";
  } else if (starts_with(data, size, "GGUF", 4)) {
    hint = "; it looks like a GGUF (llama.cpp) file";
  }
  throw_file_error(source, "not a safetensors or PyTorch zip file (" + std::to_string(size) +
                               " bytes, starting with " + hex_prefix(data, size) + ")" + hint);
}

bool has_extension(const std::string& source, const std::string& extension) {
  return fs::path(source).extension() == extension;
}

}  // namespace

std::size_t dtype_size(DType dtype) { return info(dtype).size; }

std::string dtype_name(DType dtype) { return info(dtype).name; }

std::optional<DType> dtype_from_name(const std::string& name) {
  for (const auto& entry : kDTypes) {
    if (name == entry.name) return entry.dtype;
  }
  return std::nullopt;
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;  // parsers have already checked this product for overflow
  return n;
}

bool TensorView::is_contiguous() const {
  std::int64_t expected = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

TensorFileContents parse_tensor_file(const std::string& source, const std::uint8_t* data, std::size_t size) {
  const ByteSpan bytes{data, size};
  // Torch writes "PK\3\4" first; an archive with no entries starts with the end record "PK\5\6".
  if (starts_with(data, size, "PK\x03\x04", 4) || starts_with(data, size, "PK\x05\x06", 4)) {
    return parse_torch_zip(source, bytes);
  }
  // A safetensors header is a JSON object right after the 8-byte length. Checked before the pickle
  // test: a header length whose low byte is 0x80 makes a safetensors file start like a pickle.
  if (size > 8 && data[8] == '{') return parse_safetensors(source, bytes);
  // Every pickle since protocol 2 opens with PROTO (0x80); the legacy torch format is a bare pickle.
  if (size > 0 && data[0] == 0x80) throw_legacy_pickle(source);
  // The file name decides only for files too short to show their format, so that they still get the
  // precise safetensors error.
  if (has_extension(source, ".safetensors")) return parse_safetensors(source, bytes);
  throw_unrecognized(source, data, size);
}

// The memory behind the views: a read-only private mapping of the file, or an owned buffer.
class TensorFile::Bytes {
 public:
  explicit Bytes(std::vector<std::uint8_t> buffer) : buffer_(std::move(buffer)) {}
  Bytes(void* mapping, std::size_t size) : mapping_(mapping), mapping_size_(size) {}
  ~Bytes() {
    if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;

  const std::uint8_t* data() const {
    return mapping_ != nullptr ? static_cast<const std::uint8_t*>(mapping_) : buffer_.data();
  }
  std::size_t size() const { return mapping_ != nullptr ? mapping_size_ : buffer_.size(); }

 private:
  std::vector<std::uint8_t> buffer_;
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
};

namespace {

// Maps the file read-only; falls back to reading it whole where mmap is not possible (empty files,
// some special file systems).
std::unique_ptr<TensorFile::Bytes> map_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_file_error(path.string(), "file not found");
  if (fs::is_directory(path, ec)) throw_file_error(path.string(), "is a directory, expected a weights file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_file_error(path.string(), std::string("cannot open for reading: ") + std::strerror(errno));
  struct stat st {};
  void* mapping = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    mapping = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  }
  ::close(fd);  // the mapping keeps the file alive
  if (mapping != MAP_FAILED) return std::make_unique<TensorFile::Bytes>(mapping, static_cast<std::size_t>(st.st_size));
  return std::make_unique<TensorFile::Bytes>(read_binary_file(path));
}

}  // namespace

TensorFile::TensorFile(fs::path path, std::unique_ptr<Bytes> bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {
  contents_ = parse_tensor_file(path_.string(), bytes_->data(), bytes_->size());
  for (std::size_t i = 0; i < contents_.tensors.size(); ++i) {
    if (!index_.emplace(contents_.tensors[i].name, i).second) {
      throw_file_error(path_.string(), "tensor '" + contents_.tensors[i].name + "' appears twice");
    }
  }
}

TensorFile::TensorFile(TensorFile&&) noexcept = default;
TensorFile& TensorFile::operator=(TensorFile&&) noexcept = default;
TensorFile::~TensorFile() = default;

TensorFile TensorFile::open(const fs::path& path) { return TensorFile(path, map_file(path)); }

TensorFile TensorFile::from_bytes(std::string source_name, std::vector<std::uint8_t> bytes) {
  return TensorFile(fs::path(std::move(source_name)), std::make_unique<Bytes>(std::move(bytes)));
}

const TensorView* TensorFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &contents_.tensors[it->second];
}

}  // namespace rlhf::formats
