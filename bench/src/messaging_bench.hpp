#pragma once

#include "bench_support.hpp"

namespace p2pnet::bench {

std::vector<Figure> routing_bench(const Options& options);
std::vector<Figure> ping_bench(const Options& options);

}  // namespace p2pnet::bench
