// A small, deterministic sentence splitter for English news and posts, for the lead-3 baseline and the
// copying statistics. It is a rule, not a model, so the same text always splits the same way on every
// machine; the rules are few on purpose, so anyone can predict them:
//
//   1. A line break ends a sentence (CNN/Daily Mail paragraphs and highlights, TL;DR lines).
//   2. A run of '.', '!' or '?' ends a sentence when it is followed by whitespace or the end of the
//      text. Closing quotes and brackets right after the run (" ' ) ] and U+201D U+2019) stay with the
//      sentence: `He said "no." Then` splits after the quote.
//   3. Exception, a single '.' after an abbreviation does not end a sentence:
//        - the titles Mr Mrs Ms Dr Prof Jr Sr St vs (any case), as in "Mr. Smith";
//        - initials: a single letter, or single letters joined by dots ("J. K. Rowling", "U.S.", "e.g.").
//      The price of this minimal rule: a sentence that really ends with such a word ("... in the U.S.
//      Then ...") is not split there. Numbers need no rule ("3.5" has no space after the dot).
//   4. Sentences are trimmed of whitespace; empty ones are dropped.
// Whitespace means ASCII space, tab, line feed, carriage return, vertical tab and form feed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf::metrics {

// One sentence as a byte range [begin, end) of the text it was split from (trimmed, never empty).
struct Sentence {
  std::size_t begin = 0;
  std::size_t end = 0;
};

std::vector<Sentence> split_sentences(std::string_view text);

// The sentences' texts (views into `text`).
std::vector<std::string_view> sentence_texts(std::string_view text);

// The lead-n baseline: the source from the start of its first sentence to the end of its n-th, verbatim
// (line breaks and spacing kept, so it is a literal copy of the source's start). The whole trimmed text
// when it has fewer than n sentences; "" for n = 0 or a text without sentences.
std::string lead_sentences(std::string_view source, std::size_t n = 3);

// Runs of whitespace become one space; leading and trailing whitespace is removed.
std::string normalize_whitespace(std::string_view text);

bool is_space(char c);

}  // namespace rlhf::metrics
