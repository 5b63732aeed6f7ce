#include "node_key.hpp"

#include "p2pnet/node.hpp"

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace p2pnet {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

PkeyPtr generate_key() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  bool ok = context && EVP_PKEY_keygen_init(context) == 1 && EVP_PKEY_keygen(context, &key) == 1;
  EVP_PKEY_CTX_free(context);
  if (!ok) throw StartupError("cannot generate the node key: " + openssl_error());
  return PkeyPtr(key);
}

PkeyPtr read_key(const std::filesystem::path& file) {
  std::FILE* in = std::fopen(file.c_str(), "r");
  if (!in) throw StartupError(fmt::format("{}: cannot read the node key: {}", file.string(), std::strerror(errno)));
  EVP_PKEY* key = PEM_read_PrivateKey(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  if (!key || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    ERR_clear_error();
    throw StartupError(fmt::format(
        "{}: not an Ed25519 private key in PEM form; restore it from a backup, or remove it to give this node a new id",
        file.string()));
  }
  return PkeyPtr(key);
}

void write_key(const std::filesystem::path& file, EVP_PKEY* key) {
  auto temporary = file.string() + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw StartupError(fmt::format("{}: cannot create the node key: {}", temporary, std::strerror(errno)));
  std::FILE* out = ::fdopen(fd, "w");
  bool ok = out && PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1 && std::fflush(out) == 0 &&
            ::fsync(fd) == 0;
  if (out)
    std::fclose(out);
  else
    ::close(fd);
  if (!ok || std::rename(temporary.c_str(), file.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw StartupError(fmt::format("{}: cannot store the node key", file.string()));
  }
}

}  // namespace

std::string node_id_of(EVP_PKEY* public_key) {
  if (!public_key || EVP_PKEY_id(public_key) != EVP_PKEY_ED25519) return "";
  unsigned char raw[32];
  size_t length = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(public_key, raw, &length) != 1 || length != sizeof raw) return "";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(raw, length, digest);
  std::string id;
  id.reserve(64);
  for (unsigned char byte : digest) id += fmt::format("{:02x}", byte);
  return id;
}

NodeKey NodeKey::load_or_create(const std::filesystem::path& data_dir) {
  PkeyPtr key;
  if (data_dir.empty()) {
    key = generate_key();
  } else {
    auto file = data_dir / kFileName;
    std::error_code error;
    if (std::filesystem::exists(file, error)) {
      key = read_key(file);
    } else {
      key = generate_key();
      write_key(file, key.get());
    }
  }
  std::string id = node_id_of(key.get());
  return NodeKey(std::move(key), std::move(id));
}

}  // namespace p2pnet
