// The sentence splitter's documented rules, one by one, and the lead-3 baseline.
#include "rlhf/metrics/sentences.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rlhf::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Sentences, TerminalPunctuationFollowedBySpaceEnds) {
  EXPECT_THAT(sentence_texts("It rained. Did it? Yes!  Wait... what?! Really"),
              ElementsAre("It rained.", "Did it?", "Yes!", "Wait...", "what?!", "Really"));
  // No space after the dot: numbers and domains stay whole.
  EXPECT_THAT(sentence_texts("Pi is 3.14 on example.com today."), ElementsAre("Pi is 3.14 on example.com today."));
}

TEST(Sentences, LineBreaksEnd) {
  EXPECT_THAT(sentence_texts("first line\nsecond line\r\n\n  third"), ElementsAre("first line", "second line", "third"));
}

TEST(Sentences, ClosingQuotesStayWithTheSentence) {
  EXPECT_THAT(sentence_texts("He said \"no.\" Then he left. (See below.) Done"),
              ElementsAre("He said \"no.\"", "Then he left.", "(See below.)", "Done"));
  EXPECT_THAT(sentence_texts("\xE2\x80\x9C" "Fine.\xE2\x80\x9D She nodded."),
              ElementsAre("\xE2\x80\x9C" "Fine.\xE2\x80\x9D", "She nodded."));
}

TEST(Sentences, TitlesAndInitialsDoNotEnd) {
  EXPECT_THAT(sentence_texts("Mr. Smith met Dr. Jones. J. K. Rowling wrote it. The U.S. team won, e.g. in 2012."),
              ElementsAre("Mr. Smith met Dr. Jones.", "J. K. Rowling wrote it.", "The U.S. team won, e.g. in 2012."));
  // The documented price: a real sentence end after initials is missed.
  EXPECT_THAT(sentence_texts("He moved to the U.S. Then he left."), ElementsAre("He moved to the U.S. Then he left."));
  // Only a single dot is an abbreviation's: "U.S.!" still ends.
  EXPECT_THAT(sentence_texts("Go U.S.! Win."), ElementsAre("Go U.S.!", "Win."));
}

TEST(Sentences, OffsetsAreTrimmedByteRanges) {
  const std::string text = "  One.  Two\n";
  const auto s = split_sentences(text);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].begin, 2u);
  EXPECT_EQ(s[0].end, 6u);
  EXPECT_EQ(s[1].begin, 8u);
  EXPECT_EQ(s[1].end, 11u);
  EXPECT_THAT(split_sentences(""), IsEmpty());
  EXPECT_THAT(split_sentences(" \n\t \n"), IsEmpty());
}

TEST(Lead3, FirstThreeSentencesVerbatim) {
  EXPECT_EQ(lead_sentences("  One. Two!\nThree? Four. Five."), "One. Two!\nThree?");
  EXPECT_EQ(lead_sentences("Only one. Two.", 3), "Only one. Two.");
  EXPECT_EQ(lead_sentences("One. Two.", 1), "One.");
  EXPECT_EQ(lead_sentences("One. Two.", 0), "");
  EXPECT_EQ(lead_sentences("   "), "");
}

TEST(Sentences, NormalizeWhitespace) {
  EXPECT_EQ(normalize_whitespace("  a \n\t b  c\r\n"), "a b c");
  EXPECT_EQ(normalize_whitespace(" \n "), "");
}

}  // namespace
}  // namespace rlhf::metrics
