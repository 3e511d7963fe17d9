// The examples of supervised fine-tuning and the batches made from them.
//
// An example is a row of tokens and the index of its first target: the model reads tokens[0 .. n-2]
// and at input position t predicts tokens[t+1]; the loss counts the predictions of tokens[first_target ..
// n-1]. So
//   lm mode:    blocks of sequence_length + 1 tokens cut from the concatenated documents (each followed
//               by <|endoftext|>), consecutive blocks sharing one token so every token is predicted
//               once; first_target = 1 (every prediction counts);
//   pairs mode: query ++ response (++ <|endoftext|>), first_target = the query's length (only the
//               response, and its end, are learned).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rlhf/sft/config.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::sft {

struct SftExample {
  std::vector<int> tokens;  // at least 2
  int first_target = 1;     // index in tokens of the first token whose prediction counts (>= 1)
};

// lm mode: documents (token ids), each followed by eos_id, concatenated and cut into blocks of
// sequence_length + 1 tokens with a stride of sequence_length; what is left at the end (2 tokens or
// more) is a shorter last block. Example, sequence_length 3: 7 tokens -> [t0 t1 t2 t3], [t3 t4 t5 t6];
// 8 tokens -> those and [t6 t7].
std::vector<SftExample> pack_documents(const std::vector<std::vector<int>>& documents, int eos_id,
                                       int sequence_length);

// pairs mode: query ++ response (++ eos_id when eos_id >= 0) with first_target = max(1, query.size()),
// or an example with no tokens when the row has nothing to learn or more than sequence_length + 1
// tokens (the caller counts those as skipped). An empty query gets no loss on the response's first
// token: nothing predicts it.
SftExample make_pair_example(const std::vector<int>& query, const std::vector<int>& response, int eos_id,
                             int sequence_length);

// A padded batch on the CPU: ids, mask, positions as the model takes them ([B, T], T = the longest row
// minus one), and targets int64 [B, T]: the token to predict at each input position, or -100 where
// nothing counts (query positions, pads).
struct SftBatch {
  at::Tensor ids, mask, positions, targets;
  std::int64_t target_count = 0;  // entries of targets that count
  std::int64_t token_count = 0;   // real input tokens
};
SftBatch make_batch(const std::vector<const SftExample*>& examples);

// A (query, response) text pair.
struct TextPair {
  std::string query, response;
};

// Reading the data files.
std::vector<std::string> read_documents(const SftDataOptions& options, const std::string& path);
std::vector<TextPair> read_pairs(const SftDataOptions& options, const std::string& path);

struct SftData {
  std::vector<SftExample> train, validation;
  std::int64_t train_tokens = 0;       // tokens in the training examples (lm: predicted tokens)
  std::size_t skipped_too_long = 0;    // pairs longer than sequence_length + 1
  std::size_t skipped_empty = 0;       // pairs with nothing to learn
};

// Reads, tokenizes and (without validation_path) splits the data: validation_fraction of the
// documents or pairs, picked by a shuffle seeded with `seed`, are held out before packing. Throws
// rlhf::Error naming the file when it holds nothing to train on, or too little for one block.
SftData load_sft_data(const SftDataOptions& options, const tokenizer::Tokenizer& tokenizer, int sequence_length,
                      std::uint64_t seed);

// The examples of optimizer step `step` (0-based): positions [step * B, (step + 1) * B) of the endless
// sequence of epoch orders, epoch e being shuffled_indices(n, seed + e). A function of its arguments
// alone, so a resumed run sees the same batches.
std::vector<std::size_t> batch_indices(std::size_t n, std::int64_t step, int batch_size, std::uint64_t seed);

}  // namespace rlhf::sft
