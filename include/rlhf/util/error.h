// Errors the library throws. `main` catches them once and prints the message on one line.
#pragma once

#include <stdexcept>
#include <string>

namespace rlhf {

// A user-facing error: the message already says what is wrong and where (file, field, record),
// and, where a common mistake is likely, what to do about it.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("PATH: WHAT"). Use for every problem found in an input file.
[[noreturn]] void throw_file_error(const std::string& path, const std::string& what);

}  // namespace rlhf
