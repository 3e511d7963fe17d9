// The texts of a data file in any of the query-dataset formats (text, jsonl, json, books, cnndm,
// fortune), before tokenization: for users other than QueryDataset (supervised fine-tuning).
#pragma once

#include <string>
#include <vector>

#include "rlhf/data/queries.h"

namespace rlhf::data {

// The texts of options.path in file order, read by options.format and options.field as
// QueryDataset::load reads them (only path, format, field, stories_dir and skip_missing_stories are
// used). Throws rlhf::Error naming the file and the line or element.
std::vector<std::string> read_texts(const QueryOptions& options);

}  // namespace rlhf::data
