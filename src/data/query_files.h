// Reading the texts of a query dataset in each of its formats (private to src/data).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rlhf/data/queries.h"

namespace rlhf::data {

struct QueryTexts {
  std::vector<std::string> texts;   // in file order (cnndm: URL-list order)
  std::size_t missing_stories = 0;  // cnndm with skip_missing_stories: URLs left out for a missing story
  std::vector<std::string> references;  // one per text (cnndm highlights, or reference_field), or empty
};

// The texts of options.path, by options.format ("auto" resolved from the content).
// Throws rlhf::Error "PATH: line N: what" (or "element N") for anything unreadable.
QueryTexts read_query_texts(const QueryOptions& options);

// The format "auto" stands for, judged from the start of the file: json, jsonl, books or text.
std::string detect_query_format(const std::string& path);

// Format cnndm (cnndm_files.cpp): options.path is a URL list (stories under options.stories_dir) or
// a directory of .story files (read in file-name order). Each text is cnndm_article of a story.
QueryTexts read_cnndm_texts(const QueryOptions& options);

// Format fortune: the entries of a strfile source file (separated by lines holding only '%'), or of
// every regular file without a '.' in its name in a directory, files in name order. Blank entries
// are not texts.
std::vector<std::string> read_fortune_texts(const std::string& path);

}  // namespace rlhf::data
