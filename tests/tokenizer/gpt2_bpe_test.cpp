// GPT-2 BPE on a tiny hand-made vocabulary (256 byte pieces + a few merges): hand-computed ids,
// encoder.py's merge order checked against a literal re-statement of it, any-bytes round trips,
// errors. Needs no downloaded data, so it always runs.
#include "rlhf/tokenizer/gpt2_bpe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "rlhf/util/error.h"

namespace rlhf::tokenizer {
namespace {

using Merges = std::vector<Gpt2BpeTokenizer::Merge>;
const std::string kSpace = "\xC4\xA0";  // "Ġ", the byte-level character for ' '

// Byte b has id b; each merge's result gets the next id (once, if several merges make the same string).
std::unique_ptr<Gpt2BpeTokenizer> make_tokenizer(const Merges& merges, bool with_eos = false) {
  std::vector<std::pair<std::string, int>> vocab;
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    vocab.emplace_back(byte_to_unicode()[static_cast<size_t>(b)], b);
    seen.insert(vocab.back().first);
  }
  for (const auto& [left, right] : merges) {
    if (seen.insert(left + right).second) vocab.emplace_back(left + right, static_cast<int>(vocab.size()));
  }
  if (with_eos) vocab.emplace_back("<|endoftext|>", static_cast<int>(vocab.size()));
  return std::make_unique<Gpt2BpeTokenizer>(vocab, merges);
}

// ids: he=256 ll=257 hell=258 Ġw=259 hello=260 aa=261
const Merges kMerges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {kSpace, "w"}, {"hell", "o"}, {"a", "a"}};

TEST(Gpt2BpeTiny, ByteTableIsGpt2s) {
  EXPECT_EQ(byte_to_unicode()['a'], "a");
  EXPECT_EQ(byte_to_unicode()[' '], kSpace);       // U+0120
  EXPECT_EQ(byte_to_unicode()['\n'], "\xC4\x8A");  // "Ċ" U+010A
  EXPECT_EQ(byte_to_unicode()[0], "\xC4\x80");     // "Ā" U+0100
  EXPECT_EQ(byte_to_unicode()[0xAD], "\xC5\x83");  // soft hyphen -> U+0143, the last one
  EXPECT_EQ(byte_to_unicode()[0xA1], "\xC2\xA1");  // printable Latin-1 maps to itself
  std::set<std::string> distinct(byte_to_unicode().begin(), byte_to_unicode().end());
  EXPECT_EQ(distinct.size(), 256u);
}

TEST(Gpt2BpeTiny, HandComputedIds) {
  const auto tok = make_tokenizer(kMerges);
  EXPECT_EQ(tok->encode("hello"), (std::vector<int>{260}));
  EXPECT_EQ(tok->encode("hello world"), (std::vector<int>{260, 259, 'o', 'r', 'l', 'd'}));
  EXPECT_EQ(tok->encode("hellohello"), (std::vector<int>{260, 260}));
  EXPECT_EQ(tok->encode("help"), (std::vector<int>{256, 'l', 'p'}));
  EXPECT_EQ(tok->encode("aaa"), (std::vector<int>{261, 'a'}));  // left to right, no overlap
  EXPECT_EQ(tok->encode("aaaa"), (std::vector<int>{261, 261}));
  EXPECT_EQ(tok->encode(" w"), (std::vector<int>{259}));
  EXPECT_EQ(tok->encode("a\n\nb"), (std::vector<int>{'a', '\n', '\n', 'b'}));
  EXPECT_EQ(tok->encode(""), (std::vector<int>{}));
  EXPECT_EQ(tok->decode({260, 259, 'o', 'r', 'l', 'd'}), "hello world");
}

// encoder.py merges every occurrence of the lowest-ranked pair before looking at the pairs those merges
// create. Here the pair (bc, b) ranks below (b, c): a plain priority queue would give "bcb" + "c".
TEST(Gpt2BpeTiny, MergesAllOccurrencesOfARankBeforeNewPairs) {
  const auto tok = make_tokenizer({{"bc", "b"}, {"b", "c"}});  // ids: bcb=256, bc=257
  EXPECT_EQ(tok->encode("bcbc"), (std::vector<int>{257, 257}));
}

// encoder.py's bpe(), restated literally on strings (quadratic, for checking only).
std::vector<std::string> reference_bpe(std::vector<std::string> word, const Merges& merges) {
  std::map<Gpt2BpeTokenizer::Merge, int> ranks;
  for (size_t i = 0; i < merges.size(); ++i) ranks.emplace(merges[i], static_cast<int>(i));
  while (word.size() > 1) {
    int best = INT_MAX;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      const auto it = ranks.find({word[i], word[i + 1]});
      if (it != ranks.end()) best = std::min(best, it->second);
    }
    if (best == INT_MAX) break;
    const auto& [first, second] = merges[static_cast<size_t>(best)];
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word = merged;
  }
  return word;
}

TEST(Gpt2BpeTiny, MatchesReferenceEncoderOnRandomWordsAndMerges) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<std::string> pieces = {"a", "b", "c"};
    Merges merges;
    std::set<Gpt2BpeTokenizer::Merge> used;
    while (merges.size() < 30) {
      Gpt2BpeTokenizer::Merge m{pieces[rng() % pieces.size()], pieces[rng() % pieces.size()]};
      if (!used.insert(m).second) continue;
      merges.push_back(m);
      pieces.push_back(m.first + m.second);
    }
    if (trial % 2 == 1) std::shuffle(merges.begin(), merges.end(), rng);  // ranks out of "training" order
    const auto tok = make_tokenizer(merges);
    for (int w = 0; w < 100; ++w) {
      std::string word(1 + rng() % 30, 'a');
      for (char& c : word) c = static_cast<char>('a' + rng() % 3);
      std::vector<std::string> chars, got;
      for (const char c : word) chars.emplace_back(1, c);
      for (const int id : tok->bpe(word)) got.push_back(tok->id_to_piece(id));
      ASSERT_EQ(got, reference_bpe(chars, merges)) << "word " << word << " trial " << trial;
    }
  }
}

TEST(Gpt2BpeTiny, AnyBytesRoundTrip) {
  const auto tok = make_tokenizer(kMerges);
  const std::vector<std::string> cases = {"\xFF\xFE",         "caf\xC3",
                                          "\xE2\x82",         "\xC0\xAF",
                                          "\xE0\x80\xAF",     "\xED\xA0\x80\xED\xB0\x80",
                                          "\xF4\x90\x80\x80", std::string("a\0b", 3),
                                          "\x80hello\x80",    "h\xC3\xA9llo \xF0\x9F\x98"};
  for (const auto& text : cases) EXPECT_EQ(tok->decode(tok->encode(text)), text);
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string text(rng() % 50, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 3 == 0 ? "hel wa"[rng() % 6] : static_cast<int>(rng() % 256));
    ASSERT_EQ(tok->decode(tok->encode(text)), text);
  }
}

TEST(Gpt2BpeTiny, InvalidBytesAreSingleByteTokensAndDoNotDisturbNeighbours) {
  const auto tok = make_tokenizer(kMerges);
  std::vector<int> expected = tok->encode("hello");
  expected.push_back(0xFF);
  for (const int id : tok->encode(" world")) expected.push_back(id);
  EXPECT_EQ(tok->encode("hello\xFF world"), expected);
  EXPECT_EQ(tok->encode("\xED\xA0\x80"), (std::vector<int>{0xED, 0xA0, 0x80}));  // CESU-8 surrogate
}

TEST(Gpt2BpeTiny, PiecesIdsAndEos) {
  const auto tok = make_tokenizer(kMerges);
  EXPECT_EQ(tok->kind(), "gpt2-bpe");
  EXPECT_EQ(tok->vocab_size(), 262);
  EXPECT_EQ(tok->eos_id(), -1);
  EXPECT_EQ(tok->id_to_piece(256), "he");
  EXPECT_EQ(tok->id_to_piece(259), kSpace + "w");
  EXPECT_EQ(tok->token_id(kSpace + "w"), 259);
  EXPECT_EQ(tok->token_id("zz"), std::nullopt);
  for (int id = 0; id < tok->vocab_size(); ++id) EXPECT_EQ(tok->token_id(tok->id_to_piece(id)), id);
  const auto with_eos = make_tokenizer(kMerges, true);
  EXPECT_EQ(with_eos->eos_id(), 262);
  EXPECT_EQ(with_eos->decode({262}), "<|endoftext|>");
  EXPECT_NE(with_eos->encode("<|endoftext|>"), (std::vector<int>{262}));  // literal text, not special
}

TEST(Gpt2BpeTiny, OutOfRangeIdsThrowNamingTheId) {
  const auto tok = make_tokenizer(kMerges);
  const auto message_of = [&](const std::vector<int>& ids) {
    try {
      tok->decode(ids);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of({1, 262}).find("262"), std::string::npos);
  EXPECT_NE(message_of({-5}).find("-5"), std::string::npos);
  EXPECT_THROW(tok->id_to_piece(1000000), Error);
  EXPECT_THROW(tok->id_to_piece(-1), Error);
}

TEST(Gpt2BpeTiny, LongWordsAreFast) {
  const auto tok = make_tokenizer(kMerges);
  std::mt19937 rng(3);
  std::string random_letters(10000, 'a');
  for (char& c : random_letters) c = "helloa"[rng() % 6];
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(tok->encode(std::string(10000, 'a')), std::vector<int>(5000, 261));
  EXPECT_EQ(tok->decode(tok->encode(random_letters)), random_letters);
  EXPECT_EQ(tok->encode(std::string(200000, 'l')).size(), 100000u);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
}

TEST(Gpt2BpeTiny, ConcurrentEncodesAgree) {
  const auto tok = make_tokenizer(kMerges);
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("hello world " + std::to_string(i) + std::string(i % 7, 'a') + " wah");
  std::vector<std::vector<int>> expected;
  for (const auto& text : texts) expected.push_back(make_tokenizer(kMerges)->encode(text));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) mismatches[t] += tok->encode(texts[i]) != expected[i];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace rlhf::tokenizer
