#include "simulator/tls/pki.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "simulator/tls/openssl_util.hpp"
#include "simulator/tls/test_pki_fixture.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace smtpsim::tls {
namespace {

x509_ptr parse_one(const std::string& pem) {
  std::vector<x509_ptr> certs = read_certs_pem(pem);
  EXPECT_EQ(certs.size(), 1u);
  return certs.empty() ? nullptr : std::move(certs.front());
}

x509_ptr cert_named(const std::string& name) {
  return parse_one(shared_test_pki().at(name).cert_pem);
}

// verify_error runs X509_verify_cert on `name` with `trusted` as roots and `untrusted` as
// intermediates, for `purpose`, and returns the X509_V_* result.
int verify_error(const std::string& name, const std::vector<std::string>& trusted,
                 const std::vector<std::string>& untrusted, int purpose) {
  const x509_store_ptr store(X509_STORE_new());
  for (const std::string& t : trusted) {
    EXPECT_EQ(X509_STORE_add_cert(store.get(), cert_named(t).get()), 1);
  }
  const x509_stack_ptr chain(sk_X509_new_null());
  for (const std::string& u : untrusted) {
    EXPECT_GT(sk_X509_push(chain.get(), cert_named(u).release()), 0);
  }
  const x509_ptr leaf = cert_named(name);
  const x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
  EXPECT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain.get()), 1);
  EXPECT_EQ(X509_STORE_CTX_set_purpose(ctx.get(), purpose), 1);
  const int ok = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  EXPECT_EQ(ok == 1, error == X509_V_OK);
  return error;
}

// temp_dir is a fresh folder removed at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "smtpsim-pki-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(TestPki, HasEveryNamedCertificate) {
  for (const char* name : {"ca", "intermediate", "server", "client1", "client2", "client1-reissued",
                           "expired", "wrong-name", "self-signed"}) {
    const issued_cert& ic = shared_test_pki().at(name);
    EXPECT_EQ(ic.name, name);
    EXPECT_FALSE(ic.purpose.empty()) << name;
    EXPECT_FALSE(ic.key_pem.empty()) << name;
    EXPECT_FALSE(ic.fingerprints.cert_sha256.empty()) << name;
  }
}

TEST(TestPki, AtNamesTheMissingCertificate) {
  try {
    static_cast<void>(shared_test_pki().at("no-such-cert"));
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-cert"), std::string::npos);
  }
}

TEST(TestPki, ServerVerifiesThroughUntrustedIntermediate) {
  EXPECT_EQ(verify_error("server", {"ca"}, {"intermediate"}, X509_PURPOSE_SSL_SERVER), X509_V_OK);
}

TEST(TestPki, ServerWithoutIntermediateDoesNotVerify) {
  EXPECT_EQ(verify_error("server", {"ca"}, {}, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST(TestPki, ClientCertificatesVerifyForClientAuth) {
  for (const char* name : {"client1", "client2", "client1-reissued"}) {
    EXPECT_EQ(verify_error(name, {"ca"}, {}, X509_PURPOSE_SSL_CLIENT), X509_V_OK) << name;
  }
}

TEST(TestPki, ClientCertificateIsNotAServerCertificate) {
  EXPECT_EQ(verify_error("client1", {"ca"}, {}, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_INVALID_PURPOSE);
}

TEST(TestPki, ExpiredFailsAsExpired) {
  EXPECT_EQ(verify_error("expired", {"ca"}, {"intermediate"}, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_CERT_HAS_EXPIRED);
  const x509_ptr cert = cert_named("expired");
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
}

TEST(TestPki, ServerMatchesServerNamesAndAddresses) {
  const x509_ptr cert = cert_named("server");
  for (const char* host : {"localhost", "mx.test"}) {
    EXPECT_EQ(X509_check_host(cert.get(), host, 0, 0, nullptr), 1) << host;
  }
  for (const char* ip : {"127.0.0.1", "::1"}) {
    EXPECT_EQ(X509_check_ip_asc(cert.get(), ip, 0), 1) << ip;
  }
  EXPECT_EQ(X509_check_host(cert.get(), "wrong-name.test", 0, 0, nullptr), 0);
}

TEST(TestPki, WrongNameFailsHostCheckForMxTest) {
  const x509_ptr cert = cert_named("wrong-name");
  EXPECT_EQ(X509_check_host(cert.get(), "mx.test", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 0);
  EXPECT_EQ(X509_check_host(cert.get(), "wrong-name.test", 0, 0, nullptr), 1);
  EXPECT_EQ(verify_error("wrong-name", {"ca"}, {"intermediate"}, X509_PURPOSE_SSL_SERVER),
            X509_V_OK);  // only the name is wrong
}

TEST(TestPki, SelfSignedIsSelfSignedAndUntrustedByTheCa) {
  const x509_ptr cert = cert_named("self-signed");
  EXPECT_EQ(X509_self_signed(cert.get(), 1), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "mx.test", 0, 0, nullptr), 1);
  EXPECT_EQ(verify_error("self-signed", {"ca"}, {}, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(verify_error("self-signed", {"self-signed"}, {}, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(X509_self_signed(cert_named("server").get(), 1), 0);
}

TEST(TestPki, ReissuedClientSharesOnlyThePublicKeyFingerprint) {
  const fingerprint_set& original = shared_test_pki().at("client1").fingerprints;
  const fingerprint_set& reissued = shared_test_pki().at("client1-reissued").fingerprints;
  EXPECT_EQ(reissued.pubkey_sha256, original.pubkey_sha256);
  EXPECT_EQ(reissued.pubkey_sha1, original.pubkey_sha1);
  EXPECT_EQ(reissued.pubkey_md5, original.pubkey_md5);
  EXPECT_NE(reissued.cert_sha256, original.cert_sha256);
  EXPECT_NE(reissued.cert_md5, original.cert_md5);
  EXPECT_NE(shared_test_pki().at("client2").fingerprints.pubkey_sha256, original.pubkey_sha256);
}

TEST(TestPki, CertificatesHaveTheRequiredShape) {
  std::set<std::string> serials;
  for (const auto& [name, ic] : shared_test_pki().certs) {
    const x509_ptr cert = parse_one(ic.cert_pem);
    EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3) << name;
    EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256) << name;
    EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 256) << name;
    EXPECT_TRUE(serials.insert(serial_hex(cert.get())).second) << name;
    EXPECT_EQ(serial_hex(cert.get()).size(), 32u) << name;  // 128 bits
    EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr) << name;
    EXPECT_NE(X509_get0_authority_key_id(cert.get()), nullptr) << name;
    const evp_pkey_ptr key = read_key_pem(ic.key_pem);
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1) << name;
    EXPECT_EQ(ic.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << name;  // PKCS#8
  }
}

TEST(TestPki, CaCertificatesHaveBasicConstraints) {
  const x509_ptr ca = cert_named("ca");
  const x509_ptr intermediate = cert_named("intermediate");
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(intermediate.get()), 1);
  EXPECT_EQ(X509_get_pathlen(ca.get()), -1);
  EXPECT_EQ(X509_get_pathlen(intermediate.get()), 0);
  EXPECT_EQ(X509_check_ca(cert_named("server").get()), 0);
  // The server's authority key identifier is the intermediate's subject key identifier.
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert_named("server").get()),
                                  X509_get0_subject_key_id(intermediate.get())),
            0);
}

TEST(TestPki, LeavesCarryTheirExtendedKeyUsage) {
  EXPECT_NE(X509_get_extended_key_usage(cert_named("server").get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert_named("server").get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_NE(X509_get_extended_key_usage(cert_named("client1").get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert_named("client1").get()) & XKU_SSL_SERVER, 0u);
}

TEST(TestPki, ChainIsLeafThenIntermediates) {
  const test_pki& pki = shared_test_pki();
  EXPECT_EQ(pki.at("server").chain_pem,
            pki.at("server").cert_pem + pki.at("intermediate").cert_pem);
  EXPECT_EQ(pki.at("expired").chain_pem,
            pki.at("expired").cert_pem + pki.at("intermediate").cert_pem);
  EXPECT_EQ(pki.at("client1").chain_pem, pki.at("client1").cert_pem);
  EXPECT_EQ(pki.at("self-signed").chain_pem, pki.at("self-signed").cert_pem);
  EXPECT_EQ(pki.ca_pem(), pki.at("ca").cert_pem);
}

TEST(TestPki, UsesServerNamesFromOptions) {
  const test_pki pki = make_test_pki({.server_names = {"smtp.example.test"},
                                      .server_ips = {"192.0.2.25"},
                                      .validity = std::chrono::hours(48)});
  const x509_ptr cert = parse_one(pki.at("server").cert_pem);
  const alt_names names = subject_alt_names(cert.get());
  EXPECT_EQ(names.dns_names, std::vector<std::string>{"smtp.example.test"});
  EXPECT_EQ(names.ip_addresses, std::vector<std::string>{"192.0.2.25"});
  EXPECT_EQ(name_to_rfc2253(X509_get_subject_name(cert.get())),
            "CN=smtp.example.test,O=smtpsim test PKI");
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(cert.get()), nullptr), 1);
  std::time_t in_three_days = std::time(nullptr) + 3 * 24 * 3600;
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(cert.get()), &in_three_days), -1);
}

TEST(TestPki, RejectsAnInvalidServerAddress) {
  pki_options options;
  options.server_ips = {"not-an-ip"};
  EXPECT_THROW(make_test_pki(options), std::invalid_argument);
  EXPECT_EQ(openssl_error_text(), "");
}

TEST(TestPki, GeneratesQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const test_pki pki = make_test_pki();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  RecordProperty("make_test_pki_ms", static_cast<int>(ms));
  EXPECT_LT(ms, 5000);  // generous: sanitizer builds on a shared machine
  EXPECT_EQ(pki.certs.size(), shared_test_pki().certs.size());
}

TEST(WritePki, RoundTripsThroughLoadPki) {
  const temp_dir dir;
  const test_pki& pki = shared_test_pki();
  write_pki(pki, dir.path() / "pki");
  const test_pki loaded = load_pki(dir.path() / "pki");
  ASSERT_EQ(loaded.certs.size(), pki.certs.size());
  for (const auto& [name, ic] : pki.certs) {
    const issued_cert& back = loaded.at(name);
    EXPECT_EQ(back.purpose, ic.purpose) << name;
    EXPECT_EQ(back.cert_pem, ic.cert_pem) << name;
    EXPECT_EQ(back.chain_pem, ic.chain_pem) << name;
    EXPECT_EQ(back.key_pem, ic.key_pem) << name;
    EXPECT_EQ(back.fingerprints.cert_sha256, ic.fingerprints.cert_sha256) << name;
    EXPECT_EQ(back.fingerprints.pubkey_md5, ic.fingerprints.pubkey_md5) << name;
  }
  EXPECT_EQ(describe_pki(loaded), describe_pki(pki));
}

TEST(WritePki, WritesKeysOwnerOnlyAndChainsForLeaves) {
  const temp_dir dir;
  write_pki(shared_test_pki(), dir.path());
  for (const auto& [name, ic] : shared_test_pki().certs) {
    EXPECT_EQ(mode_of(dir.path() / (name + ".key")), 0600u) << name;
    EXPECT_TRUE(std::filesystem::exists(dir.path() / (name + ".pem"))) << name;
  }
  for (const char* leaf : {"server", "client1", "expired", "self-signed"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / (std::string(leaf) + "-chain.pem"))) << leaf;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "ca-chain.pem"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "intermediate-chain.pem"));
  std::ifstream in(dir.path() / "fingerprints.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), describe_pki(shared_test_pki()));
}

TEST(WritePki, ReplacesAWorldReadableKeyFile) {
  const temp_dir dir;
  const std::filesystem::path key = dir.path() / "server.key";
  std::ofstream(key) << "old";
  std::filesystem::permissions(key, std::filesystem::perms::owner_read |
                                        std::filesystem::perms::owner_write |
                                        std::filesystem::perms::others_read);
  write_pki(shared_test_pki(), dir.path());
  EXPECT_EQ(mode_of(key), 0600u);
}

TEST(LoadPki, RejectsAFolderWithoutCertificates) {
  const temp_dir dir;
  EXPECT_THROW(load_pki(dir.path()), std::runtime_error);
  EXPECT_THROW(load_pki(dir.path() / "missing"), std::filesystem::filesystem_error);
}

TEST(DescribePki, ListsPasteableFingerprintLinesForEveryCertificate) {
  const test_pki& pki = shared_test_pki();
  const std::string text = describe_pki(pki);
  EXPECT_NE(text.find("compatibility_level >= 3.6"), std::string::npos);
  EXPECT_NE(text.find("md5"), std::string::npos);
  EXPECT_NE(text.find("relay_clientcerts"), std::string::npos);
  const fingerprint_set& c1 = pki.at("client1").fingerprints;
  EXPECT_NE(text.find(c1.cert_sha256 + "  client1 sha256 cert\n"), std::string::npos);
  EXPECT_NE(text.find(c1.pubkey_sha256 + "  client1 sha256 pubkey\n"), std::string::npos);
  EXPECT_NE(text.find(c1.cert_md5 + "  client1 md5 cert\n"), std::string::npos);
  EXPECT_NE(text.find("CN=client1.test,O=smtpsim test PKI"), std::string::npos);

  // Every line is a comment or "<colon hex>  <name> <digest> <cert|pubkey>".
  const std::regex entry(
      "^([0-9A-F]{2}:)+[0-9A-F]{2}  [a-z0-9-]+ (md5|sha1|sha256) (cert|pubkey)$");
  std::istringstream lines(text);
  std::size_t entries = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("#")) {
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, entry)) << line;
    ++entries;
  }
  EXPECT_EQ(entries, pki.certs.size() * 6);
}

}  // namespace
}  // namespace smtpsim::tls
