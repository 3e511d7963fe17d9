#include "rlhf/model/checkpoint.h"

#include <spdlog/spdlog.h>

#include <set>

#include "rlhf/formats/safetensors.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::model {
namespace fs = std::filesystem;

namespace {

at::ScalarType to_scalar_type(formats::DType dtype) {
  switch (dtype) {
    case formats::DType::F64: return at::kDouble;
    case formats::DType::F32: return at::kFloat;
    case formats::DType::F16: return at::kHalf;
    case formats::DType::BF16: return at::kBFloat16;
    case formats::DType::I64: return at::kLong;
    case formats::DType::I32: return at::kInt;
    case formats::DType::I16: return at::kShort;
    case formats::DType::I8: return at::kChar;
    case formats::DType::U8: return at::kByte;
    case formats::DType::Bool: return at::kBool;
  }
  throw Error("unsupported tensor dtype");
}

formats::DType to_dtype(at::ScalarType type) {
  switch (type) {
    case at::kDouble: return formats::DType::F64;
    case at::kFloat: return formats::DType::F32;
    case at::kHalf: return formats::DType::F16;
    case at::kBFloat16: return formats::DType::BF16;
    case at::kLong: return formats::DType::I64;
    case at::kInt: return formats::DType::I32;
    case at::kShort: return formats::DType::I16;
    case at::kChar: return formats::DType::I8;
    case at::kByte: return formats::DType::U8;
    case at::kBool: return formats::DType::Bool;
    default: break;
  }
  throw Error(std::string("cannot store tensors of type ") + at::toString(type));
}

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "transformer.h.0.ln_1.weight" -> "h.0.ln_1.weight"
std::string strip_prefix(const std::string& name) {
  static const std::string prefix = "transformer.";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

bool is_attention_buffer(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name.rfind("h.", 0) == 0 && (ends_with(".attn.bias") || ends_with(".attn.masked_bias"));
}

}  // namespace

fs::path find_weights_file(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw_file_error(dir.string(), "model directory not found");
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    if (fs::exists(dir / name, ec)) return dir / name;
  }
  if (fs::exists(dir / "model.safetensors.index.json", ec) || fs::exists(dir / "pytorch_model.bin.index.json", ec)) {
    throw_file_error(dir.string(), "sharded checkpoints are not supported yet: merge the shards into one model.safetensors");
  }
  throw_file_error(dir.string(), "no weights found: expected model.safetensors or pytorch_model.bin");
}

std::map<std::string, at::Tensor> read_tensor_map(const std::filesystem::path& path) {
  const auto file = formats::TensorFile::open(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& view : file.tensors()) out.emplace(view.name, tensor_from_view(view));
  return out;
}

at::Tensor tensor_from_view(const formats::TensorView& view) {
  const auto type = to_scalar_type(view.dtype);
  auto options = at::TensorOptions().dtype(type);
  // from_blob does not copy; clone() gives a tensor that owns its data and outlives the mapping.
  at::Tensor borrowed = at::from_blob(const_cast<std::uint8_t*>(view.data), view.shape, view.strides, options);
  return borrowed.clone(at::MemoryFormat::Contiguous);
}

std::map<std::string, at::Tensor> load_gpt2_weights(Gpt2Impl& model, const formats::TensorFile& file) {
  const std::string source = file.path().string();
  std::map<std::string, at::Tensor> params;
  for (auto& item : model.named_parameters()) params.emplace(item.key(), item.value());

  std::map<std::string, at::Tensor> extra;
  std::set<std::string> loaded;
  at::NoGradGuard no_grad;
  for (const auto& view : file.tensors()) {
    const std::string name = strip_prefix(view.name);
    if (is_attention_buffer(name)) continue;
    if (name == "lm_head.weight" && model.config().tie_word_embeddings) {
      const at::IntArrayRef expected = model.wte->weight.sizes();
      if (at::IntArrayRef(view.shape) != expected) {
        throw_file_error(source, "tensor lm_head.weight: expected shape " + shape_string(expected) + ", got " +
                                     shape_string(view.shape));
      }
      continue;  // tied to wte
    }
    auto it = params.find(name);
    if (it == params.end()) {
      extra.emplace(name, tensor_from_view(view));
      continue;
    }
    if (at::IntArrayRef(view.shape) != it->second.sizes()) {
      throw_file_error(source, "tensor " + view.name + ": expected shape " + shape_string(it->second.sizes()) +
                                   ", got " + shape_string(view.shape) + " (does config.json match the weights?)");
    }
    if (!loaded.insert(name).second) throw_file_error(source, "tensor " + name + " appears twice");
    it->second.copy_(tensor_from_view(view).to(it->second.scalar_type()));
  }
  std::vector<std::string> missing;
  for (const auto& [name, _] : params) {
    if (!loaded.count(name)) missing.push_back(name);
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 5) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    throw_file_error(source, "missing tensors: " + list);
  }
  return extra;
}

Gpt2 load_gpt2(const fs::path& dir, std::map<std::string, at::Tensor>* extra) {
  const fs::path weights = find_weights_file(dir);
  const Gpt2Config config = load_gpt2_config(dir / "config.json");
  Gpt2 model(config);
  const auto file = formats::TensorFile::open(weights);
  auto rest = load_gpt2_weights(*model, file);
  if (extra != nullptr) {
    *extra = std::move(rest);
  } else if (!rest.empty()) {
    spdlog::warn("{}: ignoring {} tensors that are not part of GPT-2 (first: {})", weights.string(), rest.size(),
                 rest.begin()->first);
  }
  model->eval();
  return model;
}

void write_tensors(const fs::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> keep_alive;  // contiguous CPU copies referenced by `entries`
  std::vector<formats::TensorToWrite> entries;
  keep_alive.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    keep_alive.push_back(tensor.detach().to(at::kCPU).contiguous());
    const at::Tensor& t = keep_alive.back();
    entries.push_back({name, to_dtype(t.scalar_type()), t.sizes().vec(), t.data_ptr(), t.nbytes()});
  }
  formats::write_safetensors(path, entries, metadata);
}

void save_gpt2(Gpt2Impl& model, const fs::path& dir, const tokenizer::Tokenizer* tokenizer,
               const std::map<std::string, at::Tensor>& extra, const SaveOptions& options) {
  StagedDirectory staged(dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : model.named_parameters()) {
    tensors.emplace_back("transformer." + item.key(), item.value().to(options.dtype));
  }
  for (const auto& [name, tensor] : extra) tensors.emplace_back(name, tensor);
  std::map<std::string, std::string> metadata = options.metadata;
  metadata["format"] = "pt";  // Hugging Face refuses safetensors files without it
  write_tensors(staged.path() / "model.safetensors", tensors, metadata);

  const char* dtype_name = options.dtype == at::kBFloat16 ? "bfloat16" : options.dtype == at::kHalf ? "float16" : "float32";
  write_file_atomic(staged.path() / "config.json", gpt2_config_to_json(model.config(), dtype_name).dump(2) + "\n");
  if (tokenizer != nullptr) tokenizer->save(staged.path());
  for (const auto& [name, contents] : options.extra_files) write_file_atomic(staged.path() / name, contents);
  staged.commit();
}

}  // namespace rlhf::model
