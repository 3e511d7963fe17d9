// load_tokenizer and the GPT-2 file formats on a tiny vocabulary written to a temporary directory:
// both file-name conventions, save/reload, and an error that names the file for each kind of damage.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rlhf/tokenizer/gpt2_bpe.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "tokenizer_test_util.h"

namespace rlhf::tokenizer {
namespace {

using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

// 256 byte pieces (id = byte) + "he"=256, "ll"=257, "hell"=258, "hello"=259, "<|endoftext|>"=260.
nlohmann::json tiny_vocab() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_to_unicode()[static_cast<size_t>(b)]] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  vocab["<|endoftext|>"] = 260;
  return vocab;
}
const std::string kTinyMerges = "#version: 0.2\nh e\nl l\nhe ll\nhell o\n";

void write_tiny(const fs::path& dir, const std::string& vocab_name = "vocab.json",
                const std::string& merges_name = "merges.txt") {
  write_file(dir / vocab_name, tiny_vocab().dump());
  write_file(dir / merges_name, kTinyMerges);
}

// The message of the Error that `load_tokenizer(dir)` throws, or "no error".
std::string load_error(const fs::path& dir) {
  try {
    load_tokenizer(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(LoadTokenizer, HuggingFaceNames) {
  TempDir dir;
  write_tiny(dir.path());
  const auto tok = load_tokenizer(dir.path());
  EXPECT_EQ(tok->kind(), "gpt2-bpe");
  EXPECT_EQ(tok->encode("hello hell"), (std::vector<int>{259, ' ', 258}));
  EXPECT_EQ(tok->eos_id(), 260);
  EXPECT_EQ(tok->vocab_size(), 261);
}

TEST(LoadTokenizer, TokenizerLargerThanTheModelsVocabularyIsRefused) {
  TempDir dir;
  write_tiny(dir.path());
  write_file(dir.path() / "config.json", R"({"model_type": "gpt2", "vocab_size": 261})");
  EXPECT_EQ(load_tokenizer(dir.path())->vocab_size(), 261);  // equal sizes fit
  write_file(dir.path() / "config.json", R"({"model_type": "gpt2", "vocab_size": 260})");
  EXPECT_EQ(load_error(dir.path()),
            dir.path().string() + ": the tokenizer has 261 tokens but config.json's vocab_size is 260: ids from 260 on "
                                  "have no embedding (the tokenizer files belong to another model?)");
  write_file(dir.path() / "config.json", "not json");  // the model loader reports a bad config.json itself
  EXPECT_EQ(load_tokenizer(dir.path())->vocab_size(), 261);
  EXPECT_EQ(load_error(dir.path() / "missing"),
            (dir.path() / "missing").string() + ": directory not found (expected a model or tokenizer directory)");
}

TEST(LoadTokenizer, OpenAiNames) {
  TempDir dir;
  write_tiny(dir.path(), "encoder.json", "vocab.bpe");
  EXPECT_EQ(load_tokenizer(dir.path())->encode("hello"), (std::vector<int>{259}));
}

TEST(LoadTokenizer, MergesFileVariantsAreAccepted) {
  const std::string vocab = tiny_vocab().dump();
  const std::vector<int> expected = {259};
  EXPECT_EQ(Gpt2BpeTokenizer::from_strings(vocab, "h e\nl l\nhe ll\nhell o")->encode("hello"), expected);
  EXPECT_EQ(
      Gpt2BpeTokenizer::from_strings(vocab, "#version: 0.2\r\nh e\r\nl l\r\nhe ll\r\nhell o\r\n\r\n")->encode("hello"),
      expected);
  EXPECT_EQ(Gpt2BpeTokenizer::from_strings(vocab, kTinyMerges + "\n\n")->merges().size(), 4u);
}

TEST(LoadTokenizer, SaveThenReloadGivesIdenticalTokenizer) {
  TempDir first, second;
  write_tiny(first.path(), "encoder.json", "vocab.bpe");
  const auto original = load_tokenizer(first.path());
  original->save(second.path());
  EXPECT_TRUE(fs::is_regular_file(second.path() / "vocab.json"));
  EXPECT_TRUE(fs::is_regular_file(second.path() / "merges.txt"));
  const auto reloaded = load_tokenizer(second.path());
  EXPECT_EQ(reloaded->vocab_size(), original->vocab_size());
  for (int id = 0; id < original->vocab_size(); ++id) EXPECT_EQ(reloaded->id_to_piece(id), original->id_to_piece(id));
  for (const std::string text : {"hello world", "hellohello\xFF", "", "<|endoftext|>"}) {
    EXPECT_EQ(reloaded->encode(text), original->encode(text));
  }
  EXPECT_EQ(nlohmann::json::parse(read_text_file(second.path() / "vocab.json")), tiny_vocab());
}

TEST(LoadTokenizer, ErrorsNameWhatWasLookedFor) {
  TempDir dir;
  std::string message = load_error(dir.path());
  EXPECT_NE(message.find(dir.path().string()), std::string::npos) << message;
  for (const char* name :
       {"vocab.json", "merges.txt", "encoder.json", "vocab.bpe", "tokenizer.model", "spiece.model"}) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
  write_file(dir.path() / "vocab.json", tiny_vocab().dump());
  message = load_error(dir.path());
  EXPECT_NE(message.find("merges.txt"), std::string::npos) << message;
  message = load_error(dir.path() / "missing");
  EXPECT_NE(message.find("missing"), std::string::npos) << message;
  message = load_error(dir.path() / "vocab.json");
  EXPECT_NE(message.find("directory"), std::string::npos) << message;
}

// Each damaged file must give an Error whose message names the file and contains `what`.
void expect_file_error(const std::string& vocab, const std::string& merges, const std::string& file,
                       const std::string& what) {
  TempDir dir;
  write_file(dir.path() / "vocab.json", vocab);
  write_file(dir.path() / "merges.txt", merges);
  const std::string message = load_error(dir.path());
  EXPECT_NE(message.find((dir.path() / file).string()), std::string::npos) << message;
  EXPECT_NE(message.find(what), std::string::npos) << "expected \"" << what << "\" in: " << message;
}

TEST(LoadTokenizer, ErrorsNameTheFileAndTheProblem) {
  const std::string vocab = tiny_vocab().dump();
  auto with = [](const std::string& key, const nlohmann::json& value) {
    nlohmann::json v = tiny_vocab();
    v[key] = value;
    return v.dump();
  };
  expect_file_error("{\"a\": 1,", kTinyMerges, "vocab.json", "invalid JSON");
  expect_file_error("[1, 2]", kTinyMerges, "vocab.json", "JSON object");
  expect_file_error(with("xyz", 1.5), kTinyMerges, "vocab.json", "\"xyz\": id must be an integer");
  expect_file_error(with("xyz", "7"), kTinyMerges, "vocab.json", "id must be an integer");
  expect_file_error(with("xyz", -1), kTinyMerges, "vocab.json", "id must be an integer");
  expect_file_error(with("xyz", 5), kTinyMerges, "vocab.json", "id 5 is used by both");
  nlohmann::json no_byte = tiny_vocab();
  no_byte.erase("a");
  expect_file_error(no_byte.dump(), kTinyMerges, "vocab.json", "no piece for byte 97");
  expect_file_error(vocab, "#version: 0.2\nh e\nl l x\n", "merges.txt", "line 3: expected two pieces");
  expect_file_error(vocab, "#version: 0.2\nh\n", "merges.txt", "line 2: expected two pieces");
  expect_file_error(vocab, "h e\nq z\n", "merges.txt", "line 2: merge \"q z\": \"qz\" is not in the vocabulary");
  expect_file_error(vocab, "h e\nhe he\n", "merges.txt", "\"hehe\" is not in the vocabulary");
  expect_file_error(vocab, "h e\nl l\nh e\n", "merges.txt", "line 3: merge \"h e\" repeats line 1");
  expect_file_error(vocab, "h e\nzz e\n", "merges.txt", "\"zz\" is not in the vocabulary");
}

TEST(LoadTokenizer, MissingFileErrorNamesThePath) {
  TempDir dir;
  try {
    Gpt2BpeTokenizer::from_files(dir.path() / "nope.json", dir.path() / "nope.txt");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlhf::tokenizer
