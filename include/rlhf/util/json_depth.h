// A bound on how deeply JSON from outside may nest. nlohmann's parser and destructor are iterative,
// but dump() (every error message that shows a value), copies and comparisons recurse, so a file of a
// million '[' would overflow the stack where an error message or a saved copy is made. Real files nest a
// few levels (a config.json: 4); every reader of outside JSON refuses more than kMaxJsonDepth first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rlhf {

inline constexpr std::size_t kMaxJsonDepth = 256;

// Whether `text` never has more than kMaxJsonDepth arrays and objects open at once. Brackets inside
// strings and // or /* */ comments do not count; the text need not be valid JSON.
bool json_depth_ok(std::string_view text);

// Throws Error("SOURCE: JSON nested deeper than 256 levels at line L, column C") unless json_depth_ok.
void check_json_depth(std::string_view text, const std::string& source);

}  // namespace rlhf
