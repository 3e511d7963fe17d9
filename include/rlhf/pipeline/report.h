// The human-readable summary of a `rlhf train` run: before/after table and sample texts, in Markdown
// (summary.md, and printed at the end of the run).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace rlhf::pipeline {

std::string render_summary(const nlohmann::ordered_json& summary);

}  // namespace rlhf::pipeline
