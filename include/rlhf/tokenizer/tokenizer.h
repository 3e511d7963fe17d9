// The tokenizer interface the rest of rlhf uses, and the loader that picks an implementation from
// the files in a model directory. No LibTorch here.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf::tokenizer {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids of `text`, taken literally: "<|endoftext|>" in the text is ordinary characters, as in
  // OpenAI's encoder.py. Never throws on any input bytes. Safe to call from several threads.
  virtual std::vector<int> encode(std::string_view text) const = 0;
  // The raw bytes the ids stand for (not necessarily valid UTF-8 for a partial sequence of ids).
  // Throws Error naming the id if one is out of range.
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  // The vocabulary string of an id (GPT-2: byte-level form, e.g. "Ġthe"); throws Error if out of range.
  virtual std::string id_to_piece(int id) const = 0;
  // Inverse of id_to_piece; nullopt if `piece` is not in the vocabulary.
  virtual std::optional<int> token_id(std::string_view piece) const = 0;
  virtual int vocab_size() const = 0;
  // GPT-2: the id of "<|endoftext|>" (50256); SentencePiece: its eos id; -1 if there is none.
  virtual int eos_id() const = 0;
  // Writes the tokenizer's files into the existing directory `dir` (atomically, file by file):
  // GPT-2 BPE -> vocab.json + merges.txt; SentencePiece -> tokenizer.model.
  virtual void save(const std::filesystem::path& dir) const = 0;
  virtual std::string kind() const = 0;  // "gpt2-bpe" or "sentencepiece"
};

// Loads the tokenizer in `dir`, looking in this order for
//   vocab.json + merges.txt      (Hugging Face names, GPT-2 byte-level BPE)
//   encoder.json + vocab.bpe     (OpenAI names, same formats)
//   tokenizer.model or spiece.model (SentencePiece)
// Throws Error naming the directory or file and what is wrong (no tokenizer files, with the list of
// names looked for; one file of a pair without the other; malformed contents).
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

}  // namespace rlhf::tokenizer
