#include "rlhf/util/error.h"

namespace rlhf {

void throw_file_error(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

}  // namespace rlhf
