#include "rlhf/model/gpt2_config.h"

#include <climits>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "rlhf/util/json_depth.h"

namespace rlhf::model {
namespace {

template <typename T>
void read_int(const nlohmann::json& j, const char* key, T& out, const std::string& source, long min_value) {
  if (!j.contains(key) || j.at(key).is_null()) return;
  const auto& value = j.at(key);
  if (!value.is_number_integer()) {
    throw_file_error(source, std::string(key) + ": expected an integer, got " + value.dump());
  }
  const long long v = value.get<long long>();
  if (v < min_value || v > (1LL << 31) - 1) {
    throw_file_error(source, std::string(key) + ": must be >= " + std::to_string(min_value) + ", got " + value.dump());
  }
  out = static_cast<T>(v);
}

void reject_if_true(const nlohmann::json& j, const char* key, const std::string& source, const char* why) {
  if (j.contains(key) && j.at(key).is_boolean() && j.at(key).get<bool>()) {
    throw_file_error(source, std::string(key) + "=true is not supported (" + why + ")");
  }
}

}  // namespace

Gpt2Config parse_gpt2_config(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw_file_error(source, "expected a JSON object");
  Gpt2Config c;
  c.original = j;
  if (j.contains("model_type") && j.at("model_type") != "gpt2") {
    throw_file_error(source, "model_type: expected \"gpt2\", got " + j.at("model_type").dump());
  }
  read_int(j, "vocab_size", c.vocab_size, source, 1);
  read_int(j, "n_positions", c.n_positions, source, 1);
  read_int(j, "n_embd", c.n_embd, source, 1);
  read_int(j, "n_layer", c.n_layer, source, 1);
  read_int(j, "n_head", c.n_head, source, 1);
  read_int(j, "n_inner", c.n_inner, source, 1);
  read_int(j, "bos_token_id", c.bos_token_id, source, 0);
  read_int(j, "eos_token_id", c.eos_token_id, source, 0);
  if (j.contains("layer_norm_epsilon")) {
    const auto& eps = j.at("layer_norm_epsilon");
    if (!eps.is_number() || eps.get<double>() <= 0) {
      throw_file_error(source, "layer_norm_epsilon: expected a positive number, got " + eps.dump());
    }
    c.layer_norm_epsilon = eps.get<double>();
  }
  if (j.contains("activation_function")) {
    const auto& act = j.at("activation_function");
    const bool known = act.is_string() && (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu" ||
                                           act == "gelu_fast" || act == "relu");
    if (!known) {
      throw_file_error(source, "activation_function: expected gelu_new, gelu_pytorch_tanh, gelu_fast, gelu or relu, got " +
                                   act.dump());
    }
    c.activation_function = act.get<std::string>();
  }
  if (j.contains("tie_word_embeddings")) {
    if (!j.at("tie_word_embeddings").is_boolean()) {
      throw_file_error(source, "tie_word_embeddings: expected true or false, got " + j.at("tie_word_embeddings").dump());
    }
    c.tie_word_embeddings = j.at("tie_word_embeddings").get<bool>();
  }
  if (j.contains("scale_attn_weights") && j.at("scale_attn_weights") == false) {
    throw_file_error(source, "scale_attn_weights=false is not supported (GPT-2 scales scores by 1/sqrt(head_dim))");
  }
  reject_if_true(j, "scale_attn_by_inverse_layer_idx", source, "not part of GPT-2");
  reject_if_true(j, "add_cross_attention", source, "encoder-decoder GPT-2 is not supported");
  if (c.n_inner == 0 && c.n_embd > INT_MAX / 4) {  // mlp_width() = 4 * n_embd is an int
    throw_file_error(source, "n_embd: must be <= " + std::to_string(INT_MAX / 4) +
                                 " when n_inner is not set (the MLP width 4 * n_embd must fit in 32 bits), got " +
                                 std::to_string(c.n_embd));
  }
  if (c.n_embd % c.n_head != 0) {
    throw_file_error(source, "n_embd (" + std::to_string(c.n_embd) + ") must be a multiple of n_head (" +
                                 std::to_string(c.n_head) + ")");
  }
  return c;
}

Gpt2Config load_gpt2_config(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  check_json_depth(text, path.string());  // the parsed file is kept (Gpt2Config::original) and copied
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw_file_error(path.string(), std::string("invalid JSON: ") + e.what());
  }
  return parse_gpt2_config(j, path.string());
}

nlohmann::json gpt2_config_to_json(const Gpt2Config& c, const std::string& torch_dtype) {
  nlohmann::json j = c.original.is_object() ? c.original : nlohmann::json::object();
  j["model_type"] = "gpt2";
  j["architectures"] = nlohmann::json::array({"GPT2LMHeadModel"});
  j["vocab_size"] = c.vocab_size;
  j["n_positions"] = c.n_positions;
  j["n_ctx"] = c.n_positions;
  j["n_embd"] = c.n_embd;
  j["n_layer"] = c.n_layer;
  j["n_head"] = c.n_head;
  j["n_inner"] = c.n_inner > 0 ? nlohmann::json(c.n_inner) : nlohmann::json(nullptr);
  j["layer_norm_epsilon"] = c.layer_norm_epsilon;
  j["activation_function"] = c.activation_function;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["torch_dtype"] = torch_dtype;
  if (!j.contains("initializer_range")) j["initializer_range"] = 0.02;
  // Dropout is off everywhere in rlhf (paper-spec item 14); keep HF's defaults for other users.
  for (const char* key : {"resid_pdrop", "embd_pdrop", "attn_pdrop"}) {
    if (!j.contains(key)) j[key] = 0.1;
  }
  return j;
}

Gpt2Config named_gpt2_config(const std::string& name) {
  Gpt2Config c;
  if (name == "124M" || name == "gpt2") {
    c.n_layer = 12, c.n_head = 12, c.n_embd = 768;
  } else if (name == "355M" || name == "gpt2-medium") {
    c.n_layer = 24, c.n_head = 16, c.n_embd = 1024;
  } else if (name == "774M" || name == "gpt2-large") {
    c.n_layer = 36, c.n_head = 20, c.n_embd = 1280;
  } else if (name == "1558M" || name == "1.5B" || name == "gpt2-xl") {
    c.n_layer = 48, c.n_head = 25, c.n_embd = 1600;
  } else {
    throw Error("unknown GPT-2 size \"" + name + "\": expected 124M, 355M, 774M, 1.5B (or gpt2, gpt2-medium, gpt2-large, gpt2-xl)");
  }
  return c;
}

std::int64_t gpt2_parameter_count(const Gpt2Config& c) {
  const std::int64_t C = c.n_embd, F = c.mlp_width();
  const std::int64_t per_layer = 2 * 2 * C           // ln_1, ln_2
                                 + C * 3 * C + 3 * C  // c_attn
                                 + C * C + C          // attn c_proj
                                 + C * F + F          // c_fc
                                 + F * C + C;         // mlp c_proj
  return static_cast<std::int64_t>(c.vocab_size) * C + static_cast<std::int64_t>(c.n_positions) * C +
         c.n_layer * per_layer + 2 * C;
}

}  // namespace rlhf::model
