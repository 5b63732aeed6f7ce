#include "tls_identity.hpp"

#include "p2pnet/node.hpp"

#include <fmt/core.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

namespace p2pnet {
namespace {

constexpr const char* kExporterLabel = "EXPORTER-p2pnet-network-key";

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};

std::unique_ptr<X509, X509Deleter> self_signed_certificate(const NodeKey& key) {
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) return nullptr;
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = number && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(number);
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && X509_set_version(cert.get(), 2) == 1 && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400) &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365 * 50) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(key.id().c_str()),
                                  -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.key()) == 1 &&
       X509_sign(cert.get(), key.key(), nullptr) > 0;
  return ok ? std::move(cert) : nullptr;
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_tls_context(const NodeKey& key) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls);
  SSL_CTX* native = context->native_handle();
  auto cert = self_signed_certificate(key);
  bool ok = cert && SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) == 1 &&
            SSL_CTX_set_ciphersuites(native,
                                     "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                     "TLS_CHACHA20_POLY1305_SHA256") == 1 &&
            SSL_CTX_use_certificate(native, cert.get()) == 1 && SSL_CTX_use_PrivateKey(native, key.key()) == 1 &&
            SSL_CTX_check_private_key(native) == 1;
  if (!ok) throw StartupError("cannot set up TLS for the node key (OpenSSL without Ed25519 or TLS 1.3?)");
  // Idle connections give their record buffers back; no session resumption
  // state to keep or leak.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  // Ask for the peer's certificate, accept any: identity is the key's hash.
  // A plain function, not asio's set_verify_callback: asio deletes its
  // callback object with the context, while a handshake still running on a
  // connection that outlives the node (its SSL keeps the SSL_CTX alive)
  // would call it; TSan caught that at a node's shutdown.
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX*) -> int { return 1; });
  return context;
}

std::string peer_key_id(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  std::string id = node_id_of(X509_get0_pubkey(cert));
  X509_free(cert);
  return id;
}

std::string network_proof(SSL* ssl, const std::string& network_key, bool from_server) {
  unsigned char exported[32];
  if (SSL_export_keying_material(ssl, exported, sizeof exported, kExporterLabel,
                                 std::char_traits<char>::length(kExporterLabel), nullptr, 0, 0) != 1)
    return "";
  unsigned char message[sizeof exported + 1];
  std::copy(std::begin(exported), std::end(exported), message);
  message[sizeof exported] = from_server ? 'S' : 'C';
  unsigned char mac[32];
  unsigned int mac_length = 0;
  if (!HMAC(EVP_sha256(), network_key.data(), static_cast<int>(network_key.size()), message, sizeof message, mac,
            &mac_length))
    return "";
  std::string hex;
  for (unsigned int i = 0; i < mac_length; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

bool proofs_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace p2pnet
