// Fuzz target: loading a GPT-2 BPE tokenizer from its files (include/rlhf/tokenizer/gpt2_bpe.h:
// vocab.json + merges.txt). Input: the vocab.json text, a NUL byte, the merges.txt text (JSON cannot hold
// a raw NUL, so the split is unambiguous; without a NUL, merges.txt is empty).
// Properties of a tokenizer that loads, besides "only rlhf::Error on bad input":
//   - decode(encode(x)) == x for a sample text and for the input itself (any bytes), with every id in range;
//   - every id with a piece decodes, and token_id(id_to_piece(id)) == id;
//   - save() then load_tokenizer() gives the same vocabulary size, merges and encoding.
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "rlhf/tokenizer/gpt2_bpe.h"

namespace {

using namespace rlhf;
using rlhf::fuzz::accepts;

void check_round_trip(const tokenizer::Tokenizer& tokenizer, std::string_view text) {
  const std::vector<int> ids = tokenizer.encode(text);
  for (const int id : ids) FUZZ_CHECK(id >= 0 && id < tokenizer.vocab_size(), "encode gave an id out of range");
  FUZZ_CHECK(tokenizer.decode(ids) == text, "decode(encode(x)) != x");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  const std::size_t nul = input.find('\0');
  const std::string_view vocab = input.substr(0, nul);
  const std::string_view merges = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  std::unique_ptr<tokenizer::Gpt2BpeTokenizer> tokenizer;
  if (!accepts([&] { tokenizer = tokenizer::Gpt2BpeTokenizer::from_strings(vocab, merges); })) return 0;

  const std::string sample = "Hello world, it's 2019: the cat sat.\n\n  \xC3\xA9t\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xFF!";
  check_round_trip(*tokenizer, sample);
  check_round_trip(*tokenizer, merges);
  for (int id = 0; id < tokenizer->vocab_size(); ++id) {
    std::string piece;
    if (!accepts([&] { piece = tokenizer->id_to_piece(id); })) continue;  // a gap in the ids
    FUZZ_CHECK(tokenizer->token_id(piece) == id, "token_id(id_to_piece(id)) != id");
    tokenizer->decode({id});
  }

  static const auto dir = fuzz::scratch_dir("tokenizer_files");
  tokenizer->save(dir);
  const auto loaded = tokenizer::load_tokenizer(dir);
  const auto* bpe = dynamic_cast<const tokenizer::Gpt2BpeTokenizer*>(loaded.get());
  FUZZ_CHECK(bpe != nullptr, "a saved GPT-2 tokenizer loads as another kind");
  FUZZ_CHECK(bpe->vocab_size() == tokenizer->vocab_size() && bpe->merges() == tokenizer->merges(),
             "a saved tokenizer loads with another vocabulary or merges");
  FUZZ_CHECK(bpe->encode(sample) == tokenizer->encode(sample), "a saved tokenizer encodes differently");
  return 0;
}
