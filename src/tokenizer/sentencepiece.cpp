#include "rlhf/tokenizer/sentencepiece.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::tokenizer {
namespace fs = std::filesystem;

// The C functions of src/sentencepiece_shim/shim.cpp.
struct SentencePieceTokenizer::Api {
  void* (*load)(const char*, std::size_t, char*, std::size_t);
  void (*free)(void*);
  void (*free_buffer)(void*);
  int (*encode)(void*, const char*, std::size_t, int**, std::size_t*, char*, std::size_t);
  int (*decode)(void*, const int*, std::size_t, char**, std::size_t*, char*, std::size_t);
  int (*piece_size)(void*);
  int (*eos_id)(void*);
  int (*unk_id)(void*);
  int (*piece_to_id)(void*, const char*, std::size_t);
  const char* (*id_to_piece)(void*, int, std::size_t*);
  void (*serialize)(void*, char**, std::size_t*);
};

namespace {

constexpr std::size_t kErrorCapacity = 512;
constexpr const char* kModuleName = "librlhf_sentencepiece.so";

template <class Fn>
void bind(void* module, const fs::path& path, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(module, name));
  if (fn == nullptr) throw_file_error(path.string(), std::string("SentencePiece module lacks ") + name);
}

// Loads the module once per process (thread-safe); throws with the paths tried.
const SentencePieceTokenizer::Api& load_api() {
  static std::once_flag once;
  static SentencePieceTokenizer::Api api;
  static std::string failure;
  std::call_once(once, [] {
    const fs::path path = sentencepiece_module_path();
    // RTLD_DEEPBIND: the module and libsentencepiece resolve protobuf symbols to their own copy first.
    int flags = RTLD_NOW | RTLD_LOCAL;
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer refuses RTLD_DEEPBIND; sanitizer builds have no LibTorch
    flags |= RTLD_DEEPBIND;
#endif
    void* module = dlopen(path.c_str(), flags);
    if (module == nullptr) {
      failure = path.string() + ": cannot load the SentencePiece module (" + dlerror() +
                "); set RLHF_SENTENCEPIECE_MODULE to its path";
      return;
    }
    try {
      bind(module, path, "rlhf_spm_load", api.load);
      bind(module, path, "rlhf_spm_free", api.free);
      bind(module, path, "rlhf_spm_free_buffer", api.free_buffer);
      bind(module, path, "rlhf_spm_encode", api.encode);
      bind(module, path, "rlhf_spm_decode", api.decode);
      bind(module, path, "rlhf_spm_piece_size", api.piece_size);
      bind(module, path, "rlhf_spm_eos_id", api.eos_id);
      bind(module, path, "rlhf_spm_unk_id", api.unk_id);
      bind(module, path, "rlhf_spm_piece_to_id", api.piece_to_id);
      bind(module, path, "rlhf_spm_id_to_piece", api.id_to_piece);
      bind(module, path, "rlhf_spm_serialize", api.serialize);
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  if (!failure.empty()) throw Error(failure);
  return api;
}

}  // namespace

fs::path sentencepiece_module_path() {
  if (const char* env = std::getenv("RLHF_SENTENCEPIECE_MODULE"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate : {executable.parent_path() / kModuleName,
                                      executable.parent_path() / ".." / "lib" / "rlhf" / kModuleName}) {
      if (fs::exists(candidate, ec)) return candidate;
    }
  }
#ifdef RLHF_SENTENCEPIECE_MODULE_DIR
  return fs::path(RLHF_SENTENCEPIECE_MODULE_DIR) / kModuleName;
#else
  return kModuleName;  // the dynamic loader's search path
#endif
}

SentencePieceTokenizer::SentencePieceTokenizer() : api_(&load_api()) {}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (handle_ != nullptr) api_->free(handle_);
}

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_file(const fs::path& model_path) {
  // Read it ourselves so that a missing file gets the same message as everywhere else.
  const std::string proto = read_text_file(model_path);
  return from_serialized(proto, model_path.string());
}

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_serialized(const std::string& model_proto,
                                                                                const std::string& name) {
  std::unique_ptr<SentencePieceTokenizer> tokenizer(new SentencePieceTokenizer());
  char error[kErrorCapacity] = {0};
  tokenizer->handle_ = tokenizer->api_->load(model_proto.data(), model_proto.size(), error, sizeof error);
  if (tokenizer->handle_ == nullptr) throw_file_error(name, std::string("not a valid SentencePiece model: ") + error);
  return tokenizer;
}

std::vector<int> SentencePieceTokenizer::encode(std::string_view text) const {
  int* ids = nullptr;
  std::size_t count = 0;
  char error[kErrorCapacity] = {0};
  if (api_->encode(handle_, text.data(), text.size(), &ids, &count, error, sizeof error) != 0) {
    throw Error(std::string("SentencePiece encode failed: ") + error);
  }
  std::vector<int> out(ids, ids + count);
  api_->free_buffer(ids);
  return out;
}

void SentencePieceTokenizer::check_id(int id) const {
  if (id < 0 || id >= vocab_size()) {
    throw Error("token id " + std::to_string(id) + " is out of range: the vocabulary has ids 0.." +
                std::to_string(vocab_size() - 1));
  }
}

std::string SentencePieceTokenizer::decode(const std::vector<int>& ids) const {
  for (const int id : ids) check_id(id);
  char* text = nullptr;
  std::size_t size = 0;
  char error[kErrorCapacity] = {0};
  if (api_->decode(handle_, ids.data(), ids.size(), &text, &size, error, sizeof error) != 0) {
    throw Error(std::string("SentencePiece decode failed: ") + error);
  }
  std::string out(text, size);
  api_->free_buffer(text);
  return out;
}

std::string SentencePieceTokenizer::id_to_piece(int id) const {
  check_id(id);
  std::size_t size = 0;
  const char* piece = api_->id_to_piece(handle_, id, &size);
  return std::string(piece, size);
}

// PieceToId answers unk_id for unknown pieces, so an unk answer counts only for the unk piece itself.
std::optional<int> SentencePieceTokenizer::token_id(std::string_view piece) const {
  const int id = api_->piece_to_id(handle_, piece.data(), piece.size());
  if (id < 0 || id >= vocab_size()) return std::nullopt;
  if (id == api_->unk_id(handle_) && id_to_piece(id) != piece) return std::nullopt;
  return id;
}

int SentencePieceTokenizer::vocab_size() const { return api_->piece_size(handle_); }

int SentencePieceTokenizer::eos_id() const { return api_->eos_id(handle_); }

void SentencePieceTokenizer::save(const fs::path& dir) const {
  char* data = nullptr;
  std::size_t size = 0;
  api_->serialize(handle_, &data, &size);
  const std::string proto(data, size);
  api_->free_buffer(data);
  write_file_atomic(dir / "tokenizer.model", proto);
}

}  // namespace rlhf::tokenizer
