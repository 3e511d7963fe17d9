#include "rlhf/data/text_files.h"

#include "query_files.h"

namespace rlhf::data {

std::vector<std::string> read_texts(const QueryOptions& options) { return read_query_texts(options).texts; }

}  // namespace rlhf::data
