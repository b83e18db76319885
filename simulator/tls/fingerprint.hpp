#pragma once
// Certificate and public-key fingerprints in the form Postfix prints and `relay_clientcerts`
// expects: upper-case hex octets joined by ':' (postconf(5) smtpd_tls_fingerprint_digest).

#include <string>
#include <string_view>

using X509 = struct x509_st;  // NOLINT: OpenSSL's opaque type, without including OpenSSL

namespace smtpsim::tls {

enum class digest_kind { md5, sha1, sha256 };

std::string_view to_string(digest_kind d);  // "md5", "sha1", "sha256"

// colon_hex renders octets as "AB:CD:..."
std::string colon_hex(std::string_view octets);

// cert_fingerprint digests the DER encoding of the whole certificate. A null `cert` throws
// std::invalid_argument; an OpenSSL failure throws std::runtime_error.
std::string cert_fingerprint(const X509* cert, digest_kind d);
// pubkey_fingerprint digests the DER encoding of the SubjectPublicKeyInfo (Postfix >= 2.9
// "public key fingerprint"; also the DANE "1" selector).
std::string pubkey_fingerprint(const X509* cert, digest_kind d);

// fingerprint_set holds all six fingerprints of one certificate.
struct fingerprint_set {
  std::string cert_md5, cert_sha1, cert_sha256;
  std::string pubkey_md5, pubkey_sha1, pubkey_sha256;
};
fingerprint_set fingerprints_of(const X509* cert);

// fingerprints_of_pem parses the first certificate of `pem`. Returns a set with all fields empty
// when `pem` holds no parsable certificate (never throws for bad input).
fingerprint_set fingerprints_of_pem(std::string_view pem);

}  // namespace smtpsim::tls
