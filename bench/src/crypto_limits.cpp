#include "crypto_limits.hpp"

#include "bench_support.hpp"
#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace p2pnet::bench::crypto_limits {
namespace {

constexpr size_t kBlock = 16 * 1024;

// Runs `step` (one block's work) until `seconds` have passed; MB/s.
template <typename Step>
double rate_over(double seconds, Step step) {
  size_t blocks = 0;
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    for (int i = 0; i < 64; ++i) step();  // checks the clock once per MiB
    blocks += 64;
  }
  return static_cast<double>(blocks * kBlock) / 1e6 / seconds_since(start);
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

double sha256_rate(double seconds) {
  // The stock plugins' own wrapper, over one long stream, as the whole-file
  // hash of a download is.
  std::vector<unsigned char> block(kBlock, 0x5a);
  Sha256 hash;
  double rate = rate_over(seconds, [&] { hash.update(block.data(), block.size()); });
  hash.finish();
  return rate;
}

double aes_128_gcm_rate(double seconds) {
  std::vector<unsigned char> block(kBlock, 0x5a), out(kBlock + 16);
  const unsigned char key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  unsigned char iv[12] = {0};
  CipherContext context(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!context || EVP_EncryptInit_ex(context.get(), EVP_aes_128_gcm(), nullptr, key, iv) != 1)
    throw std::runtime_error("AES-128-GCM limit: OpenSSL refused the cipher");
  // One record per block, each with its own nonce and tag, as TLS 1.3 seals them.
  uint64_t record = 0;
  return rate_over(seconds, [&] {
    ++record;
    std::memcpy(iv + 4, &record, sizeof record);
    int length = 0;
    EVP_EncryptInit_ex(context.get(), nullptr, nullptr, nullptr, iv);
    EVP_EncryptUpdate(context.get(), out.data(), &length, block.data(), static_cast<int>(block.size()));
    EVP_EncryptFinal_ex(context.get(), out.data() + length, &length);
    EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + kBlock);
  });
}

}  // namespace p2pnet::bench::crypto_limits
