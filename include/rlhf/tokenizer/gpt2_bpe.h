// GPT-2 byte-level BPE, token for token the same as OpenAI's encoder.py and Hugging Face's
// GPT2Tokenizer on valid UTF-8 text.
//
// encode: pre-tokenize (pretokenize.h), map each chunk's bytes to their byte-level characters
// (bytes_to_unicode), then apply merges in rank order exactly as encoder.py does: repeatedly take the
// lowest-ranked adjacent pair and merge all its non-overlapping occurrences left to right.
// Invalid UTF-8: each invalid byte is a chunk of its own and becomes its single-byte token, so
// decode(encode(x)) == x for every byte string x (see pretokenize.h).
// decode maps each piece's characters back to bytes ("<|endoftext|>" is printable ASCII, so it decodes
// to that literal text); a character outside the byte table (only in hand-added tokens) stays as its UTF-8.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rlhf/tokenizer/pretokenize.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::tokenizer {

// GPT-2's bytes_to_unicode: byte b -> the UTF-8 of the printable character that stands for it in the
// vocabulary (printable Latin-1 bytes map to themselves, the other 68 to U+0100 + n in byte order).
const std::array<std::string, 256>& byte_to_unicode();

class Gpt2BpeTokenizer final : public Tokenizer {
 public:
  using Merge = std::pair<std::string, std::string>;

  // Reads vocab.json (piece -> id) and merges.txt (one "left right" pair per line, in rank order;
  // lines starting with "#version" and blank lines skipped). Throws Error naming the file on any problem.
  static std::unique_ptr<Gpt2BpeTokenizer> from_files(const std::filesystem::path& vocab_path,
                                                      const std::filesystem::path& merges_path);
  // The same from file contents; the names only label error messages.
  static std::unique_ptr<Gpt2BpeTokenizer> from_strings(std::string_view vocab_json, std::string_view merges_txt,
                                                        const std::string& vocab_name = "vocab.json",
                                                        const std::string& merges_name = "merges.txt");

  // Validates: ids are non-negative and unique, every one of the 256 byte characters is a piece, and
  // each merge's two pieces and their concatenation are pieces; no merge appears twice. Ids may have
  // gaps (vocab_size() is the largest id + 1; a gap id is out of range). `merges` is in rank order.
  Gpt2BpeTokenizer(std::vector<std::pair<std::string, int>> vocab, std::vector<Merge> merges,
                   const std::string& vocab_name = "vocab", const std::string& merges_name = "merges");

  std::vector<int> encode(std::string_view text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  std::string id_to_piece(int id) const override;
  std::optional<int> token_id(std::string_view piece) const override;
  int vocab_size() const override { return static_cast<int>(pieces_.size()); }
  int eos_id() const override { return eos_id_; }
  void save(const std::filesystem::path& dir) const override;  // vocab.json (ordered by id) + merges.txt
  std::string kind() const override { return "gpt2-bpe"; }

  const std::vector<Merge>& merges() const { return merges_; }
  // Token ids of one pre-token chunk (the BPE step alone, uncached).
  std::vector<int> bpe(std::string_view chunk) const;

 private:
  struct MergeTarget {
    int rank;
    int merged_id;
  };
  static std::uint64_t pair_key(int left, int right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }
  // `merge_lines[r]` is the file line of merge r, for error messages (empty: say "merge #r" instead).
  Gpt2BpeTokenizer(std::vector<std::pair<std::string, int>> vocab, std::vector<Merge> merges,
                   const std::vector<int>& merge_lines, const std::string& vocab_name, const std::string& merges_name);
  void check_id(int id) const;
  void append_bpe(std::string_view chunk, std::vector<int>& out) const;  // bpe() through the cache

  std::vector<std::string> pieces_;    // by id; "" for an id not in the vocabulary
  std::vector<bool> has_piece_;        // by id
  std::vector<std::string> id_bytes_;  // by id: the raw bytes a token decodes to
  std::unordered_map<std::string, int> piece_ids_;
  std::vector<Merge> merges_;
  std::unordered_map<std::uint64_t, MergeTarget> merge_of_;  // (left id, right id) -> rank and result
  std::array<int, 256> byte_ids_{};
  int eos_id_ = -1;
  Gpt2PreTokenizer pre_tokenizer_;

  // Chunk -> ids. encode is const and may run on several threads, hence the lock. Bounded: cleared
  // when full, and long chunks (rarely repeated) are not cached.
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

}  // namespace rlhf::tokenizer
