#include "simulator/tls/fingerprint.hpp"

#include <array>
#include <stdexcept>
#include <vector>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "simulator/tls/openssl_util.hpp"

namespace smtpsim::tls {

namespace {

const EVP_MD* md_of(digest_kind d) {
  switch (d) {
    case digest_kind::md5:
      return EVP_md5();
    case digest_kind::sha1:
      return EVP_sha1();
    case digest_kind::sha256:
      return EVP_sha256();
  }
  throw std::invalid_argument("unknown digest_kind");
}

std::string digest_colon_hex(const unsigned char* data, std::size_t len, digest_kind d) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (EVP_Digest(data, len, md.data(), &md_len, md_of(d), nullptr) != 1) {
    throw_openssl_error("EVP_Digest");
  }
  return colon_hex({reinterpret_cast<const char*>(md.data()), md_len});
}

// digest_der digests the DER that `i2d` (an OpenSSL i2d_* function bound to its object) writes.
template <class I2d>
std::string digest_der(I2d i2d, digest_kind d, const char* what) {
  unsigned char* der = nullptr;
  const int len = i2d(&der);
  const openssl_bytes_ptr owner(der);
  if (len <= 0 || der == nullptr) {
    throw_openssl_error(what);
  }
  return digest_colon_hex(der, static_cast<std::size_t>(len), d);
}

void require_cert(const X509* cert) {
  if (cert == nullptr) {
    throw std::invalid_argument("fingerprint of a null certificate");
  }
}

}  // namespace

std::string_view to_string(digest_kind d) {
  switch (d) {
    case digest_kind::md5:
      return "md5";
    case digest_kind::sha1:
      return "sha1";
    case digest_kind::sha256:
      return "sha256";
  }
  return "unknown";
}

std::string colon_hex(std::string_view octets) {
  static constexpr std::string_view digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(octets.size() * 3);
  for (const char c : octets) {
    const auto byte = static_cast<unsigned char>(c);
    if (!out.empty()) {
      out += ':';
    }
    out += digits[byte >> 4];
    out += digits[byte & 0x0F];
  }
  return out;
}

std::string cert_fingerprint(const X509* cert, digest_kind d) {
  require_cert(cert);
  return digest_der([cert](unsigned char** out) { return i2d_X509(cert, out); }, d, "i2d_X509");
}

std::string pubkey_fingerprint(const X509* cert, digest_kind d) {
  require_cert(cert);
  // The whole SubjectPublicKeyInfo (algorithm + key), as Postfix digests it; not
  // X509_pubkey_digest, which covers only the key's BIT STRING.
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  return digest_der([spki](unsigned char** out) { return i2d_X509_PUBKEY(spki, out); }, d,
                    "i2d_X509_PUBKEY");
}

fingerprint_set fingerprints_of(const X509* cert) {
  fingerprint_set set;
  set.cert_md5 = cert_fingerprint(cert, digest_kind::md5);
  set.cert_sha1 = cert_fingerprint(cert, digest_kind::sha1);
  set.cert_sha256 = cert_fingerprint(cert, digest_kind::sha256);
  set.pubkey_md5 = pubkey_fingerprint(cert, digest_kind::md5);
  set.pubkey_sha1 = pubkey_fingerprint(cert, digest_kind::sha1);
  set.pubkey_sha256 = pubkey_fingerprint(cert, digest_kind::sha256);
  return set;
}

fingerprint_set fingerprints_of_pem(std::string_view pem) {
  std::vector<x509_ptr> certs;
  try {
    certs = read_certs_pem(pem);
  } catch (const std::runtime_error&) {
    return {};  // documented: not a certificate -> all fields empty
  }
  if (certs.empty()) {
    return {};
  }
  return fingerprints_of(certs.front().get());
}

}  // namespace smtpsim::tls
