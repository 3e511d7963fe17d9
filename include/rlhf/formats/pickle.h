// A bounded, allow-list pickle reader for the `data.pkl` that torch.save writes for a state dict.
// It never imports or calls anything: the few globals a state dict names (OrderedDict, the tensor
// rebuild functions, storage types, dtypes) are recognized by name and evaluated by hand; any
// other global is an error naming it. Stack depth, memo size, object count and opcode count are
// bounded, and every read is bounds-checked, so a hostile file can only make it throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlhf/formats/bytes.h"
#include "rlhf/formats/tensor_file.h"

namespace rlhf::formats::pickle {

enum class Kind {
  None, Bool, Int, Float, String, Bytes, Tuple, List, Dict,
  Global,       // one of the allow-listed callables (`function`)
  StorageType,  // torch.FloatStorage etc.; `dtype` is nullopt for torch.UntypedStorage
  Dtype,        // torch.float32 etc.
  Storage,      // from a persistent id: `text` = key, `dtype`, `nbytes`
  Tensor,       // from _rebuild_tensor_v2/v3: `storage`, `offset`, `shape`, `stride`, `dtype`
};

enum class Function {
  OrderedDict,
  RebuildTensorV2,  // (storage, offset, size, stride, requires_grad, hooks[, metadata])
  RebuildTensorV3,  // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
  RebuildParameter,           // (tensor, requires_grad, hooks)
  RebuildParameterWithState,  // (tensor, requires_grad, hooks, state)
  TorchSize,                  // torch.Size((d0, d1, ...))
};

// One value on the pickle stack. Objects live in an arena owned by `Unpickled` and refer to each
// other by raw pointer, so shared or self-referencing values (the memo allows both) cannot leak.
struct Object {
  Kind kind = Kind::None;
  std::int64_t integer = 0;     // Int; Bool as 0/1
  double real = 0;              // Float
  std::string text;             // String, Bytes; Storage: its key
  std::vector<Object*> items;   // Tuple, List; Dict: key0, value0, key1, value1, ...
  Function function = Function::OrderedDict;  // Global
  std::optional<DType> dtype;   // StorageType, Storage, Dtype, Tensor
  std::uint64_t nbytes = 0;     // Storage: bytes it declares
  const Object* storage = nullptr;  // Tensor
  std::int64_t offset = 0;          // Tensor: storage offset in elements of `dtype`
  std::vector<std::int64_t> shape;  // Tensor
  std::vector<std::int64_t> stride; // Tensor, in elements
};

struct Limits {
  std::size_t max_ops = 20'000'000;     // opcodes executed
  std::size_t max_stack = 1'000'000;    // values on the stack plus open MARKs
  std::size_t max_memo = 2'000'000;     // memo entries
  std::size_t max_objects = 2'000'000;  // values created (bounds memory to a few hundred MB)
};

struct Unpickled {
  std::vector<std::unique_ptr<Object>> arena;
  const Object* root = nullptr;
};

// Runs the pickle in `bytes`. Errors read "SOURCE: ENTRY, byte N: what is wrong".
Unpickled unpickle(const std::string& source, const std::string& entry, ByteSpan bytes, const Limits& limits = {});

}  // namespace rlhf::formats::pickle
