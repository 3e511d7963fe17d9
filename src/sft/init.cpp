#include "rlhf/sft/init.h"

#include "rlhf/model/gpt2_config.h"
#include "rlhf/util/error.h"

namespace rlhf::sft {

std::unique_ptr<tokenizer::Gpt2BpeTokenizer> truncate_merges(const tokenizer::Gpt2BpeTokenizer& full, int merges,
                                                             const std::string& source) {
  const auto& all = full.merges();
  if (merges < 1 || static_cast<std::size_t>(merges) > all.size()) {
    throw Error("tokenizer_merges: " + source + " has " + std::to_string(all.size()) + " merges, asked to keep " +
                std::to_string(merges));
  }
  std::vector<std::pair<std::string, int>> vocab;
  for (int b = 0; b < 256; ++b) {
    const std::string& piece = tokenizer::byte_to_unicode()[static_cast<std::size_t>(b)];
    const int id = full.token_id(piece).value_or(-1);  // present: the tokenizer checked every byte
    if (id < 0 || id >= 256) {
      throw_file_error(source, "byte piece \"" + piece + "\" has id " + std::to_string(id) +
                                   ", not below 256: the vocabulary is not numbered like GPT-2's, so "
                                   "tokenizer_merges cannot keep its ids");
    }
    vocab.emplace_back(piece, id);
  }
  std::vector<tokenizer::Gpt2BpeTokenizer::Merge> kept(all.begin(), all.begin() + merges);
  for (int r = 0; r < merges; ++r) {
    const std::string piece = kept[r].first + kept[r].second;
    const int id = full.token_id(piece).value_or(-1);
    if (id != 256 + r) {
      throw_file_error(source, "merge " + std::to_string(r) + " (\"" + kept[r].first + " " + kept[r].second +
                                   "\") makes id " + std::to_string(id) + ", not 256 + " + std::to_string(r) +
                                   ": the vocabulary is not numbered like GPT-2's, so tokenizer_merges cannot "
                                   "keep its ids");
    }
    vocab.emplace_back(piece, id);
  }
  vocab.emplace_back("<|endoftext|>", 256 + merges);
  return std::make_unique<tokenizer::Gpt2BpeTokenizer>(std::move(vocab), std::move(kept), source + " (truncated)",
                                                       source + " (truncated)");
}

model::Gpt2 init_gpt2(const std::filesystem::path& config_path, const tokenizer::Tokenizer& tokenizer) {
  const std::string source = config_path.string();
  model::Gpt2Config config = model::load_gpt2_config(config_path);
  if (config.vocab_size != tokenizer.vocab_size()) {
    throw_file_error(source, "vocab_size is " + std::to_string(config.vocab_size) + " but the tokenizer has " +
                                 std::to_string(tokenizer.vocab_size()) +
                                 " tokens; set vocab_size to " + std::to_string(tokenizer.vocab_size()) +
                                 " (with tokenizer_merges K: 256 + K + 1)");
  }
  const int eos = tokenizer.eos_id();
  for (auto [key, value] : {std::pair<const char*, int*>{"bos_token_id", &config.bos_token_id},
                            std::pair<const char*, int*>{"eos_token_id", &config.eos_token_id}}) {
    const bool given = config.original.contains(key) && !config.original.at(key).is_null();
    if (!given) {
      if (eos >= 0) *value = eos;
    } else if (eos >= 0 && *value != eos) {
      throw_file_error(source, std::string(key) + " is " + std::to_string(*value) +
                                   " but the tokenizer's <|endoftext|> is " + std::to_string(eos) +
                                   "; set it to " + std::to_string(eos) + " or leave it out");
    }
  }
  if (!config.tie_word_embeddings) {
    throw_file_error(source, "tie_word_embeddings=false is not supported (GPT-2 ties lm_head to wte)");
  }
  double range = 0.02;
  if (config.original.contains("initializer_range")) {
    const auto& value = config.original.at("initializer_range");
    if (!value.is_number() || value.get<double>() <= 0) {
      throw_file_error(source, "initializer_range: expected a positive number, got " + value.dump());
    }
    range = value.get<double>();
  }
  model::Gpt2 model(config);
  model->init_weights(range);
  return model;
}

}  // namespace rlhf::sft
