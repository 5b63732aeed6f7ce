// Baselines from the tool a user would otherwise pick for messages: ZeroMQ
// over TCP on loopback, the same message sizes as p2pnet's benchmarks,
// measured in the same run. Built only when libzmq is found; otherwise
// available() is false and the figures say the baseline is missing.
#pragma once

#include <cstddef>
#include <vector>

namespace p2pnet::bench::zeromq {

bool available();

// PUSH -> PULL over tcp://127.0.0.1, `messages` of `bytes` each, sender and
// receiver on their own threads; returns messages per second received.
double push_pull_throughput(size_t messages, size_t bytes);

// REQ <-> REP over tcp://127.0.0.1, `bytes` each way; each round trip in ms.
std::vector<double> req_rep_round_trips(size_t rounds, size_t bytes);

}  // namespace p2pnet::bench::zeromq
