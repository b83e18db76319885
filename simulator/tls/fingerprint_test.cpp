#include "simulator/tls/fingerprint.hpp"

#include <array>
#include <cstdio>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "simulator/tls/openssl_util.hpp"
#include "simulator/tls/test_pki_fixture.hpp"

namespace smtpsim::tls {
namespace {

// independent_hex renders a digest with printf, so the check does not reuse colon_hex.
std::string independent_hex(const unsigned char* md, unsigned int len) {
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    std::array<char, 4> buf{};
    std::snprintf(buf.data(), buf.size(), i == 0 ? "%02X" : ":%02X", md[i]);
    out += buf.data();
  }
  return out;
}

std::string independent_digest(const unsigned char* der, int len, const EVP_MD* md) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int out_len = 0;
  EXPECT_EQ(EVP_Digest(der, static_cast<std::size_t>(len), out.data(), &out_len, md, nullptr), 1);
  return independent_hex(out.data(), out_len);
}

x509_ptr cert_named(const std::string& name) {
  auto certs = read_certs_pem(shared_test_pki().at(name).cert_pem);
  EXPECT_EQ(certs.size(), 1u);
  return std::move(certs.front());
}

TEST(ColonHex, RendersUpperCaseOctetsJoinedByColons) {
  EXPECT_EQ(colon_hex(""), "");
  EXPECT_EQ(colon_hex(std::string("\x00", 1)), "00");
  EXPECT_EQ(colon_hex("\xAB\xcd\x01\xFF"), "AB:CD:01:FF");
}

TEST(DigestKind, HasPostfixNames) {
  EXPECT_EQ(to_string(digest_kind::md5), "md5");
  EXPECT_EQ(to_string(digest_kind::sha1), "sha1");
  EXPECT_EQ(to_string(digest_kind::sha256), "sha256");
}

TEST(CertFingerprint, EqualsDigestOfDerCertificate) {
  const x509_ptr cert = cert_named("client1");
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  const openssl_bytes_ptr owner(der);
  ASSERT_GT(len, 0);
  EXPECT_EQ(cert_fingerprint(cert.get(), digest_kind::md5),
            independent_digest(der, len, EVP_md5()));
  EXPECT_EQ(cert_fingerprint(cert.get(), digest_kind::sha1),
            independent_digest(der, len, EVP_sha1()));
  EXPECT_EQ(cert_fingerprint(cert.get(), digest_kind::sha256),
            independent_digest(der, len, EVP_sha256()));
}

TEST(PubkeyFingerprint, EqualsDigestOfDerSubjectPublicKeyInfo) {
  const x509_ptr cert = cert_named("client1");
  unsigned char* der = nullptr;
  // i2d_PUBKEY goes through the EVP_PKEY: a different path to the same SubjectPublicKeyInfo.
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  const openssl_bytes_ptr owner(der);
  ASSERT_GT(len, 0);
  EXPECT_EQ(pubkey_fingerprint(cert.get(), digest_kind::md5),
            independent_digest(der, len, EVP_md5()));
  EXPECT_EQ(pubkey_fingerprint(cert.get(), digest_kind::sha1),
            independent_digest(der, len, EVP_sha1()));
  EXPECT_EQ(pubkey_fingerprint(cert.get(), digest_kind::sha256),
            independent_digest(der, len, EVP_sha256()));
}

TEST(PubkeyFingerprint, CoversAlgorithmNotOnlyKeyBits) {
  // X509_pubkey_digest hashes only the BIT STRING; Postfix hashes the whole
  // SubjectPublicKeyInfo, and relay_clientcerts entries depend on the difference.
  const x509_ptr cert = cert_named("client1");
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  ASSERT_EQ(X509_pubkey_digest(cert.get(), EVP_sha256(), md.data(), &len), 1);
  EXPECT_NE(pubkey_fingerprint(cert.get(), digest_kind::sha256), independent_hex(md.data(), len));
}

TEST(FingerprintsOf, HaveColonHexFormOfEachDigestLength) {
  const fingerprint_set set = fingerprints_of(cert_named("server").get());
  const auto octets = [](std::size_t n) {
    return std::regex("^[0-9A-F]{2}(:[0-9A-F]{2}){" + std::to_string(n - 1) + "}$");
  };
  EXPECT_TRUE(std::regex_match(set.cert_md5, octets(16))) << set.cert_md5;
  EXPECT_TRUE(std::regex_match(set.pubkey_md5, octets(16))) << set.pubkey_md5;
  EXPECT_TRUE(std::regex_match(set.cert_sha1, octets(20))) << set.cert_sha1;
  EXPECT_TRUE(std::regex_match(set.pubkey_sha1, octets(20))) << set.pubkey_sha1;
  EXPECT_TRUE(std::regex_match(set.cert_sha256, octets(32))) << set.cert_sha256;
  EXPECT_TRUE(std::regex_match(set.pubkey_sha256, octets(32))) << set.pubkey_sha256;
}

TEST(FingerprintsOfPem, MatchesParsedCertificateAndUsesFirstOfChain) {
  const issued_cert& server = shared_test_pki().at("server");
  const fingerprint_set set = fingerprints_of_pem(server.chain_pem);
  EXPECT_EQ(set.cert_sha256, server.fingerprints.cert_sha256);
  EXPECT_EQ(set.pubkey_md5, server.fingerprints.pubkey_md5);
}

TEST(FingerprintsOfPem, IsEmptyWithoutCertificate) {
  for (const std::string_view pem :
       {std::string_view(), std::string_view("not PEM"),
        std::string_view("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}) {
    const fingerprint_set set = fingerprints_of_pem(pem);
    EXPECT_TRUE(set.cert_sha256.empty() && set.pubkey_sha256.empty() && set.cert_md5.empty())
        << pem;
  }
  EXPECT_EQ(openssl_error_text(), "");  // nothing left behind on the error queue
}

TEST(CertFingerprint, RejectsNullCertificate) {
  EXPECT_THROW(cert_fingerprint(nullptr, digest_kind::sha256), std::invalid_argument);
  EXPECT_THROW(pubkey_fingerprint(nullptr, digest_kind::sha256), std::invalid_argument);
}

}  // namespace
}  // namespace smtpsim::tls
