// Loading and saving model directories: both namings, the hub's extra buffers, dtypes, errors that
// name the file and tensor, and a save -> load round trip in the Hugging Face layout.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "torch_test_util.h"
#include "rlhf/formats/tensor_file.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::model {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kData = RLHF_TEST_DATA;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("rlhf_ckpt_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// The message of the rlhf::Error thrown by fn ("" if none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

at::Tensor forward_logits(Gpt2& model) {
  at::NoGradGuard no_grad;
  const at::Tensor ids = testing::long_matrix({{1, 2, 3, 4, 5, 6}});
  const at::Tensor mask = at::ones_like(ids);
  return model->logits(model->forward(ids, mask, positions_from_mask(mask)));
}

TEST(Checkpoint, BothFileFormatsAndNamingsGiveTheSameModel) {
  Gpt2 from_safetensors = load_gpt2(kData / "tiny-gpt2");
  Gpt2 from_bin = load_gpt2(kData / "tiny-gpt2-bin");  // hub naming, attn buffers, lm_head present
  EXPECT_TRUE(forward_logits(from_safetensors).equal(forward_logits(from_bin)));
}

TEST(Checkpoint, SaveThenLoadRoundTrips) {
  TempDir tmp;
  Gpt2 model = load_gpt2(kData / "tiny-gpt2");
  const auto tokenizer = tokenizer::load_tokenizer(kData / "tiny-gpt2");
  const at::Tensor head = at::arange(32, at::kFloat).view({1, 32});
  save_gpt2(*model, tmp.path() / "saved", tokenizer.get(), {{"v_head.weight", head}});
  for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) {
    EXPECT_TRUE(fs::exists(tmp.path() / "saved" / name)) << name;
  }
  // Hugging Face's layout: prefixed names, no lm_head (tied), "format": "pt" metadata.
  const auto file = formats::TensorFile::open(tmp.path() / "saved" / "model.safetensors");
  EXPECT_NE(file.find("transformer.h.1.mlp.c_fc.weight"), nullptr);
  EXPECT_EQ(file.find("lm_head.weight"), nullptr);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const auto config = nlohmann::json::parse(read_text_file(tmp.path() / "saved" / "config.json"));
  EXPECT_EQ(config.at("model_type"), "gpt2");
  EXPECT_EQ(config.at("n_layer"), 2);

  std::map<std::string, at::Tensor> extra;
  Gpt2 reloaded = load_gpt2(tmp.path() / "saved", &extra);
  EXPECT_TRUE(forward_logits(model).equal(forward_logits(reloaded)));
  ASSERT_EQ(extra.count("v_head.weight"), 1u);
  EXPECT_TRUE(extra.at("v_head.weight").equal(head));
  const auto retokenizer = tokenizer::load_tokenizer(tmp.path() / "saved");
  EXPECT_EQ(retokenizer->encode("the quick brown fox"), tokenizer->encode("the quick brown fox"));
}

TEST(Checkpoint, SavesBf16AndLoadsItBack) {
  TempDir tmp;
  Gpt2 model = load_gpt2(kData / "tiny-gpt2");
  SaveOptions options;
  options.dtype = at::kBFloat16;
  save_gpt2(*model, tmp.path() / "bf16", nullptr, {}, options);
  const auto file = formats::TensorFile::open(tmp.path() / "bf16" / "model.safetensors");
  EXPECT_EQ(file.find("transformer.wte.weight")->dtype, formats::DType::BF16);
  Gpt2 reloaded = load_gpt2(tmp.path() / "bf16");
  EXPECT_TRUE(reloaded->wte->weight.equal(model->wte->weight.to(at::kBFloat16).to(at::kFloat)));
}

TEST(Checkpoint, SaveReplacesAnExistingDirectoryWhole) {
  TempDir tmp;
  Gpt2 model = load_gpt2(kData / "tiny-gpt2");
  fs::create_directories(tmp.path() / "out");
  write_file_atomic(tmp.path() / "out" / "stale.txt", "old");
  save_gpt2(*model, tmp.path() / "out", nullptr);
  EXPECT_FALSE(fs::exists(tmp.path() / "out" / "stale.txt"));
  EXPECT_TRUE(fs::exists(tmp.path() / "out" / "model.safetensors"));
}

// Copies tiny-gpt2's config and tokenizer into dir, with the given tensors as its weights.
void write_model_dir(const fs::path& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  fs::create_directories(dir);
  for (const char* name : {"config.json", "vocab.json", "merges.txt"}) {
    fs::copy_file(kData / "tiny-gpt2" / name, dir / name, fs::copy_options::overwrite_existing);
  }
  write_tensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
}

std::vector<std::pair<std::string, at::Tensor>> tiny_tensors() {
  const auto file = formats::TensorFile::open(kData / "tiny-gpt2" / "model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& view : file.tensors()) tensors.emplace_back(view.name, tensor_from_view(view));
  return tensors;
}

TEST(Checkpoint, MissingTensorIsNamed) {
  TempDir tmp;
  auto tensors = tiny_tensors();
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                               [](const auto& t) { return t.first == "transformer.h.1.ln_2.bias"; }),
                tensors.end());
  write_model_dir(tmp.path(), tensors);
  const std::string message = error_of([&] { load_gpt2(tmp.path()); });
  EXPECT_THAT(message, HasSubstr("model.safetensors"));
  EXPECT_THAT(message, HasSubstr("missing tensors: h.1.ln_2.bias"));
}

TEST(Checkpoint, WrongShapeIsNamedWithBothShapes) {
  TempDir tmp;
  auto tensors = tiny_tensors();
  for (auto& [name, tensor] : tensors) {
    if (name == "transformer.h.0.attn.c_attn.weight") tensor = tensor.t().contiguous();  // [96, 32]: wrong layout
  }
  write_model_dir(tmp.path(), tensors);
  const std::string message = error_of([&] { load_gpt2(tmp.path()); });
  EXPECT_THAT(message, HasSubstr("h.0.attn.c_attn.weight"));
  EXPECT_THAT(message, HasSubstr("expected shape [32, 96], got [96, 32]"));
}

TEST(Checkpoint, MissingFilesAreNamed) {
  TempDir tmp;
  EXPECT_THAT(error_of([&] { load_gpt2(tmp.path() / "nowhere"); }), HasSubstr("nowhere"));
  EXPECT_THAT(error_of([&] { load_gpt2(tmp.path()); }), HasSubstr("no weights found"));
  write_model_dir(tmp.path(), tiny_tensors());
  fs::remove(tmp.path() / "config.json");
  EXPECT_THAT(error_of([&] { load_gpt2(tmp.path()); }), HasSubstr("config.json"));
}

TEST(Checkpoint, ConfigThatDoesNotMatchTheWeightsIsRefused) {
  TempDir tmp;
  write_model_dir(tmp.path(), tiny_tensors());
  auto config = nlohmann::json::parse(read_text_file(tmp.path() / "config.json"));
  config["n_layer"] = 3;
  write_file_atomic(tmp.path() / "config.json", config.dump());
  EXPECT_THAT(error_of([&] { load_gpt2(tmp.path()); }), HasSubstr("missing tensors: h.2."));
}

}  // namespace
}  // namespace rlhf::model
