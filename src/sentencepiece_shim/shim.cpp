// A C interface to libsentencepiece, built as its own shared module and loaded at run time by
// src/tokenizer/sentencepiece.cpp with RTLD_LOCAL | RTLD_DEEPBIND.
//
// Why: Debian's libsentencepiece carries its own copy of protobuf-lite and exports its symbols,
// while LibTorch links the system libprotobuf. Linked into one program, the two copies interpose each
// other and the process crashes in protobuf's static initialisers before main. Loaded privately,
// sentencepiece binds to its own copy and LibTorch never sees it.
#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Copies a message into the caller's buffer (always NUL-terminated).
void set_error(char* error, std::size_t capacity, const std::string& message) {
  if (error == nullptr || capacity == 0) return;
  std::strncpy(error, message.c_str(), capacity - 1);
  error[capacity - 1] = '\0';
}

sentencepiece::SentencePieceProcessor* processor(void* handle) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

}  // namespace

extern "C" {

// Returns a handle, or nullptr with a message in `error`.
void* rlhf_spm_load(const char* proto, std::size_t size, char* error, std::size_t capacity) {
  auto* p = new sentencepiece::SentencePieceProcessor();
  const auto status = p->LoadFromSerializedProto(std::string_view(proto, size));
  if (!status.ok()) {
    set_error(error, capacity, status.ToString());
    delete p;
    return nullptr;
  }
  return p;
}

void rlhf_spm_free(void* handle) { delete processor(handle); }

void rlhf_spm_free_buffer(void* buffer) { std::free(buffer); }

// Encodes text into a malloc'ed array of ids (*ids, *count). Returns 0 on success.
int rlhf_spm_encode(void* handle, const char* text, std::size_t size, int** ids, std::size_t* count, char* error,
                    std::size_t capacity) {
  std::vector<int> out;
  const auto status = processor(handle)->Encode(std::string_view(text, size), &out);
  if (!status.ok()) {
    set_error(error, capacity, status.ToString());
    return 1;
  }
  *count = out.size();
  *ids = static_cast<int*>(std::malloc(std::max<std::size_t>(1, out.size()) * sizeof(int)));
  if (!out.empty()) std::memcpy(*ids, out.data(), out.size() * sizeof(int));
  return 0;
}

// Decodes ids into a malloc'ed byte string (*text, *size). Returns 0 on success.
int rlhf_spm_decode(void* handle, const int* ids, std::size_t count, char** text, std::size_t* size, char* error,
                    std::size_t capacity) {
  std::string out;
  const auto status = processor(handle)->Decode(std::vector<int>(ids, ids + count), &out);
  if (!status.ok()) {
    set_error(error, capacity, status.ToString());
    return 1;
  }
  *size = out.size();
  *text = static_cast<char*>(std::malloc(std::max<std::size_t>(1, out.size())));
  if (!out.empty()) std::memcpy(*text, out.data(), out.size());
  return 0;
}

int rlhf_spm_piece_size(void* handle) { return processor(handle)->GetPieceSize(); }
int rlhf_spm_eos_id(void* handle) { return processor(handle)->eos_id(); }
int rlhf_spm_unk_id(void* handle) { return processor(handle)->unk_id(); }

int rlhf_spm_piece_to_id(void* handle, const char* piece, std::size_t size) {
  return processor(handle)->PieceToId(std::string_view(piece, size));
}

// The piece's bytes stay valid while the handle lives.
const char* rlhf_spm_id_to_piece(void* handle, int id, std::size_t* size) {
  const std::string& piece = processor(handle)->IdToPiece(id);
  *size = piece.size();
  return piece.data();
}

// The serialized model, malloc'ed.
void rlhf_spm_serialize(void* handle, char** data, std::size_t* size) {
  const std::string proto = processor(handle)->serialized_model_proto();
  *size = proto.size();
  *data = static_cast<char*>(std::malloc(std::max<std::size_t>(1, proto.size())));
  if (!proto.empty()) std::memcpy(*data, proto.data(), proto.size());
}

}  // extern "C"
