// Loading and saving GPT-2 weights in Hugging Face's layout: a directory with config.json,
// model.safetensors or pytorch_model.bin, and the tokenizer files.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <string>

#include "rlhf/model/gpt2.h"

namespace rlhf::formats {
class TensorFile;
struct TensorView;
}  // namespace rlhf::formats
namespace rlhf::tokenizer {
class Tokenizer;
}

namespace rlhf::model {

// The weights file of a model directory: model.safetensors if present, else pytorch_model.bin.
// Throws rlhf::Error naming the directory and the files looked for.
std::filesystem::path find_weights_file(const std::filesystem::path& dir);

// A tensor read from a file, as an fp32 (or the file's integer type) CPU tensor that owns its data.
at::Tensor tensor_from_view(const formats::TensorView& view);

// Every tensor of a safetensors or torch zip file, by name, copied into owned CPU tensors (checkpoint
// parts such as optimizer and generator states).
std::map<std::string, at::Tensor> read_tensor_map(const std::filesystem::path& path);

// Copies a checkpoint's tensors into the model by name. Accepts the hub naming ("h.0.ln_1.weight")
// and GPT2LMHeadModel's ("transformer.h.0.ln_1.weight"); ignores the attention-mask buffers
// (h.N.attn.bias, h.N.attn.masked_bias) and a tied lm_head.weight. A missing tensor or a wrong
// shape throws rlhf::Error naming the file, the tensor, and expected vs actual shape. Tensors with
// other names are returned (by name, prefix stripped) for the caller (value or reward heads).
std::map<std::string, at::Tensor> load_gpt2_weights(Gpt2Impl& model, const formats::TensorFile& file);

// Loads config.json and the weights of a model directory into a new model (fp32, CPU).
// `extra` receives tensors that are not part of GPT-2 (heads), when not null.
Gpt2 load_gpt2(const std::filesystem::path& dir, std::map<std::string, at::Tensor>* extra = nullptr);

struct SaveOptions {
  at::ScalarType dtype = at::kFloat;            // dtype of the stored GPT-2 weights
  std::map<std::string, std::string> metadata;  // added to the safetensors metadata
  std::map<std::string, std::string> extra_files;  // name -> contents, written into the same staged directory
};

// Writes a model directory that Hugging Face's GPT2LMHeadModel.from_pretrained loads unchanged:
// config.json, model.safetensors (names prefixed "transformer.", no lm_head since it is tied) and
// the tokenizer files. `extra` tensors are stored under their own names (e.g. "v_head.weight").
// The directory is staged and swapped in whole: a failure leaves any previous directory intact.
void save_gpt2(Gpt2Impl& model, const std::filesystem::path& dir, const tokenizer::Tokenizer* tokenizer,
               const std::map<std::string, at::Tensor>& extra = {}, const SaveOptions& options = {});

// Writes named tensors as safetensors (contiguous CPU copies are made as needed).
void write_tensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata);

}  // namespace rlhf::model
