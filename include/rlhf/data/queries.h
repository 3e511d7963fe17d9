// Query datasets: the texts the policy continues, turned into fixed-length token queries exactly as
// OpenAI's `Dataset.tf_dataset` does (paper-spec section 1.4):
//   1. BPE-encode the text;
//   2. start token set: drop everything up to and including its first occurrence (skip the text if it
//      has none; if it is the last token, keep the text unchanged);
//   3. truncate to query_length tokens;
//   4. end token set: cut after its last occurrence (skip the text if there is none);
//   5. pad with pad_id to query_length (right, as OpenAI; or left).
// The policy sees prefix + padded query + suffix; the reward model sees the padded query alone.
// Texts are shuffled before processing, as OpenAI does (`random.seed(0); random.shuffle(texts)`, with
// Python's generator, so the order is the same), and iterated endlessly by batch_indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rlhf/config/config.h"
#include "rlhf/data/labels.h"
#include "rlhf/tokenizer/tokenizer.h"

namespace rlhf::data {

struct QueryOptions {
  std::string path;                   // the file of texts (cnndm, fortune: also a directory)
  std::string format = "auto";        // auto | text | jsonl | books | json | cnndm | fortune (see visit)
  std::string field = "text";         // jsonl and json objects: the key holding the text ("content" for tldr)
  int query_length = 64;              // tokens per query, padding included (books 64, tldr/cnndm 500)
  std::string start_text;             // "" = none; else exactly one token (books ".")
  std::string end_text;               // "" = none; else exactly one token (books ".", cnndm "\n")
  std::string prefix;                 // put before the padded query for the policy (cnndm "Article:\n\n")
  std::string suffix;                 // put after it for the policy (tldr/cnndm "\n\nTL;DR:")
  std::string padding = "right";      // right (OpenAI) | left
  int pad_id = kOpenAiPad;            // the pad id (OpenAI: 50259, outside GPT-2's vocabulary)
  bool clean_text = false;            // tldr: runs of 3+ newlines become 2, then strip (format cnndm cleans itself)
  bool shuffle = true;                // shuffle the texts once, like OpenAI
  std::uint64_t shuffle_seed = 0;     // OpenAI: 0
  bool reshuffle_each_epoch = true;   // false: every epoch repeats the first order (OpenAI's tf repeat())
  std::string stories_dir;            // cnndm with a URL list: the directory holding cnn/stories, dailymail/stories
  bool skip_missing_stories = false;  // cnndm: skip (and count) URLs whose story file is absent
  std::string reference_field;        // jsonl and json objects: the key of a reference summary ("" = none)

  template <class V>
  void visit(V& v) {
    v.field("path", path, "File of query texts (cnndm and fortune: or a directory)");
    v.field("format", format,
            "auto (by the first non-blank line: '[' -> json, '{' -> jsonl, a whole JSON string -> books, "
            "else text) | text (one query per line, blank lines ignored) | jsonl (objects, text under "
            "`field`) | books (one JSON string per line) | json (an array of strings or of objects with `field`) "
            "| cnndm (a URL list all_*.txt with stories_dir, or a directory of .story files; OpenAI's cleaning "
            "without ftfy) | fortune (texts between lines holding only '%'; a file, or a directory whose files "
            "without a '.' are read in name order)",
            config::OneOf{{"auto", "text", "jsonl", "books", "json", "cnndm", "fortune"}});
    v.field("field", field, "Key of the text in jsonl and json objects (tldr: content)");
    v.field("query_length", query_length, "Query tokens, padding included", config::Range::at_least(1));
    v.field("start_text", start_text,
            "If set (one token), a query starts right after its first occurrence; texts without it are skipped");
    v.field("end_text", end_text,
            "If set (one token), a query is cut after its last occurrence within query_length tokens; texts "
            "without it are skipped");
    v.field("prefix", prefix, "Text put before the padded query in the policy's input (not the reward model's)");
    v.field("suffix", suffix, "Text put after the padded query in the policy's input (not the reward model's)");
    v.field("padding", padding, "Where the pads go", config::OneOf{{"right", "left"}});
    v.field("pad_id", pad_id, "Pad id (OpenAI: 50259)", config::Range::at_least(0));
    v.field(
        "clean_text", clean_text,
        "Collapse runs of 3+ newlines to 2 and strip leading/trailing whitespace as Python does (the tldr cleaning, "
        "without ftfy; format cnndm applies the full cnndm cleaning itself)");
    v.field("shuffle", shuffle, "Shuffle the texts (Python's random.shuffle, so OpenAI's order for the same file)");
    v.field("shuffle_seed", shuffle_seed, "Seed of the shuffle (OpenAI: 0)");
    v.field("reshuffle_each_epoch", reshuffle_each_epoch,
            "Epoch e > 0 reshuffles with shuffle_seed + e; false repeats the first order, as OpenAI does");
    v.field("stories_dir", stories_dir,
            "cnndm with a URL list as path: the directory holding cnn/stories and dailymail/stories (the unpacked "
            "cnn_stories.tgz and dailymail_stories.tgz)");
    v.field("skip_missing_stories", skip_missing_stories,
            "cnndm: skip URLs whose story file is missing (counted and logged) instead of stopping; the shuffle "
            "then no longer gives OpenAI's order");
    v.field("reference_field", reference_field,
            "jsonl and json objects: the key of each text's reference summary, for ROUGE in `rlhf eval` (tldr: "
            "summary); empty = none. cnndm always reads the highlights as references");
  }
};

struct Query {
  std::vector<int> tokens;       // query_length ids, padded with pad_id
  int length = 0;                // real (non-pad) tokens
  std::string text;              // the source text (after clean_text)
  std::string reference;         // its reference summary (cnndm highlights, or reference_field); "" = none
  std::size_t source_index = 0;  // the text's index in the file (0-based, counting texts, not lines)
};

// Why texts were left out.
struct QuerySkips {
  std::size_t no_start_token = 0;  // the start token does not occur
  std::size_t no_end_token = 0;    // the end token does not occur within the truncated query
  std::size_t empty = 0;           // the text encodes to no tokens
  std::size_t missing_story = 0;   // cnndm with skip_missing_stories: the URL's story file is absent
  std::size_t total() const { return no_start_token + no_end_token + empty + missing_story; }
};

enum class QueryCut { kept, no_start_token, no_end_token, empty };

// Steps 2-4 on the encoded text, in place; `tokens` is left unpadded. Anything but `kept` means skip.
QueryCut cut_query(std::vector<int>& tokens, int query_length, std::optional<int> start_token,
                   std::optional<int> end_token);

// Step 5: `tokens` (at most `length`) padded to `length` with `pad_id`, on the left or the right.
std::vector<int> pad_query(const std::vector<int>& tokens, int length, int pad_id, bool left);

// clean_text: runs of 3+ '\n' become "\n\n", then Python's str.strip() (python_strip in cnndm.h).
std::string clean_query_text(std::string_view text);

class QueryDataset {
 public:
  // Reads options.path, processes every text and logs a summary. Throws rlhf::Error naming the file
  // (and line or element) for an unreadable file, bad JSON, a missing field, a missing cnndm story, or
  // no usable query (and why, with the fix), and naming the option for a start/end text that is not
  // exactly one token. cnndm texts are read in URL-list order and then shuffled like any others, which
  // is OpenAI's order (shuffling the URLs or their stories is the same permutation).
  static QueryDataset load(const QueryOptions& options, const tokenizer::Tokenizer& tokenizer);
  // The same processing for texts in memory (options.path and format unused); `source` starts errors.
  // `references`: empty, or one per text (Query::reference).
  static QueryDataset from_texts(std::vector<std::string> texts, const QueryOptions& options,
                                 const tokenizer::Tokenizer& tokenizer, const std::string& source = "query texts",
                                 std::vector<std::string> references = {});
  bool has_references() const { return has_references_; }

  std::size_t size() const { return queries_.size(); }
  const Query& operator[](std::size_t i) const { return queries_.at(i); }
  int query_length() const { return query_length_; }
  int pad_id() const { return pad_id_; }

  // prefix + padded query + suffix: the policy's input, prefix + query_length + suffix ids.
  std::vector<int> context(std::size_t i) const;
  const std::vector<int>& prefix_tokens() const { return prefix_; }
  const std::vector<int>& suffix_tokens() const { return suffix_; }

  std::size_t skipped() const { return skips_.total(); }
  const QuerySkips& skips() const { return skips_; }

  // Queries are stored in the first epoch's (shuffled) order. The order of epoch e: 0, 1, ..., n-1 for
  // e = 0 (or without shuffle or reshuffle_each_epoch), else shuffled_indices(n, shuffle_seed + e).
  std::vector<std::size_t> epoch_order(std::size_t epoch) const;
  // Endless iteration: the indices at positions [k*b, (k+1)*b) of the concatenated epoch orders, so a
  // batch may span two epochs. batch_size must be >= 1.
  std::vector<std::size_t> batch_indices(std::size_t batch_index, std::size_t batch_size) const;

 private:
  QueryDataset() = default;

  std::vector<Query> queries_;
  std::vector<int> prefix_;
  std::vector<int> suffix_;
  QuerySkips skips_;
  int query_length_ = 0;
  int pad_id_ = kOpenAiPad;
  bool reshuffle_ = false;
  bool has_references_ = false;
  std::uint64_t seed_ = 0;
};

}  // namespace rlhf::data
