// The pickle virtual machine, reduced to the opcodes and globals a torch.save'd state dict uses.
// Opcode semantics follow CPython's Lib/pickle.py; the stack with its MARK "fences" mirrors
// _pickle.c, where popping below the innermost MARK is an underflow.
#include "rlhf/formats/pickle.h"

#include <cstring>
#include <unordered_map>

#include "rlhf/util/error.h"

namespace rlhf::formats::pickle {
namespace {

enum Op : std::uint8_t {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kBinFloat = 'G', kBinInt = 'J', kBinInt1 = 'K',
  kBinInt2 = 'M', kNone = 'N', kBinPersId = 'Q', kReduce = 'R', kBinString = 'T', kShortBinString = 'U',
  kBinUnicode = 'X', kBinBytes = 'B', kShortBinBytes = 'C', kAppend = 'a', kBuild = 'b', kGlobal = 'c',
  kAppends = 'e', kBinGet = 'h', kLongBinGet = 'j', kEmptyList = ']', kBinPut = 'q', kLongBinPut = 'r',
  kSetItem = 's', kTuple = 't', kEmptyTuple = ')', kSetItems = 'u', kEmptyDict = '}', kProto = 0x80,
  kNewObj = 0x81, kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89,
  kLong1 = 0x8a, kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kStackGlobal = 0x93,
  kMemoize = 0x94, kFrame = 0x95,
};

struct NamedDType {
  const char* name;
  DType dtype;
};

// torch.<X>Storage, the storage types torch.save names in persistent ids.
constexpr NamedDType kStorageTypes[] = {
    {"DoubleStorage", DType::F64}, {"FloatStorage", DType::F32}, {"HalfStorage", DType::F16},
    {"BFloat16Storage", DType::BF16}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16}, {"CharStorage", DType::I8}, {"ByteStorage", DType::U8},
    {"BoolStorage", DType::Bool},
};

// torch.<dtype>, named by _rebuild_tensor_v3.
constexpr NamedDType kTorchDTypes[] = {
    {"float64", DType::F64}, {"double", DType::F64}, {"float32", DType::F32}, {"float", DType::F32},
    {"float16", DType::F16}, {"half", DType::F16}, {"bfloat16", DType::BF16}, {"int64", DType::I64},
    {"long", DType::I64}, {"int32", DType::I32}, {"int", DType::I32}, {"int16", DType::I16},
    {"short", DType::I16}, {"int8", DType::I8}, {"uint8", DType::U8}, {"bool", DType::Bool},
};

struct NamedFunction {
  const char* module;
  const char* name;
  Function function;
};

constexpr NamedFunction kFunctions[] = {
    {"collections", "OrderedDict", Function::OrderedDict},
    {"torch._utils", "_rebuild_tensor_v2", Function::RebuildTensorV2},
    {"torch._utils", "_rebuild_tensor_v3", Function::RebuildTensorV3},
    {"torch._utils", "_rebuild_parameter", Function::RebuildParameter},
    {"torch._utils", "_rebuild_parameter_with_state", Function::RebuildParameterWithState},
    {"torch", "Size", Function::TorchSize},
};

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "function";
    case Kind::StorageType: return "storage type";
    case Kind::Dtype: return "dtype";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

// "an int", "a tuple": for messages.
std::string a_kind(Kind kind) {
  const std::string name = kind_name(kind);
  return (name[0] == 'i' ? "an " : "a ") + name;
}

class Machine {
 public:
  Machine(const std::string& source, const std::string& entry, ByteSpan bytes, const Limits& limits)
      : source_(source), entry_(entry), bytes_(bytes), limits_(limits) {}

  Unpickled run() {
    for (std::size_t ops = 0;; ++ops) {
      op_pos_ = pos_;
      if (pos_ >= bytes_.size) fail("the pickle ends without STOP (truncated?)");
      if (ops >= limits_.max_ops) fail("more than " + std::to_string(limits_.max_ops) + " opcodes");
      const std::uint8_t op = bytes_.data[pos_++];
      if (op == kStop) break;
      if (!push_literal(op)) execute(op);
    }
    result_.root = pop();
    return std::move(result_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw_file_error(source_, entry_ + ", byte " + std::to_string(op_pos_) + ": " + what);
  }

  // ---- reading the opcode stream
  const std::uint8_t* take(std::uint64_t n) {
    if (!fits(pos_, n, bytes_.size)) {
      fail("the pickle is truncated (an argument of " + std::to_string(n) + " bytes runs past its end)");
    }
    const std::uint8_t* p = bytes_.data + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  std::uint8_t read_u8() { return *take(1); }
  std::uint16_t read_u16() { return load_u16(take(2)); }
  std::uint32_t read_u32() { return load_u32(take(4)); }
  std::uint64_t read_u64() { return load_u64(take(8)); }
  std::string read_bytes(std::uint64_t n) { return std::string(reinterpret_cast<const char*>(take(n)), n); }

  std::string read_line() {
    const void* end = std::memchr(bytes_.data + pos_, '\n', bytes_.size - pos_);
    if (end == nullptr) fail("the pickle is truncated (GLOBAL without end of line)");
    const std::size_t length = static_cast<const std::uint8_t*>(end) - (bytes_.data + pos_);
    std::string line = read_bytes(length);
    ++pos_;
    return line;
  }

  std::int64_t read_long1() {
    const std::uint8_t n = read_u8();
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes is wider than 64 bits");
    const std::uint8_t* p = take(n);
    std::uint64_t value = 0;
    for (int i = n - 1; i >= 0; --i) value = (value << 8) | p[i];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) value |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<std::int64_t>(value);
  }

  double read_binfloat() {  // big-endian IEEE 754
    const std::uint8_t* p = take(8);
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }

  // ---- objects and the stack
  Object* make(Kind kind) {
    if (result_.arena.size() >= limits_.max_objects) {
      fail("more than " + std::to_string(limits_.max_objects) + " objects");
    }
    result_.arena.push_back(std::make_unique<Object>());
    result_.arena.back()->kind = kind;
    return result_.arena.back().get();
  }
  Object* make_int(Kind kind, std::int64_t value) {
    Object* o = make(kind);
    o->integer = value;
    return o;
  }
  Object* make_float(double value) {
    Object* o = make(Kind::Float);
    o->real = value;
    return o;
  }
  Object* make_text(Kind kind, std::string text) {
    Object* o = make(kind);
    o->text = std::move(text);
    return o;
  }
  Object* make_sequence(Kind kind, std::vector<Object*> items) {
    Object* o = make(kind);
    o->items = std::move(items);
    return o;
  }

  std::size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }

  void push(Object* o) {
    if (stack_.size() + marks_.size() >= limits_.max_stack) {
      fail("the stack grows deeper than " + std::to_string(limits_.max_stack));
    }
    stack_.push_back(o);
  }
  Object* top() const {
    if (stack_.size() <= fence()) fail("stack underflow");
    return stack_.back();
  }
  Object* pop() {
    Object* o = top();
    stack_.pop_back();
    return o;
  }
  std::vector<Object*> pop_to_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<Object*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  std::vector<Object*> pop_n(std::size_t n) {
    std::vector<Object*> items(n);
    for (std::size_t i = n; i-- > 0;) items[i] = pop();
    return items;
  }
  Object* expect(Object* o, Kind kind, const std::string& what) const {
    if (o->kind != kind) fail(what + " must be " + a_kind(kind) + ", got " + a_kind(o->kind));
    return o;
  }

  // ---- memo
  void memo_put(std::uint32_t index) {
    if (memo_.size() >= limits_.max_memo && memo_.count(index) == 0) {
      fail("more than " + std::to_string(limits_.max_memo) + " memo entries");
    }
    memo_[index] = top();
  }
  Object* memo_get(std::uint32_t index) const {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    return it->second;
  }

  // Opcodes that push one new value; false if `op` is not one of them.
  bool push_literal(std::uint8_t op) {
    switch (op) {
      case kNone: push(make(Kind::None)); return true;
      case kNewTrue: push(make_int(Kind::Bool, 1)); return true;
      case kNewFalse: push(make_int(Kind::Bool, 0)); return true;
      case kBinInt: push(make_int(Kind::Int, static_cast<std::int32_t>(read_u32()))); return true;
      case kBinInt1: push(make_int(Kind::Int, read_u8())); return true;
      case kBinInt2: push(make_int(Kind::Int, read_u16())); return true;
      case kLong1: push(make_int(Kind::Int, read_long1())); return true;
      case kBinFloat: push(make_float(read_binfloat())); return true;
      case kShortBinUnicode: push(make_text(Kind::String, read_bytes(read_u8()))); return true;
      case kBinUnicode: push(make_text(Kind::String, read_bytes(read_u32()))); return true;
      case kBinUnicode8: push(make_text(Kind::String, read_bytes(read_u64()))); return true;
      case kShortBinString: push(make_text(Kind::String, read_bytes(read_u8()))); return true;
      case kBinString: push(make_text(Kind::String, read_bytes(read_binstring_length()))); return true;
      case kShortBinBytes: push(make_text(Kind::Bytes, read_bytes(read_u8()))); return true;
      case kBinBytes: push(make_text(Kind::Bytes, read_bytes(read_u32()))); return true;
      case kBinBytes8: push(make_text(Kind::Bytes, read_bytes(read_u64()))); return true;
      case kEmptyDict: push(make(Kind::Dict)); return true;
      case kEmptyList: push(make(Kind::List)); return true;
      case kEmptyTuple: push(make(Kind::Tuple)); return true;
      default: return false;
    }
  }

  std::uint32_t read_binstring_length() {
    const auto length = static_cast<std::int32_t>(read_u32());
    if (length < 0) fail("negative string length");
    return static_cast<std::uint32_t>(length);
  }

  void execute(std::uint8_t op) {
    switch (op) {
      case kProto: if (read_u8() > 5) fail("pickle protocol newer than 5"); return;
      case kFrame: read_u64(); return;  // framing only groups opcodes; it changes nothing
      case kMark:
        if (stack_.size() + marks_.size() >= limits_.max_stack) fail("too many nested MARKs");
        marks_.push_back(stack_.size());
        return;
      case kPop: if (stack_.size() > fence()) stack_.pop_back(); else pop_to_mark(); return;
      case kPopMark: pop_to_mark(); return;
      case kDup: push(top()); return;
      case kBinPut: memo_put(read_u8()); return;
      case kLongBinPut: memo_put(read_u32()); return;
      case kMemoize: memo_put(static_cast<std::uint32_t>(memo_.size())); return;
      case kBinGet: push(memo_get(read_u8())); return;
      case kLongBinGet: push(memo_get(read_u32())); return;
      case kTuple: push(make_sequence(Kind::Tuple, pop_to_mark())); return;
      case kTuple1: push(make_sequence(Kind::Tuple, pop_n(1))); return;
      case kTuple2: push(make_sequence(Kind::Tuple, pop_n(2))); return;
      case kTuple3: push(make_sequence(Kind::Tuple, pop_n(3))); return;
      case kSetItem: set_items(pop_n(2)); return;
      case kSetItems: set_items(pop_to_mark()); return;
      case kAppend: append(pop_n(1)); return;
      case kAppends: append(pop_to_mark()); return;
      case kGlobal: { std::string module = read_line(); push(resolve_global(module, read_line())); return; }
      case kStackGlobal: stack_global(); return;
      case kReduce: { Object* args = pop(); push(call(pop(), args)); return; }
      case kNewObj: new_object(); return;
      case kBuild: build(); return;
      case kBinPersId: push(persistent_load(pop())); return;
      default: fail("unsupported pickle opcode 0x" + hex(op) + " (not used by torch.save for state dicts)");
    }
  }

  static std::string hex(std::uint8_t byte) {
    static const char* digits = "0123456789abcdef";
    return {digits[byte >> 4], digits[byte & 15]};
  }

  void set_items(const std::vector<Object*>& items) {
    if (items.size() % 2 != 0) fail("SETITEMS with an odd number of values");
    Object* dict = expect(top(), Kind::Dict, "the target of SETITEM(S)");
    dict->items.insert(dict->items.end(), items.begin(), items.end());
  }

  void append(const std::vector<Object*>& items) {
    Object* list = expect(top(), Kind::List, "the target of APPEND(S)");
    list->items.insert(list->items.end(), items.begin(), items.end());
  }

  void stack_global() {
    Object* name = expect(pop(), Kind::String, "the name of STACK_GLOBAL");
    Object* module = expect(pop(), Kind::String, "the module of STACK_GLOBAL");
    push(resolve_global(module->text, name->text));
  }

  // Globals are looked up by name in fixed tables; nothing is imported or executed.
  Object* resolve_global(const std::string& module, const std::string& name) {
    for (const auto& f : kFunctions) {
      if (module == f.module && name == f.name) {
        Object* o = make(Kind::Global);
        o->function = f.function;
        return o;
      }
    }
    if (module == "torch" || module == "torch.storage") {
      if (name == "UntypedStorage") return make(Kind::StorageType);  // bytes; dtype stays nullopt
      for (const auto& s : kStorageTypes) {
        if (module == "torch" && name == s.name) return make_dtype(Kind::StorageType, s.dtype);
      }
    }
    if (module == "torch") {
      for (const auto& d : kTorchDTypes) {
        if (name == d.name) return make_dtype(Kind::Dtype, d.dtype);
      }
    }
    std::string hint = "the file must hold a state dict: torch.save(model.state_dict(), path)";
    if (module.rfind("__torch__", 0) == 0) hint = "this is a TorchScript archive (torch.jit.save), not a state dict";
    fail("unsupported pickle global '" + module + "." + name + "' (" + hint +
         "; only plain tensors, dicts and numbers can be read, and nothing in the file is executed)");
  }

  Object* make_dtype(Kind kind, DType dtype) {
    Object* o = make(kind);
    o->dtype = dtype;
    return o;
  }

  Object* call(Object* callable, Object* args_object) {
    if (callable->kind != Kind::Global) fail("REDUCE on " + a_kind(callable->kind) + ", which is not callable");
    const auto& args = expect(args_object, Kind::Tuple, "the arguments of REDUCE")->items;
    switch (callable->function) {
      case Function::OrderedDict:
        if (!args.empty()) fail("OrderedDict called with arguments");
        return make(Kind::Dict);
      case Function::TorchSize:
        if (args.size() != 1) fail("torch.Size takes one argument");
        return make_sequence(Kind::Tuple, expect(args[0], Kind::Tuple, "the argument of torch.Size")->items);
      case Function::RebuildTensorV2: return rebuild_tensor(args, false);
      case Function::RebuildTensorV3: return rebuild_tensor(args, true);
      case Function::RebuildParameter:
      case Function::RebuildParameterWithState:
        if (args.size() != (callable->function == Function::RebuildParameter ? 3u : 4u)) {
          fail("_rebuild_parameter with " + std::to_string(args.size()) + " arguments");
        }
        return expect(args[0], Kind::Tensor, "the data of a Parameter");
    }
    fail("unknown function");
  }

  std::vector<std::int64_t> int_sequence(Object* o, const std::string& what) const {
    if (o->kind != Kind::Tuple && o->kind != Kind::List) fail(what + " must be a tuple of ints, got " + a_kind(o->kind));
    std::vector<std::int64_t> values;
    for (Object* item : o->items) values.push_back(expect(item, Kind::Int, what + " element")->integer);
    return values;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  // _rebuild_tensor_v3(..., backward_hooks, dtype[, metadata]). requires_grad, hooks and metadata
  // do not affect the values, so they are not inspected.
  Object* rebuild_tensor(const std::vector<Object*>& args, bool v3) {
    const std::size_t min_args = v3 ? 7 : 6;
    if (args.size() < min_args || args.size() > min_args + 1) {
      fail(std::string(v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2") + " with " + std::to_string(args.size()) +
           " arguments");
    }
    Object* tensor = make(Kind::Tensor);
    tensor->storage = expect(args[0], Kind::Storage, "the storage of a tensor");
    tensor->offset = expect(args[1], Kind::Int, "the storage offset of a tensor")->integer;
    tensor->shape = int_sequence(args[2], "the size of a tensor");
    tensor->stride = int_sequence(args[3], "the stride of a tensor");
    tensor->dtype = v3 ? expect(args[6], Kind::Dtype, "the dtype of a tensor")->dtype : tensor->storage->dtype;
    if (!tensor->dtype) fail("a tensor on an untyped storage needs _rebuild_tensor_v3 with a dtype");
    return tensor;
  }

  void new_object() {
    Object* args = expect(pop(), Kind::Tuple, "the arguments of NEWOBJ");
    Object* cls = pop();
    if (cls->kind != Kind::Global || cls->function != Function::OrderedDict || !args->items.empty()) {
      fail("NEWOBJ is supported only for OrderedDict()");
    }
    push(make(Kind::Dict));
  }

  // BUILD sets attributes: on an OrderedDict it carries the `_metadata` that nn.Module.state_dict()
  // attaches, on a tensor its Python attributes. Neither changes any tensor's values.
  void build() {
    Object* state = pop();
    Object* target = top();
    (void)state;
    if (target->kind != Kind::Dict && target->kind != Kind::Tensor) {
      fail("BUILD on " + a_kind(target->kind) + " is not supported");
    }
  }

  // Persistent ids name the storages kept outside the pickle:
  // ('storage', storage_type, key, location, numel), numel in elements (bytes if untyped).
  Object* persistent_load(Object* pid) {
    const auto& items = expect(pid, Kind::Tuple, "a persistent id")->items;
    if (items.size() != 5 || items[0]->kind != Kind::String || items[0]->text != "storage") {
      fail("persistent id is not ('storage', type, key, location, numel)");
    }
    const Object* type = expect(items[1], Kind::StorageType, "the storage type of a persistent id");
    Object* storage = make_text(Kind::Storage, expect(items[2], Kind::String, "the key of a persistent id")->text);
    expect(items[3], Kind::String, "the location of a persistent id");
    const std::int64_t numel = expect(items[4], Kind::Int, "the size of a persistent id")->integer;
    if (numel < 0) fail("negative storage size " + std::to_string(numel));
    storage->dtype = type->dtype;
    const std::uint64_t element = type->dtype ? dtype_size(*type->dtype) : 1;
    if (!checked_mul(static_cast<std::uint64_t>(numel), element, storage->nbytes)) fail("storage size overflows");
    return storage;
  }

  const std::string& source_;
  const std::string& entry_;
  ByteSpan bytes_;
  Limits limits_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  std::vector<Object*> stack_;
  std::vector<std::size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<std::uint32_t, Object*> memo_;
  Unpickled result_;
};

}  // namespace

Unpickled unpickle(const std::string& source, const std::string& entry, ByteSpan bytes, const Limits& limits) {
  return Machine(source, entry, bytes, limits).run();
}

}  // namespace rlhf::formats::pickle
