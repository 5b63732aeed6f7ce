// TLS 1.3 for a node: an Asio SSL context presenting a self-signed
// certificate for the node's Ed25519 key. Certificates are not checked
// against any authority: what matters is that the peer's key hashes to the
// id it claims in its hello, which the node checks after the handshake.
#pragma once

#include "node_key.hpp"

#include <asio/ssl.hpp>

#include <string>

namespace p2pnet {

// Builds the context once per node. Throws StartupError.
std::unique_ptr<asio::ssl::context> make_tls_context(const NodeKey& key);

// The node id proven by the peer's certificate in an established session;
// empty when the peer presented none or a non-Ed25519 key.
std::string peer_key_id(SSL* ssl);

// Proof of holding the network key, bound to this TLS session (RFC 8446
// exporter) and to one side of it, so it cannot be replayed or reflected.
std::string network_proof(SSL* ssl, const std::string& network_key, bool from_server);

// Compares in constant time.
bool proofs_equal(const std::string& a, const std::string& b);

}  // namespace p2pnet
