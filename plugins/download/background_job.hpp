// The one shape of the download plugin's disk and hashing work: `work` runs
// on the background pool and returns a result (default-constructible, with a
// std::string `error`); an exception it throws becomes that error, so no
// exception ever escapes into the pool. `done` then receives the result on
// the plugin's own strand, where transfers may be touched again.
#pragma once

#include <p2pnet/plugin.hpp>

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace p2pnet::download {

// The result of work whose only outcome is success or an error.
struct JobError {
  std::string error;  // "" on success
};

template <typename Work, typename Done>
void run_in_background(Plugin& host, Work work, Done done) {
  using Result = std::invoke_result_t<Work&>;
  auto result = std::make_shared<Result>();
  host.background(
      [result, work = std::move(work)]() mutable {
        try {
          *result = work();
        } catch (const std::exception& e) {
          *result = Result{};
          result->error = e.what();
        }
      },
      [result, done = std::move(done)]() mutable { done(std::move(*result)); });
}

}  // namespace p2pnet::download
