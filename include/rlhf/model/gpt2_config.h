// GPT-2 hyperparameters as Hugging Face's config.json describes them. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace rlhf::model {

struct Gpt2Config {
  int vocab_size = 50257;
  int n_positions = 1024;        // context length
  int n_embd = 768;              // C
  int n_layer = 12;
  int n_head = 12;
  int n_inner = 0;               // MLP width; 0 = 4 * n_embd (HF writes null)
  double layer_norm_epsilon = 1e-5;
  std::string activation_function = "gelu_new";  // gelu_new | gelu_pytorch_tanh (tanh approx.) | gelu (erf) | relu
  bool tie_word_embeddings = true;
  int bos_token_id = 50256;
  int eos_token_id = 50256;
  // The original config.json, so that saving keeps keys we do not interpret (task_specific_params, ...).
  nlohmann::json original = nlohmann::json::object();

  int head_dim() const { return n_embd / n_head; }
  int mlp_width() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
};

// Parses a Hugging Face GPT-2 config.json. Keys that would change the numerics in ways this
// implementation does not support (cross-attention, scale_attn_by_inverse_layer_idx, ...) are
// rejected; other unknown keys are kept but ignored, as Hugging Face does.
Gpt2Config parse_gpt2_config(const nlohmann::json& j, const std::string& source);
Gpt2Config load_gpt2_config(const std::filesystem::path& path);

// The config.json to write next to saved weights (model_type gpt2, GPT2LMHeadModel).
nlohmann::json gpt2_config_to_json(const Gpt2Config& config, const std::string& torch_dtype = "float32");

// Named sizes: "124M"/"gpt2", "355M"/"gpt2-medium", "774M"/"gpt2-large", "1558M"/"1.5B"/"gpt2-xl".
// Throws rlhf::Error listing the names for anything else.
Gpt2Config named_gpt2_config(const std::string& name);

// Parameter count of the model (embeddings included, tied lm_head counted once).
std::int64_t gpt2_parameter_count(const Gpt2Config& config);

}  // namespace rlhf::model
