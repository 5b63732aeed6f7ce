#pragma once

#include "bench_support.hpp"

namespace p2pnet::bench {

// Resident memory per idle connection and per node, and the time from
// process start to listening, with the stock plugins loaded.
std::vector<Figure> memory_bench(const Options& options);
std::vector<Figure> startup_bench(const Options& options);

// The stock plugins a full node loads.
const std::vector<std::string>& stock_plugins();

}  // namespace p2pnet::bench
