// Making a new GPT-2 to train from scratch: a smaller vocabulary cut from GPT-2's BPE, and a model
// with GPT-2's random initialisation from a Hugging Face config.json.
#pragma once

#include <filesystem>
#include <memory>

#include "rlhf/model/gpt2.h"
#include "rlhf/tokenizer/gpt2_bpe.h"

namespace rlhf::sft {

// The BPE tokenizer with only its first `merges` merges: ids 0..255 are the bytes, 256 + r is the piece
// of merge r, and <|endoftext|> is 256 + merges, so every id below 256 + merges means what it means in
// the full tokenizer (GPT-2 numbers its vocabulary that way). Text whose encoding only uses merges of
// rank < `merges` encodes to the same ids. Throws rlhf::Error naming `source` when the tokenizer does
// not number its pieces like that, or has fewer merges than asked for.
std::unique_ptr<tokenizer::Gpt2BpeTokenizer> truncate_merges(const tokenizer::Gpt2BpeTokenizer& full, int merges,
                                                             const std::string& source);

// A GPT-2 built from a Hugging Face config.json with GPT-2's initialisation (normal(0,
// initializer_range) weights and embeddings, c_proj weights scaled by 1/sqrt(2 n_layer), zero biases,
// LayerNorm 1 and 0) drawn from the default generator (seed it first). The config must fit the
// tokenizer: vocab_size equal to its size, and bos/eos_token_id, when given, equal to its end-of-text
// id (when absent they are set to it). Throws rlhf::Error naming the file and both numbers otherwise.
model::Gpt2 init_gpt2(const std::filesystem::path& config_path, const tokenizer::Tokenizer& tokenizer);

}  // namespace rlhf::sft
