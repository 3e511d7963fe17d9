// Read-only access to the tensors of a weights file: safetensors, or a PyTorch (>= 1.6) zip
// checkpoint such as `pytorch_model.bin`. The file is memory-mapped and every tensor is a view
// into the mapping, so opening a multi-gigabyte checkpoint costs no copy. Nothing from the file is
// ever executed: PyTorch pickles are read by a small interpreter that knows only state dicts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rlhf::formats {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

std::size_t dtype_size(DType dtype);
// The safetensors spelling: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
std::string dtype_name(DType dtype);
// The inverse of dtype_name; nullopt for names this library does not support.
std::optional<DType> dtype_from_name(const std::string& name);

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  // in elements; contiguous for safetensors, maybe a view for torch files
  const std::uint8_t* data;           // first element; NOT necessarily aligned
  std::size_t nbytes;                 // bytes from `data` to the end of the last element (0 for empty)

  std::int64_t numel() const;
  bool is_contiguous() const;  // row-major with no gaps
};

// What a parser finds in a file; the views point into the bytes it was given.
struct TensorFileContents {
  std::string format;  // "safetensors" or "torch-zip"
  std::vector<TensorView> tensors;
  std::map<std::string, std::string> metadata;
};

class TensorFile {  // movable, not copyable; owns the memory map (or buffer); views stay valid while it lives
 public:
  // Detects the format by content (the name only breaks ties for files too short to tell).
  static TensorFile open(const std::filesystem::path& path);
  // Same parsing on bytes already in memory (tests, fuzzing); `source_name` stands in for the path.
  static TensorFile from_bytes(std::string source_name, std::vector<std::uint8_t> bytes);

  TensorFile(TensorFile&&) noexcept;
  TensorFile& operator=(TensorFile&&) noexcept;
  TensorFile(const TensorFile&) = delete;
  TensorFile& operator=(const TensorFile&) = delete;
  ~TensorFile();

  const std::vector<TensorView>& tensors() const { return contents_.tensors; }  // in file order
  const TensorView* find(const std::string& name) const;                        // nullptr if absent
  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return contents_.metadata; }  // safetensors only
  std::string format() const { return contents_.format; }

  class Bytes;  // the mapping or buffer behind the views

 private:
  TensorFile(std::filesystem::path path, std::unique_ptr<Bytes> bytes);

  std::filesystem::path path_;
  std::unique_ptr<Bytes> bytes_;
  TensorFileContents contents_;
  std::map<std::string, std::size_t> index_;  // name -> position in contents_.tensors
};

// Parses bytes whose format is decided by their content; `source` names them in error messages.
TensorFileContents parse_tensor_file(const std::string& source, const std::uint8_t* data, std::size_t size);

}  // namespace rlhf::formats
