// The SHA-256 of test data as p2pnet prints it and the wire carries it (64
// lowercase hex digits), computed by OpenSSL directly rather than by the
// plugins' wrapper, so that tests check the plugins against a second opinion.
#pragma once

#include <string>
#include <string_view>

namespace p2pnet::test {

std::string sha256_hex(std::string_view data);

}  // namespace p2pnet::test
