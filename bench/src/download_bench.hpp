#pragma once

#include "bench_support.hpp"

namespace p2pnet::bench {

// A generated file found with `search` and fetched with `download` (verified)
// between nodes on loopback, from one source and from two, with TLS and
// without, each run alternately with a raw TCP copy of the same file.
std::vector<Figure> download_bench(const Options& options);

}  // namespace p2pnet::bench
