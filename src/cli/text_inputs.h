// Reading the texts a command works on: from arguments, plain text files (one per line), or JSON
// Lines files (a JSON string, or an object with the named field, per line).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rlhf::cli {

// Lines of a .txt file, or the `field` of each record of a .jsonl/.json-lines file. Empty lines are
// skipped. Throws rlhf::Error naming the file and line for a malformed record.
std::vector<std::string> read_texts(const std::filesystem::path& path, const std::string& field);

// The texts given as arguments followed by those of `file` (when not empty). Throws rlhf::Error
// with `hint` when there are none.
std::vector<std::string> gather_texts(const std::vector<std::string>& from_arguments, const std::string& file,
                                      const std::string& field, const std::string& hint);

// Writes `text` to `path` atomically, or to stdout when path is empty or "-".
void write_output(const std::string& path, const std::string& text);

// Before any work: the directory of an output file (not "" or "-", stdout) exists or can be made, and
// takes a file. Throws Error "output: DIR: why".
void check_output_file(const std::string& path);

}  // namespace rlhf::cli
