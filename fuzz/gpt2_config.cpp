// Fuzz target: the GPT-2 config.json reader (include/rlhf/model/gpt2_config.h; torch-free, so its one
// source file is compiled in here). The input is the file; it goes through load_gpt2_config, the path a
// model directory takes.
// Properties, besides "only rlhf::Error on bad input":
//   - the derived sizes (head_dim, mlp_width) of an accepted config are computed without overflow (UBSan);
//   - the config.json written for it (gpt2_config_to_json) reads back to the same hyperparameters.
#include "fuzz_util.h"
#include "rlhf/model/gpt2_config.h"

namespace {

using rlhf::model::Gpt2Config;

bool same_hyperparameters(const Gpt2Config& a, const Gpt2Config& b) {
  return a.vocab_size == b.vocab_size && a.n_positions == b.n_positions && a.n_embd == b.n_embd &&
         a.n_layer == b.n_layer && a.n_head == b.n_head && a.n_inner == b.n_inner &&
         a.layer_norm_epsilon == b.layer_norm_epsilon && a.activation_function == b.activation_function &&
         a.tie_word_embeddings == b.tie_word_embeddings && a.bos_token_id == b.bos_token_id &&
         a.eos_token_id == b.eos_token_id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto path = rlhf::fuzz::scratch_dir("gpt2_config") / "config.json";
  rlhf::fuzz::write_bytes(path, rlhf::fuzz::as_text(data, size));
  Gpt2Config config;
  if (!rlhf::fuzz::accepts([&] { config = rlhf::model::load_gpt2_config(path); })) return 0;
  FUZZ_CHECK(config.head_dim() > 0 && config.mlp_width() > 0, "non-positive derived size");
  const Gpt2Config again = rlhf::model::parse_gpt2_config(rlhf::model::gpt2_config_to_json(config), "written");
  FUZZ_CHECK(same_hyperparameters(config, again), "the written config.json reads back differently");
  return 0;
}
