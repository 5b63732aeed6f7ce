// What one core can hash and encrypt: the ceilings of a verified, encrypted
// download, measured in the same run as the download they bound.
#pragma once

namespace p2pnet::bench::crypto_limits {

// OpenSSL's SHA-256 over 16 KiB blocks on one thread, in MB/s.
double sha256_rate(double seconds);

// OpenSSL's AES-128-GCM encryption of 16 KiB records on one thread, in MB/s.
double aes_128_gcm_rate(double seconds);

}  // namespace p2pnet::bench::crypto_limits
