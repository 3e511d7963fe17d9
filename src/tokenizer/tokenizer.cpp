#include "rlhf/tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/tokenizer/sentencepiece.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

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

namespace {

std::unique_ptr<Tokenizer> load_tokenizer_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw_file_error(dir.string(), "directory not found (expected a model or tokenizer directory)");
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

// A tokenizer whose ids reach past the model's embedding would make the model index out of range on
// the first such token: refuse the pair when the directory also holds the model's config.json.
void check_fits_model(const Tokenizer& tokenizer, const fs::path& dir) {
  std::error_code ec;
  const fs::path config = dir / "config.json";
  if (!fs::is_regular_file(config, ec)) return;
  const auto j = nlohmann::json::parse(read_text_file(config), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("vocab_size") || !j["vocab_size"].is_number_integer()) return;
  const auto model_vocab = j["vocab_size"].get<std::int64_t>();
  if (tokenizer.vocab_size() > model_vocab) {
    throw_file_error(dir.string(), "the tokenizer has " + std::to_string(tokenizer.vocab_size()) +
                                       " tokens but config.json's vocab_size is " + std::to_string(model_vocab) +
                                       ": ids from " + std::to_string(model_vocab) +
                                       " on have no embedding (the tokenizer files belong to another model?)");
  }
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& dir) {
  std::unique_ptr<Tokenizer> tokenizer = load_tokenizer_files(dir);
  check_fits_model(*tokenizer, dir);
  return tokenizer;
}

}  // namespace rlhf::tokenizer
