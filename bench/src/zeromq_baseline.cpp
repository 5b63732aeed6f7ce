#include "zeromq_baseline.hpp"

#include "bench_support.hpp"

#include <stdexcept>
#include <string>
#include <thread>

#ifdef P2PNET_BENCH_HAVE_ZMQ
#include <zmq.h>
#endif

namespace p2pnet::bench::zeromq {

#ifndef P2PNET_BENCH_HAVE_ZMQ

bool available() { return false; }
double push_pull_throughput(size_t, size_t) { throw std::runtime_error("built without libzmq"); }
std::vector<double> req_rep_round_trips(size_t, size_t) { throw std::runtime_error("built without libzmq"); }

#else

namespace {

void check(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string("zmq ") + what + ": " + zmq_strerror(zmq_errno()));
}

// A context with one bound and one connected socket on an OS-chosen port.
class SocketPair {
 public:
  SocketPair(int bound_type, int connected_type) : context_(zmq_ctx_new()) {
    bound_ = zmq_socket(context_, bound_type);
    connected_ = zmq_socket(context_, connected_type);
    int unlimited = 0;  // no high-water mark: measure the transport, not back-pressure drops
    for (void* socket : {bound_, connected_}) {
      check(zmq_setsockopt(socket, ZMQ_SNDHWM, &unlimited, sizeof unlimited), "sndhwm");
      check(zmq_setsockopt(socket, ZMQ_RCVHWM, &unlimited, sizeof unlimited), "rcvhwm");
    }
    check(zmq_bind(bound_, "tcp://127.0.0.1:*"), "bind");
    char endpoint[256];
    size_t size = sizeof endpoint;
    check(zmq_getsockopt(bound_, ZMQ_LAST_ENDPOINT, endpoint, &size), "endpoint");
    check(zmq_connect(connected_, endpoint), "connect");
  }
  ~SocketPair() {
    int zero = 0;
    zmq_setsockopt(bound_, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(connected_, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(bound_);
    zmq_close(connected_);
    zmq_ctx_term(context_);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  void* bound() const { return bound_; }
  void* connected() const { return connected_; }

 private:
  void* context_;
  void* bound_ = nullptr;
  void* connected_ = nullptr;
};

}  // namespace

bool available() { return true; }

double push_pull_throughput(size_t messages, size_t bytes) {
  SocketPair pair(ZMQ_PULL, ZMQ_PUSH);
  std::string payload(bytes, 'x');
  std::string buffer(bytes, '\0');
  // One message first, so the connection exists before the clock starts.
  check(zmq_send(pair.connected(), payload.data(), bytes, 0), "send");
  check(zmq_recv(pair.bound(), buffer.data(), bytes, 0), "recv");
  auto start = Clock::now();
  std::thread sender([&] {
    for (size_t i = 0; i < messages; ++i) zmq_send(pair.connected(), payload.data(), bytes, 0);
  });
  for (size_t i = 0; i < messages; ++i) check(zmq_recv(pair.bound(), buffer.data(), bytes, 0), "recv");
  double rate = static_cast<double>(messages) / seconds_since(start);
  sender.join();
  return rate;
}

std::vector<double> req_rep_round_trips(size_t rounds, size_t bytes) {
  SocketPair pair(ZMQ_REP, ZMQ_REQ);
  std::thread replier([&] {
    std::string buffer(bytes, '\0');
    for (size_t i = 0; i < rounds + 10; ++i) {
      int got = zmq_recv(pair.bound(), buffer.data(), bytes, 0);
      if (got < 0) return;
      zmq_send(pair.bound(), buffer.data(), static_cast<size_t>(got), 0);
    }
  });
  std::string payload(bytes, 'x');
  std::string buffer(bytes, '\0');
  std::vector<double> rtts;
  for (size_t i = 0; i < rounds + 10; ++i) {
    auto start = Clock::now();
    check(zmq_send(pair.connected(), payload.data(), bytes, 0), "send");
    check(zmq_recv(pair.connected(), buffer.data(), bytes, 0), "recv");
    if (i >= 10) rtts.push_back(seconds_since(start) * 1000.0);  // as the ping bench, the first few warm up
  }
  replier.join();
  return rtts;
}

#endif

}  // namespace p2pnet::bench::zeromq
