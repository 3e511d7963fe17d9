// The SentencePiece wrapper, on a tiny model trained inside the test (libsentencepiece_train) from a
// few sentences written to a temporary directory.
#include "rlhf/tokenizer/sentencepiece.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "tokenizer_test_util.h"

namespace rlhf::tokenizer {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr int kVocabSize = 40;  // the corpus supports at most ~58

// Trains once per test binary; returns the model file's bytes.
const std::string& tiny_model() {
  static const std::string model = [] {
    TempDir dir;
    std::string corpus;
    for (int i = 0; i < 20; ++i) {
      corpus += "the quick brown fox jumps over the lazy dog\n";
      corpus += "a tokenizer splits text into pieces and maps pieces to ids\n";
      corpus += "reward models learn from human preferences " + std::to_string(i) + "\n";
    }
    testing::write_file(dir.path() / "corpus.txt", corpus);
    const auto prefix = dir.path() / "tiny";
    const auto status = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + (dir.path() / "corpus.txt").string() + " --model_prefix=" + prefix.string() +
        " --vocab_size=" + std::to_string(kVocabSize) + " --model_type=unigram --minloglevel=2");
    if (!status.ok()) throw std::runtime_error("SentencePiece training failed: " + status.ToString());
    return read_text_file(prefix.string() + ".model");
  }();
  return model;
}

TEST(SentencePiece, EncodeDecodeAndVocabulary) {
  const auto tok = SentencePieceTokenizer::from_serialized(tiny_model());
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->vocab_size(), kVocabSize);
  EXPECT_EQ(tok->eos_id(), 2);  // SentencePiece's defaults: <unk>=0, <s>=1, </s>=2
  EXPECT_EQ(tok->id_to_piece(2), "</s>");
  EXPECT_EQ(tok->token_id("</s>"), 2);
  EXPECT_EQ(tok->token_id("<unk>"), 0);
  EXPECT_EQ(tok->token_id("definitely not a piece"), std::nullopt);
  for (int id = 0; id < tok->vocab_size(); ++id) EXPECT_EQ(tok->token_id(tok->id_to_piece(id)), id);
  const std::string text = "the lazy fox splits pieces";
  const auto ids = tok->encode(text);
  EXPECT_FALSE(ids.empty());
  EXPECT_EQ(tok->decode(ids), text);
  EXPECT_EQ(tok->decode({2}), "");  // control pieces decode to nothing
}

TEST(SentencePiece, OutOfRangeIdsThrow) {
  const auto tok = SentencePieceTokenizer::from_serialized(tiny_model());
  try {
    tok->decode({3, kVocabSize + 5});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(kVocabSize + 5)), std::string::npos) << e.what();
  }
  EXPECT_THROW(tok->id_to_piece(-1), Error);
}

TEST(SentencePiece, SaveAndLoadTokenizerFromEitherName) {
  const auto tok = SentencePieceTokenizer::from_serialized(tiny_model());
  TempDir saved, renamed;
  tok->save(saved.path());
  ASSERT_TRUE(fs::is_regular_file(saved.path() / "tokenizer.model"));
  fs::copy_file(saved.path() / "tokenizer.model", renamed.path() / "spiece.model");
  const std::string text = "quick brown dogs learn from preferences";
  for (const auto& dir : {saved.path(), renamed.path()}) {
    const auto loaded = load_tokenizer(dir);
    EXPECT_EQ(loaded->kind(), "sentencepiece");
    EXPECT_EQ(loaded->encode(text), tok->encode(text));
  }
}

TEST(SentencePiece, CorruptModelErrorNamesTheFile) {
  TempDir dir;
  testing::write_file(dir.path() / "tokenizer.model", "this is not a protobuf");
  try {
    load_tokenizer(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlhf::tokenizer
