// A minimal parallel loop for the readers of src/data (private): tokenizing and cleaning texts are
// independent per text, and a dataset of 300k texts should use every core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace rlhf::data {

// f(i) for i in [0, n) on up to hardware_concurrency threads (one when n < 256); rethrows the
// exception of the lowest-numbered thread that threw.
template <class F>
void parallel_for(std::size_t n, const F& f) {
  const std::size_t threads = std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), n / 256 + 1);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (std::size_t i = t; i < n; i += threads) f(i);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace rlhf::data
