#include "simulator/tls/openssl_util.hpp"

#include <array>
#include <climits>
#include <ctime>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>

namespace smtpsim::tls {

std::string openssl_error_text() {
  // The reason strings of libssl are loaded by OPENSSL_init_ssl, which only runs once an SSL
  // object is made; an error raised earlier (a bad context option) would read "reason(258)".
  static const bool strings_loaded =
      OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr) ==
      1;
  (void)strings_loaded;
  std::string text;
  const char* data = nullptr;
  int flags = 0;
  while (const unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    if (!text.empty()) {
      text += "; ";
    }
    text += buf.data();
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      text += " (";
      text += data;
      text += ")";
    }
  }
  return text;
}

void throw_openssl_error(std::string_view what) {
  std::string message(what);
  const std::string detail = openssl_error_text();
  message += ": ";
  message += detail.empty() ? "no OpenSSL error recorded" : detail;
  throw std::runtime_error(message);
}

bio_ptr read_only_bio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::length_error("PEM text too large");
  }
  // BIO_new_mem_buf never writes through the pointer: a read-only BIO.
  bio_ptr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) {
    throw_openssl_error("BIO_new_mem_buf");
  }
  return bio;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) {
    return {};
  }
  return {data, static_cast<std::size_t>(len)};
}

namespace {

// is_end_of_pem says whether the last queued error only means "no further PEM block", which is
// how PEM_read_bio_* reports the normal end of the input.
bool is_end_of_pem() {
  const unsigned long e = ERR_peek_last_error();
  return e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

// refuse_passphrase is the PEM password callback: test keys are never encrypted, and OpenSSL's
// default callback would prompt on the terminal.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

}  // namespace

std::vector<x509_ptr> read_certs_pem(std::string_view pem) {
  std::vector<x509_ptr> certs;
  const bio_ptr bio = read_only_bio(pem);
  ERR_set_mark();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  if (!is_end_of_pem()) {
    ERR_clear_last_mark();
    throw_openssl_error("cannot parse PEM certificate");
  }
  ERR_pop_to_mark();
  return certs;
}

evp_pkey_ptr read_key_pem(std::string_view pem) {
  const bio_ptr bio = read_only_bio(pem);
  evp_pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) {
    throw_openssl_error("cannot parse PEM private key");
  }
  return key;
}

std::string cert_to_pem(const X509* cert) {
  const bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    throw_openssl_error("PEM_write_bio_X509");
  }
  return bio_contents(bio.get());
}

std::string key_to_pem(const EVP_PKEY* key) {
  const bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw_openssl_error("PEM_write_bio_PrivateKey");
  }
  return bio_contents(bio.get());
}

std::string name_to_rfc2253(const X509_NAME* name) {
  if (name == nullptr) {
    return {};
  }
  const bio_ptr bio(BIO_new(BIO_s_mem()));
  // RFC 2253 strings are UTF-8: do not escape the high-bit bytes (ASN1_STRFLGS_ESC_MSB).
  constexpr unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
    throw_openssl_error("X509_NAME_print_ex");
  }
  return bio_contents(bio.get());
}

std::string time_to_iso8601(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return {};
  }
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return {buf.data(), n};
}

std::string serial_hex(const X509* cert) {
  const bignum_ptr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) {
    throw_openssl_error("ASN1_INTEGER_to_BN");
  }
  const openssl_chars_ptr hex(BN_bn2hex(bn.get()));
  if (!hex) {
    throw_openssl_error("BN_bn2hex");
  }
  return hex.get();
}

namespace {

std::string ip_to_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* bytes = ASN1_STRING_get0_data(ip);
  const int len = ASN1_STRING_length(ip);
  std::array<char, INET6_ADDRSTRLEN> buf{};
  const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC;
  if (family != AF_UNSPEC && inet_ntop(family, bytes, buf.data(), buf.size()) != nullptr) {
    return buf.data();
  }
  // Not an address length (e.g. a name-constraint style address/mask): show the octets.
  static constexpr std::string_view digits = "0123456789ABCDEF";
  std::string hex;
  for (int i = 0; i < len; ++i) {
    hex += digits[bytes[i] >> 4];
    hex += digits[bytes[i] & 0x0F];
  }
  return hex;
}

}  // namespace

alt_names subject_alt_names(const X509* cert) {
  alt_names result;
  const general_names_ptr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    return result;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(gn, &type);
    if (type == GEN_DNS) {
      const auto* s = static_cast<const ASN1_IA5STRING*>(value);
      result.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (type == GEN_IPADD) {
      result.ip_addresses.push_back(ip_to_text(static_cast<const ASN1_OCTET_STRING*>(value)));
    }
  }
  return result;
}

}  // namespace smtpsim::tls
