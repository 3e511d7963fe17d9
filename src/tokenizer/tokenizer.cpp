#include "rlhf/tokenizer/tokenizer.h"

#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/tokenizer/sentencepiece.h"
#include "rlhf/util/error.h"

namespace rlhf::tokenizer {

namespace fs = std::filesystem;

namespace {

// A BPE pair: both files, or neither; one without the other is almost certainly an incomplete copy.
std::unique_ptr<Tokenizer> try_bpe_pair(const fs::path& dir, const char* vocab, const char* merges) {
  const bool has_vocab = fs::is_regular_file(dir / vocab), has_merges = fs::is_regular_file(dir / merges);
  if (!has_vocab && !has_merges) return nullptr;
  if (!has_vocab || !has_merges) {
    throw_file_error(dir.string(), std::string("found ") + (has_vocab ? vocab : merges) + " but not " +
                                       (has_vocab ? merges : vocab) + "; a GPT-2 BPE tokenizer needs both");
  }
  return Gpt2BpeTokenizer::from_files(dir / vocab, dir / merges);
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw_file_error(dir.string(), "tokenizer directory not found");
  if (!fs::is_directory(dir, ec)) throw_file_error(dir.string(), "expected a directory with tokenizer files");
  if (auto tokenizer = try_bpe_pair(dir, "vocab.json", "merges.txt")) return tokenizer;
  if (auto tokenizer = try_bpe_pair(dir, "encoder.json", "vocab.bpe")) return tokenizer;
  for (const char* name : {"tokenizer.model", "spiece.model"}) {
    if (fs::is_regular_file(dir / name)) return SentencePieceTokenizer::from_file(dir / name);
  }
  throw_file_error(dir.string(),
                   "no tokenizer files found; looked for vocab.json + merges.txt, encoder.json + vocab.bpe, "
                   "tokenizer.model, spiece.model");
}

}  // namespace rlhf::tokenizer
