// Reading the texts of a query dataset in each of its formats (private to src/data).
#pragma once

#include <string>
#include <vector>

#include "rlhf/data/queries.h"

namespace rlhf::data {

// The texts of options.path in file order, by options.format ("auto" resolved from the content).
// Throws rlhf::Error "PATH: line N: what" (or "element N") for anything unreadable.
std::vector<std::string> read_query_texts(const QueryOptions& options);

// The format "auto" stands for, judged from the start of the file: json, jsonl, books or text.
std::string detect_query_format(const std::string& path);

}  // namespace rlhf::data
