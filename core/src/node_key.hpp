// A node's identity: an Ed25519 key pair kept in its data directory. The node
// id is the hex SHA-256 of the raw public key, so an id can be proven by
// whoever holds the private key and by no one else.
#pragma once

#include <openssl/evp.h>

#include <filesystem>
#include <memory>
#include <string>

namespace p2pnet {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

class NodeKey {
 public:
  // Loads data_dir/node_key.pem, or creates it (mode 0600) on first start.
  // With an empty data_dir the key lives only as long as the process.
  // Throws StartupError when the file is unreadable or not an Ed25519 key.
  static NodeKey load_or_create(const std::filesystem::path& data_dir);

  const std::string& id() const { return id_; }
  EVP_PKEY* key() const { return key_.get(); }

  static constexpr const char* kFileName = "node_key.pem";

 private:
  NodeKey(PkeyPtr key, std::string id) : key_(std::move(key)), id_(std::move(id)) {}
  PkeyPtr key_;
  std::string id_;
};

// The node id a public key stands for; empty if the key is not Ed25519.
std::string node_id_of(EVP_PKEY* public_key);

}  // namespace p2pnet
