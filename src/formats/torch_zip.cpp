// From a torch.save zip archive to tensor views: find the archive's top folder, run data.pkl
// through the restricted unpickler, then point each tensor into its storage entry after checking
// that everything the tensor spans lies inside that storage.
#include "rlhf/formats/torch_zip.h"

#include <map>
#include <set>

#include "rlhf/formats/pickle.h"
#include "rlhf/formats/shapes.h"
#include "rlhf/formats/zip.h"
#include "rlhf/util/error.h"

namespace rlhf::formats {
namespace {

using pickle::Kind;
using pickle::Object;

// The top folder is "archive" or the file's stem at save time; data.pkl sits directly inside it.
std::string archive_prefix(const std::string& source, const ZipArchive& zip) {
  const std::string suffix = "/data.pkl";
  std::vector<std::string> prefixes;
  for (const auto& entry : zip.entries()) {
    const std::string& name = entry.name;
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        name.find('/') == name.size() - suffix.size()) {
      prefixes.push_back(name.substr(0, name.size() - suffix.size() + 1));
    }
  }
  if (prefixes.empty()) {
    throw_file_error(source, "a zip archive without <name>/data.pkl: not a PyTorch checkpoint");
  }
  if (prefixes.size() > 1) {
    throw_file_error(source, "a zip archive with several data.pkl entries (" + prefixes[0] + "data.pkl, " +
                                 prefixes[1] + "data.pkl): not a single PyTorch checkpoint");
  }
  return prefixes[0];
}

// PyTorch >= 2.0 records the byte order of the saving machine; older files are little-endian.
void check_byteorder(const std::string& source, const ZipArchive& zip, const std::string& prefix) {
  const ZipEntry* entry = zip.find(prefix + "byteorder");
  if (entry == nullptr) return;
  std::string order = zip.data(*entry).str();
  while (!order.empty() && (order.back() == '\n' || order.back() == '\r')) order.pop_back();
  if (order == "little") return;
  if (order == "big") {
    throw_file_error(source, "the tensors are stored big-endian (byteorder \"big\"); re-save the checkpoint on a "
                             "little-endian machine or as safetensors");
  }
  throw_file_error(source, "unknown byteorder \"" + order.substr(0, 32) + "\" in " + entry->name);
}

// Resolves storage keys to their bytes in the archive, checking each entry once.
class Storages {
 public:
  Storages(const std::string& source, const ZipArchive& zip, const std::string& prefix)
      : source_(source), zip_(zip), prefix_(prefix) {}

  ByteSpan get(const std::string& tensor, const Object& storage) {
    const std::string name = prefix_ + "data/" + storage.text;
    auto it = cache_.find(name);
    if (it != cache_.end()) return clamp(tensor, name, it->second, storage.nbytes);
    const ZipEntry* entry = zip_.find(name);
    if (entry == nullptr) {
      throw_file_error(source_, "tensor '" + tensor + "': its storage '" + storage.text + "' (entry " + name +
                                    ") is missing from the archive");
    }
    const ByteSpan bytes = zip_.data(*entry);
    cache_.emplace(name, bytes);
    return clamp(tensor, name, bytes, storage.nbytes);
  }

 private:
  // A tensor may use only the bytes its storage declares, and the entry must hold all of them.
  ByteSpan clamp(const std::string& tensor, const std::string& name, ByteSpan bytes, std::uint64_t declared) const {
    if (bytes.size < declared) {
      throw_file_error(source_, "tensor '" + tensor + "': storage entry " + name + " holds " +
                                    std::to_string(bytes.size) + " bytes but declares " + std::to_string(declared));
    }
    return bytes.sub(0, static_cast<std::size_t>(declared));
  }

  const std::string& source_;
  const ZipArchive& zip_;
  const std::string& prefix_;
  std::map<std::string, ByteSpan> cache_;
};

TensorView make_view(const std::string& source, const std::string& name, const Object& tensor, ByteSpan storage) {
  const DType dtype = *tensor.dtype;
  const std::uint64_t element = dtype_size(dtype);
  checked_nbytes(source, name, tensor.shape, dtype);  // numel must fit in int64 for TensorView::numel
  const std::uint64_t span = strided_span(source, name, tensor.shape, tensor.stride);
  std::uint64_t begin = 0;
  std::uint64_t span_bytes = 0;
  if (tensor.offset < 0 || !checked_mul(static_cast<std::uint64_t>(tensor.offset), element, begin) ||
      !checked_mul(span, element, span_bytes) || !fits(begin, span_bytes, storage.size)) {
    throw_file_error(source, "tensor '" + name + "': offset " + std::to_string(tensor.offset) + ", shape " +
                                 shape_to_string(tensor.shape) + " and strides " + shape_to_string(tensor.stride) +
                                 " of " + dtype_name(dtype) + " reach past its storage (" +
                                 std::to_string(storage.size) + " bytes)");
  }
  return TensorView{name, dtype, tensor.shape, tensor.stride, storage.data + begin, static_cast<std::size_t>(span_bytes)};
}

// True if `value` holds tensor data anywhere inside. Iterative, with a visited set, because the
// memo lets a container hold itself.
bool holds_tensor_data(const Object* value) {
  std::vector<const Object*> pending{value};
  std::set<const Object*> visited;
  while (!pending.empty()) {
    const Object* o = pending.back();
    pending.pop_back();
    if (!visited.insert(o).second) continue;
    if (o->kind == Kind::Tensor || o->kind == Kind::Storage) return true;
    pending.insert(pending.end(), o->items.begin(), o->items.end());
  }
  return false;
}

const char* kind_label(Kind kind) {
  switch (kind) {
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Tensor: return "tensor";
    case Kind::Storage: return "storage";
    default: return "plain value";
  }
}

// The state dict's (name, tensor) pairs in pickle order. Values without tensor data (ints, strings,
// None, empty containers) are skipped; containers of tensors mean the file is not a state dict.
std::vector<std::pair<std::string, const Object*>> state_dict_tensors(const std::string& source,
                                                                      const std::string& entry, const Object& root) {
  if (root.kind != Kind::Dict) {
    throw_file_error(source, entry + " holds a " + kind_label(root.kind) +
                                 ", not a state dict (a dict of tensors): save model.state_dict()");
  }
  std::vector<std::pair<std::string, const Object*>> tensors;
  for (std::size_t i = 0; i + 1 < root.items.size(); i += 2) {
    const Object* key = root.items[i];
    const Object* value = root.items[i + 1];
    if (key->kind != Kind::String) throw_file_error(source, entry + ": a state dict key is not a string");
    if (value->kind == Kind::Tensor) {
      tensors.emplace_back(key->text, value);
    } else if (holds_tensor_data(value)) {
      throw_file_error(source, "state dict entry '" + key->text + "' is a " + kind_label(value->kind) +
                                   " holding tensors, not a tensor: this looks like a training checkpoint; "
                                   "save model.state_dict() instead");
    }
  }
  return tensors;
}

}  // namespace

TensorFileContents parse_torch_zip(const std::string& source, ByteSpan bytes) {
  const ZipArchive zip = ZipArchive::parse(source, bytes);
  const std::string prefix = archive_prefix(source, zip);
  check_byteorder(source, zip, prefix);
  const ZipEntry& pkl = *zip.find(prefix + "data.pkl");
  const pickle::Unpickled unpickled = pickle::unpickle(source, pkl.name, zip.data(pkl));

  TensorFileContents contents;
  contents.format = "torch-zip";
  Storages storages(source, zip, prefix);
  std::set<std::string> names;
  for (const auto& [name, tensor] : state_dict_tensors(source, pkl.name, *unpickled.root)) {
    if (!names.insert(name).second) throw_file_error(source, "tensor '" + name + "' appears twice in the state dict");
    contents.tensors.push_back(make_view(source, name, *tensor, storages.get(name, *tensor->storage)));
  }
  return contents;
}

}  // namespace rlhf::formats
