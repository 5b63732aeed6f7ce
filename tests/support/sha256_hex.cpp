#include "sha256_hex.hpp"

#include <p2pnet/hex.hpp>

#include <openssl/evp.h>

#include <stdexcept>

namespace p2pnet::test {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot compute a SHA-256");
  return to_hex(digest, length);
}

}  // namespace p2pnet::test
