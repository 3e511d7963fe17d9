// The lexicon labeler's scoring rule on hand-made sentences (words, case, apostrophes, negation
// window, clause breaks), the shipped configs/sentiment-lexicon.json, and bad lexicon files.
#include "rlhf/labelers/lexicon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kShipped = fs::path(RLHF_TEST_DATA).parent_path().parent_path() / "configs" / "sentiment-lexicon.json";

Lexicon small(int window = 2) {
  nlohmann::json j = {{"words", {{"good", 2}, {"bad", -2}, {"happy", 1.5}}},
                      {"negation", {{"words", {"not", "never"}}, {"suffix", "n't"}, {"window", window}}}};
  return Lexicon::from_json(j, "test lexicon");
}

TEST(Lexicon, SumsTheWeightsOfListedWords) {
  const Lexicon lex = small();
  EXPECT_DOUBLE_EQ(lex.score("A good day."), 2.0);
  EXPECT_DOUBLE_EQ(lex.score("GOOD, Good! and happy"), 5.5);  // case folded
  EXPECT_DOUBLE_EQ(lex.score("good bad happy"), 1.5);
  EXPECT_DOUBLE_EQ(lex.score("goodness is no badge"), 0.0);  // whole words only, no stemming
  EXPECT_DOUBLE_EQ(lex.score("good-bad"), 0.0);              // the hyphen separates two words
  EXPECT_DOUBLE_EQ(lex.score("'good' \"happy\""), 3.5);      // quotes around words are dropped
  EXPECT_DOUBLE_EQ(lex.score(""), 0.0);
  EXPECT_DOUBLE_EQ(lex.score("\xC3\xA9good"), 2.0);  // a non-ASCII letter ends a word
}

TEST(Lexicon, NegatorWithinTwoWordsOfTheSameClauseFlipsTheSign) {
  const Lexicon lex = small();
  EXPECT_DOUBLE_EQ(lex.score("not good"), -2.0);
  EXPECT_DOUBLE_EQ(lex.score("not very good"), -2.0);   // negator two words before
  EXPECT_DOUBLE_EQ(lex.score("not at all good"), 2.0);  // three words before: outside the window
  EXPECT_DOUBLE_EQ(lex.score("never bad"), 2.0);
  EXPECT_DOUBLE_EQ(lex.score("It isn't bad"), 2.0);             // the n't suffix
  EXPECT_DOUBLE_EQ(lex.score("It isn\xE2\x80\x99t bad"), 2.0);  // typographic apostrophe
  EXPECT_DOUBLE_EQ(lex.score("Not. Good"), 2.0);                // a clause mark ends the negation
  EXPECT_DOUBLE_EQ(lex.score("never, ever bad"), -2.0);
  EXPECT_DOUBLE_EQ(lex.score("not good not bad"), 0.0);  // -2 + 2
  EXPECT_DOUBLE_EQ(small(0).score("not good"), 2.0);     // window 0: no negation
  EXPECT_TRUE(lex.is_negator("don't"));
  EXPECT_FALSE(lex.is_negator("n't"));  // the suffix alone is not a word that ends in it
}

TEST(Lexicon, SplitsIntoWordsAndClauseBreaks) {
  const auto pieces = Lexicon::split("Don't stop. 'Believing'!");
  ASSERT_EQ(pieces.size(), 5u);
  EXPECT_EQ(pieces[0].word, "don't");
  EXPECT_EQ(pieces[1].word, "stop");
  EXPECT_TRUE(pieces[2].clause_break);
  EXPECT_EQ(pieces[3].word, "believing");
  EXPECT_TRUE(pieces[4].clause_break);
}

TEST(Lexicon, ShippedSentimentLexiconScoresByHand) {
  const Lexicon lex = Lexicon::load(kShipped);
  EXPECT_GE(lex.size(), 300u);
  EXPECT_DOUBLE_EQ(lex.score("What a wonderful, happy day."), 5.0);       // 3 + 2
  EXPECT_DOUBLE_EQ(lex.score("This is a terrible, sad mistake."), -6.0);  // -3 - 2 - 1
  EXPECT_DOUBLE_EQ(lex.score("I am not happy."), -2.0);
  EXPECT_DOUBLE_EQ(lex.score("I don't hate it"), 3.0);
  EXPECT_DOUBLE_EQ(lex.score("The table is in the kitchen."), 0.0);
  const auto raw = nlohmann::json::parse(read_text_file(kShipped));
  for (const auto& [word, weight] : raw.at("words").items()) {
    EXPECT_GE(weight.get<double>(), -3.0) << word;
    EXPECT_LE(weight.get<double>(), 3.0) << word;
  }
  EXPECT_FALSE(lex.description().empty());
}

TEST(Lexicon, ShippedDescriptivenessLexiconPrefersConcreteWords) {
  const Lexicon lex = Lexicon::load(kShipped.parent_path() / "descriptiveness-lexicon.json");
  EXPECT_DOUBLE_EQ(lex.score("The crimson sky over the jagged, misty hills."), 6.0);  // 2 + 2 + 2
  EXPECT_DOUBLE_EQ(lex.score("It was a very nice thing."), -3.0);                     // -1 - 1 - 1
  EXPECT_DOUBLE_EQ(lex.score("not red"), 1.0);                                        // no negation here
}

class LexiconFile : public ::testing::Test {
 protected:
  void SetUp() override { path = fs::temp_directory_path() / ("rlhf_lexicon_" + std::to_string(::getpid()) + ".json"); }
  void TearDown() override { fs::remove(path); }
  std::string error_of(const std::string& text) {
    write_file_atomic(path, text);
    try {
      Lexicon::load(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path path;
};

TEST_F(LexiconFile, BadFilesAreNamedWithTheField) {
  std::string e = error_of(R"({"words": {"Good": 1}})");
  EXPECT_THAT(e, HasSubstr(path.string()));
  EXPECT_THAT(e, HasSubstr("words.\"Good\""));
  EXPECT_THAT(error_of(R"({"words": {"good": "x"}})"), HasSubstr("expected a finite number"));
  EXPECT_THAT(error_of(R"({"word": {"good": 1}})"), HasSubstr("unknown key \"word\""));
  EXPECT_THAT(error_of(R"({"description": "x"})"), HasSubstr("words: expected a non-empty object"));
  EXPECT_THAT(error_of(R"({"words": {"good": 1}, "negation": {"window": -1}})"), HasSubstr("negation.window"));
  EXPECT_THAT(error_of("{"), HasSubstr("not valid JSON"));
}

TEST_F(LexiconFile, ExtendsAnotherLexiconRelativeToItself) {
  // The base (next to this file): "good" 2, "bad" -2, negated by "not". The extension changes "bad",
  // adds "fine" and keeps the base's negation.
  const fs::path base = path.parent_path() / ("rlhf_lexicon_base_" + std::to_string(::getpid()) + ".json");
  write_file_atomic(base,
                    R"({"description": "base", "words": {"good": 2, "bad": -2}, "negation": {"words": ["not"]}})");
  write_file_atomic(path, R"({"extends": ")" + base.filename().string() + R"(", "words": {"bad": -0.5, "fine": 1}})");
  const Lexicon lex = Lexicon::load(path);
  fs::remove(base);
  EXPECT_EQ(lex.size(), 3u);
  EXPECT_DOUBLE_EQ(lex.score("good and bad, but fine"), 2.0 - 0.5 + 1.0);
  EXPECT_DOUBLE_EQ(lex.score("not fine"), -1.0);
  EXPECT_EQ(lex.description(), "base");
  // A lexicon extending itself is a cycle: refused, not an endless loop.
  EXPECT_THAT(error_of(R"({"extends": ")" + path.filename().string() + R"(", "words": {"a": 1}})"),
              HasSubstr("extends: more than 8 lexicons extend each other"));
  EXPECT_THAT(error_of(R"({"extends": 3, "words": {"a": 1}})"), HasSubstr("extends: expected the path"));
  EXPECT_THAT(error_of(R"({"extends": "no-such-lexicon.json", "words": {"a": 1}})"), HasSubstr("no-such-lexicon.json"));
}

TEST(Lexicon, ShippedDemoLexiconExtendsTheSentimentOneWithCoarseWeights) {
  const Lexicon demo = Lexicon::load(kShipped.parent_path() / "demo-lexicon.json");
  const Lexicon sentiment = Lexicon::load(kShipped);
  EXPECT_GT(demo.size(), sentiment.size() + 100);
  EXPECT_DOUBLE_EQ(demo.score("What a wonderful, happy day."), 5.5);  // 3 + 2 + "day" 0.5
  EXPECT_DOUBLE_EQ(demo.score("I am not happy."), -2.0);              // the sentiment lexicon's negation
  // Every word it adds weighs +-0.5 or +-1, so two texts tie or differ by at least 0.5 there.
  const auto raw = nlohmann::json::parse(read_text_file(kShipped.parent_path() / "demo-lexicon.json"));
  for (const auto& [word, weight] : raw.at("words").items()) {
    EXPECT_TRUE(std::abs(weight.get<double>()) == 0.5 || std::abs(weight.get<double>()) == 1.0) << word;
    EXPECT_FALSE(sentiment.weight(word).has_value()) << word << " is already in the sentiment lexicon";
  }
}

}  // namespace
}  // namespace rlhf::labelers
