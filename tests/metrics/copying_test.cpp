// The copying statistics on small hand-made sources, each definition of copying.h checked.
#include "rlhf/metrics/copying.h"

#include <gtest/gtest.h>

#include <cmath>

namespace rlhf::metrics {
namespace {

// Words: The(0) mayor(1) resigned(2) on(3) Monday.(4) She(5) cited(6) health(7) reasons.(8)
// The(9) council(10) will(11) meet(12) on(13) Friday(14) to(15) pick(16) a(17) successor.(18)
// Sentences: 0 "The mayor ... Monday.", 1 "She cited health reasons.", 2 "The council ... successor."
const std::string kSource =
    "The mayor resigned on Monday. She cited health reasons.\nThe council will meet on Friday to pick a successor.";

TEST(Copying, LeadCopyIsCopiedAndStartsAtTheStart) {
  const CopyStats s = copy_stats("The mayor resigned on Monday. She cited health reasons.", kSource);
  EXPECT_EQ(s.sentences, 2u);
  EXPECT_EQ(s.copied_sentences, 2u);
  EXPECT_TRUE(s.copies_start);
  EXPECT_EQ(s.start_prefix_words, 9u);
  EXPECT_EQ(s.longest.words, 9u);
  EXPECT_EQ(s.longest.summary_word, 0u);
  EXPECT_EQ(s.longest.source_word, 0u);
  EXPECT_EQ(s.longest.source_offset, 0u);
  EXPECT_EQ(s.longest.source_sentence, 0u);
  EXPECT_DOUBLE_EQ(s.longest.relative_offset, 0.0);
}

TEST(Copying, NovelSentencesAndASpanLaterInTheSource) {
  // "The council will meet on Friday." is not in the source ("Friday to"), so both sentences are novel;
  // the longest span is "The council will meet on" (5 words; "Friday." differs from "Friday").
  const CopyStats s = copy_stats("The council will meet on Friday. A new mayor is expected.", kSource);
  EXPECT_EQ(s.sentences, 2u);
  EXPECT_EQ(s.copied_sentences, 0u);
  EXPECT_FALSE(s.copies_start);
  EXPECT_EQ(s.start_prefix_words, 1u);  // "The", then "council" vs "mayor"
  EXPECT_EQ(s.longest.words, 5u);
  EXPECT_EQ(s.longest.summary_word, 0u);
  EXPECT_EQ(s.longest.source_word, 9u);
  EXPECT_EQ(s.longest.source_offset, kSource.find("The council"));
  EXPECT_EQ(s.longest.source_sentence, 2u);
  EXPECT_DOUBLE_EQ(s.longest.relative_offset, static_cast<double>(kSource.find("The council")) / kSource.size());
}

TEST(Copying, CutOffSentenceAndWhitespaceStillCount) {
  // A sample cut mid-sentence is a copy; so is one with other line breaks and spacing.
  const CopyStats cut = copy_stats("She cited health", kSource);
  EXPECT_EQ(cut.copied_sentences, 1u);
  EXPECT_FALSE(cut.copies_start);
  EXPECT_EQ(cut.longest.words, 3u);
  EXPECT_EQ(cut.longest.source_sentence, 1u);
  const CopyStats spaced = copy_stats("The  mayor\nresigned on Monday.", kSource);
  EXPECT_EQ(spaced.sentences, 2u);  // the line break splits the summary
  EXPECT_EQ(spaced.copied_sentences, 2u);
  EXPECT_TRUE(spaced.copies_start);  // its first sentence, "The mayor" normalised, opens the source
  EXPECT_TRUE(copy_stats("The  mayor resigned\ton Monday.", kSource).copies_start);
}

TEST(Copying, MatchesStartAtWordStartsAndRespectCase) {
  EXPECT_TRUE(is_copied_sentence("he said.", "she said. he said."));
  EXPECT_FALSE(is_copied_sentence("he said.", "she said."));  // only inside "she"
  EXPECT_FALSE(is_copied_sentence("She Said.", "she said."));
  EXPECT_FALSE(is_copied_sentence("  ", "anything"));
}

TEST(Copying, EmptySummaryCopiesNothing) {
  const CopyStats s = copy_stats("", kSource);
  EXPECT_EQ(s.sentences, 0u);
  EXPECT_FALSE(s.copies_start);
  EXPECT_EQ(s.longest.words, 0u);
  EXPECT_EQ(copy_stats("something", "").longest.words, 0u);
}

TEST(Copying, TiesGoToTheEarliestInTheSummaryThenInTheSource) {
  // Summary "p q r s", source "r s x p q": "p q" (summary word 0) beats "r s" (summary word 2).
  const CopySpan a = longest_copied_span("p q r s", "r s x p q");
  EXPECT_EQ(a.words, 2u);
  EXPECT_EQ(a.summary_word, 0u);
  EXPECT_EQ(a.source_word, 3u);
  // "a b" occurs at source words 0 and 3: the first wins.
  const CopySpan b = longest_copied_span("a b", "a b x a b");
  EXPECT_EQ(b.source_word, 0u);
  // A longer span later beats a shorter one earlier.
  const CopySpan c = longest_copied_span("a b c", "a b q a b c");
  EXPECT_EQ(c.words, 3u);
  EXPECT_EQ(c.source_word, 3u);
}

TEST(Copying, CorpusSummaryPoolsSentences) {
  const std::vector<CopyStats> stats = {
      copy_stats("The mayor resigned on Monday. She cited health reasons.", kSource),  // 2 of 2, start, sentence 0
      copy_stats("The council will meet on Friday. A new mayor is expected.", kSource),  // 0 of 2, sentence 2
      copy_stats("", kSource),                                                          // no sentence, no span
  };
  const CopySummary c = summarize_copying(stats, {0, 0.95, 1});
  EXPECT_EQ(c.summaries, 3u);
  EXPECT_EQ(c.sentences, 4u);
  EXPECT_EQ(c.copied_sentences, 2u);
  EXPECT_DOUBLE_EQ(c.copied_share.value, 0.5);
  EXPECT_DOUBLE_EQ(c.novelty.value, 0.5);
  // Ratio standard error: residuals a_i - 0.5 b_i = 1, -1, 0 -> sqrt(2 / (3 * 2)) / (4/3) = 0.4330127.
  EXPECT_NEAR(c.copied_share.standard_error, std::sqrt(1.0 / 3) * 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(c.copies_start.mean, 1.0 / 3);
  EXPECT_DOUBLE_EQ(c.longest_span_words.mean, (9.0 + 5.0 + 0.0) / 3);
  ASSERT_EQ(c.span_sentence_histogram.size(), 11u);
  EXPECT_EQ(c.span_sentence_histogram[0], 1u);
  EXPECT_EQ(c.span_sentence_histogram[2], 1u);
  EXPECT_EQ(c.without_span, 1u);
}

}  // namespace
}  // namespace rlhf::metrics
