// Fuzz target: the label file readers (include/rlhf/data/labels.h), both formats: OpenAI's JSON array of
// token-id records and JSON Lines text records. The input is the file (written to a scratch file, since
// the readers take paths), read three ways: read_labels with the defaults (format by content);
// read_questions with skip_bad_records, short length limits and limit 2; and read_labels forcing jsonl.
// Token ids are checked against the tiny GPT-2 tokenizer of the fixtures (ids 0..511, pad 50259).
// Properties, besides "only rlhf::Error on bad input":
//   - an accepted set holds only checked records: N >= 2 samples each, `best` in range, ids in the
//     vocabulary or the pad id;
//   - write_text_labels of an accepted set reads back as jsonl to the same texts and choices (where
//     every sample has a real token: a sample of pads only becomes "" and is rightly refused).
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "rlhf/data/labels.h"
#include "rlhf/tokenizer/pretokenize.h"

namespace {

using namespace rlhf;
using rlhf::fuzz::accepts;

void check_ids(const std::vector<int>& ids, int vocab_size) {
  for (const int id : ids) FUZZ_CHECK((id >= 0 && id < vocab_size) || id == data::kOpenAiPad, "unchecked token id");
}

void check_set(const data::LabelSet& set, bool questions) {
  const int vocab_size = fuzz::tiny_tokenizer().vocab_size();
  FUZZ_CHECK(!set.items.empty() && set.num_samples >= 2, "an accepted set without two samples");
  for (const auto& item : set.items) {
    FUZZ_CHECK(static_cast<int>(item.samples.size()) == set.num_samples, "records with different N");
    FUZZ_CHECK(item.best < set.num_samples && (item.best >= 0 || (questions && item.best == -1)), "best out of range");
    check_ids(item.query, vocab_size);
    for (const auto& sample : item.samples) check_ids(sample, vocab_size);
  }
}

std::string text_of(const std::vector<int>& ids) {  // as write_text_labels writes it
  std::vector<int> real;
  for (const int id : ids) {
    if (id != data::kOpenAiPad) real.push_back(id);
  }
  return tokenizer::to_valid_utf8(fuzz::tiny_tokenizer().decode(real));
}

void check_text_round_trip(const data::LabelSet& set) {
  for (const auto& item : set.items) {
    for (const auto& sample : item.samples) {
      if (text_of(sample).empty()) return;
    }
  }
  const auto path = fuzz::scratch_dir("labels") / "written.jsonl";
  const auto& tokenizer = fuzz::tiny_tokenizer();
  data::write_text_labels(path, set.items, tokenizer);
  data::LabelOptions options;
  options.format = "jsonl";
  const data::LabelSet again = data::read_labels(path, tokenizer, options);
  FUZZ_CHECK(again.items.size() == set.items.size(), "written labels read back with a different count");
  for (std::size_t i = 0; i < set.items.size(); ++i) {
    const auto& a = set.items[i];
    const auto& b = again.items[i];
    FUZZ_CHECK(a.best == b.best && a.samples.size() == b.samples.size(), "a written label reads back differently");
    FUZZ_CHECK(text_of(a.query) == tokenizer.decode(b.query), "a written query reads back differently");
    for (std::size_t k = 0; k < a.samples.size(); ++k) {
      FUZZ_CHECK(text_of(a.samples[k]) == tokenizer.decode(b.samples[k]), "a written sample reads back differently");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs();
  fuzz::tiny_tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto path = fuzz::scratch_dir("labels") / "labels.json";
  fuzz::write_bytes(path, fuzz::as_text(data, size));
  const auto& tokenizer = fuzz::tiny_tokenizer();

  data::LabelSet set;
  if (accepts([&] { set = data::read_labels(path, tokenizer, data::LabelOptions{}); })) {
    check_set(set, false);
    check_text_round_trip(set);
  }

  data::LabelOptions lenient;
  lenient.skip_bad_records = true;
  lenient.max_query_length = 6;
  lenient.max_sample_length = 6;
  lenient.limit = 2;
  if (accepts([&] { set = data::read_questions(path, tokenizer, lenient); })) {
    check_set(set, true);
    FUZZ_CHECK(set.items.size() == 2, "limit 2 gave another number of records");
  }

  data::LabelOptions jsonl;
  jsonl.format = "jsonl";
  jsonl.skip_bad_records = true;
  if (accepts([&] { set = data::read_labels(path, tokenizer, jsonl); })) check_set(set, false);
  return 0;
}
