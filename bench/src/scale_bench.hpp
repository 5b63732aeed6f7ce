#pragma once

#include "bench_support.hpp"

namespace p2pnet::bench {

// Networks of 100 and 1,000 nodes in one process, random mesh of degree 4
// to 8: full discovery from one node, and a search that must return every
// match.
std::vector<Figure> scale_bench(const Options& options);

}  // namespace p2pnet::bench
