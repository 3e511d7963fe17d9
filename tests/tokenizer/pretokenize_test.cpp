// Pre-tokenization: expected splits were produced with Python's `regex.findall` on the encoder.py pattern.
#include "rlhf/tokenizer/pretokenize.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace rlhf::tokenizer {
namespace {

std::vector<std::string> split(std::string_view text) {
  static const Gpt2PreTokenizer pre_tokenizer;
  std::vector<std::string> out;
  for (const auto chunk : pre_tokenizer.split(text)) out.emplace_back(chunk);
  return out;
}

using Chunks = std::vector<std::string>;

TEST(Utf8, SequenceLengthFollowsUnicodeTable3_7) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1);
  EXPECT_EQ(utf8_sequence_length(std::string(1, '\0'), 0), 1);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2);          // é
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3);      // €
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4);  // 😀
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0), 4);  // U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xED\x9F\xBF", 0), 3);      // U+D7FF, just below the surrogates
  EXPECT_EQ(utf8_sequence_length("\x80", 0), 0);              // lone continuation byte
  EXPECT_EQ(utf8_sequence_length("\xC0\xAF", 0), 0);          // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xC1\xBF", 0), 0);          // overlong
  EXPECT_EQ(utf8_sequence_length("\xE0\x80\xAF", 0), 0);      // overlong 3-byte
  EXPECT_EQ(utf8_sequence_length("\xF0\x80\x80\xAF", 0), 0);  // overlong 4-byte
  EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80", 0), 0);      // surrogate U+D800 (CESU-8)
  EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80", 0), 0);  // U+110000
  EXPECT_EQ(utf8_sequence_length("\xF5\x80\x80\x80", 0), 0);
  EXPECT_EQ(utf8_sequence_length("\xFF", 0), 0);
  EXPECT_EQ(utf8_sequence_length("\xE2\x82", 0), 0);  // truncated at the end
  EXPECT_EQ(utf8_sequence_length("\xE2\x82"
                                 "a",
                                 0),
            0);  // truncated by an ASCII byte
  EXPECT_EQ(utf8_sequence_length("x\xC3\xA9", 1), 2);
}

TEST(Utf8, SplitsIntoValidRunsAndSingleInvalidBytes) {
  const std::string text =
      "ab\xFF\xFE"
      "c\xE2\x82"
      "d";
  const auto segments = split_valid_utf8(text);
  ASSERT_EQ(segments.size(), 7u);
  EXPECT_EQ(segments[0].text, "ab");
  EXPECT_TRUE(segments[0].valid);
  EXPECT_EQ(segments[1].text, "\xFF");
  EXPECT_FALSE(segments[1].valid);
  EXPECT_EQ(segments[2].text, "\xFE");
  EXPECT_EQ(segments[3].text, "c");
  EXPECT_TRUE(segments[3].valid);
  EXPECT_EQ(segments[4].text, "\xE2");  // a truncated sequence is invalid byte by byte
  EXPECT_FALSE(segments[4].valid);
  EXPECT_EQ(segments[5].text, "\x82");
  EXPECT_FALSE(segments[5].valid);
  EXPECT_EQ(segments[6].text, "d");
  EXPECT_TRUE(segments[6].valid);
  EXPECT_TRUE(split_valid_utf8("").empty());
}

TEST(Gpt2PreTokenizer, MatchesPythonRegexFindall) {
  EXPECT_EQ(split(""), Chunks{});
  EXPECT_EQ(split("Hello world"), (Chunks{"Hello", " world"}));
  EXPECT_EQ(split("I'm here"), (Chunks{"I", "'m", " here"}));
  EXPECT_EQ(split("don't"), (Chunks{"don", "'t"}));
  EXPECT_EQ(split("'S"), (Chunks{"'", "S"}));  // contractions are case-sensitive
  EXPECT_EQ(split("a  b"), (Chunks{"a", " ", " b"}));
  EXPECT_EQ(split("x   "), (Chunks{"x", "   "}));
  EXPECT_EQ(split("abc "), (Chunks{"abc", " "}));
  EXPECT_EQ(split("   leading"), (Chunks{"  ", " leading"}));
  EXPECT_EQ(split("\n\n\n"), (Chunks{"\n\n\n"}));
  EXPECT_EQ(split(" \t \n"), (Chunks{" \t \n"}));
  EXPECT_EQ(split("x \t \n y"), (Chunks{"x", " \t \n", " y"}));
  EXPECT_EQ(split("hi\n\nthere"), (Chunks{"hi", "\n", "\n", "there"}));
  EXPECT_EQ(split("abc123def"), (Chunks{"abc", "123", "def"}));
  EXPECT_EQ(split("A1 B2"), (Chunks{"A", "1", " B", "2"}));
  EXPECT_EQ(split(" 42 is  the answer!!"), (Chunks{" 42", " is", " ", " the", " answer", "!!"}));
}

TEST(Gpt2PreTokenizer, WhitespaceIsPythonsWhiteSpaceSet) {
  EXPECT_EQ(split("a\xC2\x85"
                  "b"),
            (Chunks{"a", "\xC2\x85", "b"}));  // U+0085 is whitespace
  EXPECT_EQ(split("a \xC2\xA0"
                  "b"),
            (Chunks{"a", " ", "\xC2\xA0", "b"}));                          // U+00A0 too
  EXPECT_EQ(split("\xE1\xA0\x8E!"), (Chunks{"\xE1\xA0\x8E!"}));            // U+180E is not (PCRE2's \s says it is)
  EXPECT_EQ(split("x\xE3\x80\x80y"), (Chunks{"x", "\xE3\x80\x80", "y"}));  // U+3000 ideographic space
}

TEST(Gpt2PreTokenizer, InvalidBytesAreOwnChunksAndValidTextSplitsAsAlone) {
  EXPECT_EQ(split("ab\xFF"
                  "cd"),
            (Chunks{"ab", "\xFF", "cd"}));
  EXPECT_EQ(split("\xFF\xFE"), (Chunks{"\xFF", "\xFE"}));
  EXPECT_EQ(split("a \xFF"), (Chunks{"a", " ", "\xFF"}));  // "a " alone splits as "a", " "
  EXPECT_EQ(split("\xED\xA0\x80 x"), (Chunks{"\xED", "\xA0", "\x80", " x"}));
  EXPECT_EQ(split("caf\xC3"), (Chunks{"caf", "\xC3"}));
}

TEST(Gpt2PreTokenizer, ChunksConcatenateToTheInputForRandomBytes) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 40, '\0');
    for (char& c : text) {
      // Mostly ASCII (spaces, letters, quotes), with a share of high bytes to make broken UTF-8.
      const unsigned r = rng() % 100;
      c = static_cast<char>(r < 60 ? " \t\nab'sZ09.!"[rng() % 12] : static_cast<int>(0x80 + rng() % 128));
    }
    std::string joined;
    for (const auto& chunk : split(text)) {
      EXPECT_FALSE(chunk.empty());
      joined += chunk;
    }
    ASSERT_EQ(joined, text);
  }
}

TEST(Gpt2PreTokenizer, LongRunsAreLinear) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(split(std::string(1 << 20, ' ')).size(), 1u);
  EXPECT_EQ(split(std::string(1 << 20, 'x')).size(), 1u);
  EXPECT_EQ(split(std::string(1 << 20, ' ') + "x").size(), 2u);
  std::string alternating;
  for (int i = 0; i < (1 << 18); ++i) alternating += "a ";
  EXPECT_EQ(split(alternating).size(), static_cast<size_t>((1 << 18) + 1));  // "a", " a"..., " "
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
}

}  // namespace
}  // namespace rlhf::tokenizer

namespace rlhf::tokenizer {
namespace {

TEST(Utf8, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(to_valid_utf8("plain"), "plain");
  EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");                     // é kept
  EXPECT_EQ(to_valid_utf8("caf\xC3"), "caf\xEF\xBF\xBD");                      // cut mid-character
  EXPECT_EQ(to_valid_utf8("\xC1\x81x"), "\xEF\xBF\xBD\xEF\xBF\xBDx");           // overlong: two bytes, two marks
}

}  // namespace
}  // namespace rlhf::tokenizer
