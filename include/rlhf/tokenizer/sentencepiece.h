// A SentencePiece model (tokenizer.model / spiece.model) behind the Tokenizer interface.
// encode/decode are SentencePiece's own (its normalizer, its "▁" word marker, byte fallback if the
// model has it); ids of control pieces such as <s> and </s> decode to nothing.
//
// libsentencepiece is not linked into rlhf: it bundles a protobuf that clashes with LibTorch's. It is
// reached through a small module (librlhf_sentencepiece.so, src/sentencepiece_shim/) loaded privately
// on first use; see sentencepiece_module_path() for where it is looked for.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::tokenizer {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Throws Error naming the file if it is missing or not a SentencePiece model.
  static std::unique_ptr<SentencePieceTokenizer> from_file(const std::filesystem::path& model_path);
  // From the bytes of a model file; `name` labels error messages.
  static std::unique_ptr<SentencePieceTokenizer> from_serialized(const std::string& model_proto,
                                                                 const std::string& name = "tokenizer.model");
  ~SentencePieceTokenizer() override;

  std::vector<int> encode(std::string_view text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  std::string id_to_piece(int id) const override;
  std::optional<int> token_id(std::string_view piece) const override;
  int vocab_size() const override;
  int eos_id() const override;
  void save(const std::filesystem::path& dir) const override;  // dir/tokenizer.model
  std::string kind() const override { return "sentencepiece"; }

  struct Api;  // the functions of the SentencePiece module (defined in sentencepiece.cpp)

 private:
  SentencePieceTokenizer();
  void check_id(int id) const;

  const Api* api_ = nullptr;
  void* handle_ = nullptr;
};

// Where the SentencePiece module is loaded from: $RLHF_SENTENCEPIECE_MODULE if set, else
// librlhf_sentencepiece.so next to the running executable, else the build directory it was built in.
std::filesystem::path sentencepiece_module_path();

}  // namespace rlhf::tokenizer
