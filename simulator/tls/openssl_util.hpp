#pragma once
// Internal to smtpsim::tls (not part of its public API): RAII owners for OpenSSL handles, PEM and
// BIO helpers, and the error-queue-to-exception wrapper. Includes OpenSSL, so only this module's
// .cpp files and tests include it; the public headers stay free of OpenSSL.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace smtpsim::tls {

// openssl_free_fn wraps a free function as a stateless deleter, so each handle type below is one
// line and costs no storage in its unique_ptr.
template <auto free_fn>
struct openssl_free_fn {
  template <class T>
  void operator()(T* p) const noexcept {
    free_fn(p);
  }
};

// openssl_bytes_deleter frees memory that OpenSSL allocated for us (i2d output, BN_bn2hex).
// OPENSSL_free is a macro, so it cannot be a template argument.
struct openssl_bytes_deleter {
  void operator()(void* p) const noexcept { OPENSSL_free(p); }
};

// x509_stack_deleter frees a STACK_OF(X509) and the certificates it owns.
struct x509_stack_deleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};

using bio_ptr = std::unique_ptr<BIO, openssl_free_fn<BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, openssl_free_fn<X509_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free_fn<EVP_PKEY_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_free_fn<BN_free>>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_free_fn<X509_EXTENSION_free>>;
using general_name_ptr = std::unique_ptr<GENERAL_NAME, openssl_free_fn<GENERAL_NAME_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_free_fn<GENERAL_NAMES_free>>;
using asn1_string_ptr = std::unique_ptr<ASN1_STRING, openssl_free_fn<ASN1_STRING_free>>;
using x509_store_ptr = std::unique_ptr<X509_STORE, openssl_free_fn<X509_STORE_free>>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_free_fn<X509_STORE_CTX_free>>;
using x509_stack_ptr = std::unique_ptr<STACK_OF(X509), x509_stack_deleter>;
using openssl_bytes_ptr = std::unique_ptr<unsigned char, openssl_bytes_deleter>;
using openssl_chars_ptr = std::unique_ptr<char, openssl_bytes_deleter>;

// openssl_error_text drains OpenSSL's error queue into one line ("" when empty). Also declared in
// context.hpp, which most callers cannot include cheaply.
std::string openssl_error_text();

// throw_openssl_error throws std::runtime_error("<what>: <OpenSSL error text>"), draining the
// queue so that the next failure does not report stale errors.
[[noreturn]] void throw_openssl_error(std::string_view what);

// read_only_bio returns a memory BIO reading `data`, which must outlive the BIO.
bio_ptr read_only_bio(std::string_view data);

// bio_contents copies what was written into a memory BIO.
std::string bio_contents(BIO* bio);

// read_certs_pem parses every certificate of `pem`, in order. Text outside PEM blocks is ignored;
// a damaged block throws std::runtime_error.
std::vector<x509_ptr> read_certs_pem(std::string_view pem);

// read_key_pem parses an unencrypted private key (PKCS#8 or traditional). Never prompts for a
// passphrase: an encrypted key throws std::runtime_error.
evp_pkey_ptr read_key_pem(std::string_view pem);

// cert_to_pem / key_to_pem render PEM; key_to_pem writes unencrypted PKCS#8.
std::string cert_to_pem(const X509* cert);
std::string key_to_pem(const EVP_PKEY* key);

// name_to_rfc2253 renders a distinguished name as RFC 2253 text ("CN=mx.test,O=..."), keeping
// UTF-8 as is rather than escaping it.
std::string name_to_rfc2253(const X509_NAME* name);

// time_to_iso8601 renders an ASN.1 time as "YYYY-MM-DDTHH:MM:SSZ" (UTC); "" if unparsable.
std::string time_to_iso8601(const ASN1_TIME* time);

// serial_hex renders a certificate serial number in upper-case hex.
std::string serial_hex(const X509* cert);

// subject_alt_names returns the dNSName and iPAddress entries of the subjectAltName extension.
// IP addresses are rendered with inet_ntop ("127.0.0.1", "::1").
struct alt_names {
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};
alt_names subject_alt_names(const X509* cert);

}  // namespace smtpsim::tls
