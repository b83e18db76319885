#pragma once
// The test PKI: a CA and every certificate the scenarios need, generated with the OpenSSL API at
// run time (never committed). ECDSA P-256 keys: fast to generate and to sign with.

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "simulator/tls/fingerprint.hpp"

namespace smtpsim::tls {

// issued_cert is one certificate with its key, in PEM.
struct issued_cert {
  std::string name;       // "server", "client1", ... (also the file stem)
  std::string purpose;    // one sentence: what scenarios use it for
  std::string cert_pem;   // the certificate alone
  std::string chain_pem;  // the certificate followed by its intermediates (no root); for a CA,
                          // the certificate alone
  std::string key_pem;    // PKCS#8, unencrypted
  fingerprint_set fingerprints;
};

// test_pki is the whole set. Names present (at least):
//   "ca"            root CA (self-signed, CA:TRUE)
//   "intermediate"  intermediate CA signed by "ca"
//   "server"        leaf for localhost, mx.test, 127.0.0.1, ::1; signed by "intermediate"
//   "client1", "client2"   client certificates (clientAuth) signed by "ca"
//   "client1-reissued"     a new certificate for client1's key (same public-key fingerprint)
//   "expired"       server leaf for the same names whose validity ended in the past
//   "wrong-name"    server leaf for wrong-name.test only
//   "self-signed"   self-signed server leaf for the same names
//   "other-ca", "untrusted"  a root peers are not given, and a server leaf it issued
//   "client-auth-only"       server leaf whose extendedKeyUsage is clientAuth only
//   "san-mismatch"           CN localhost, DNS subjectAltName san-only.test
//   "sni-alt"                server leaf for alt.mx.test only (the chain selected by SNI)
struct test_pki {
  std::map<std::string, issued_cert> certs;

  const issued_cert& at(const std::string& name) const;  // throws std::out_of_range
  const std::string& ca_pem() const { return at("ca").cert_pem; }
};

struct pki_options {
  std::vector<std::string> server_names = {"localhost", "mx.test"};
  std::vector<std::string> server_ips = {"127.0.0.1", "::1"};
  std::chrono::hours validity{24 * 825};
};

// make_test_pki generates the set in memory. Throws std::runtime_error with OpenSSL's error text
// if OpenSSL fails (a bug or a broken library, not a peer problem).
test_pki make_test_pki(const pki_options& options = {});

// write_pki writes <name>.pem (certificate), <name>-chain.pem (leaf + intermediates, for leaves),
// <name>.key (mode 0600) for each certificate, and fingerprints.txt (describe_pki). Creates `dir`
// if needed. Each file is created anew, so a key never inherits an older file's wider mode.
// Throws std::system_error on I/O failure.
void write_pki(const test_pki& pki, const std::filesystem::path& dir);

// load_pki reads a folder written by write_pki back (for targets that point at one): every
// <name>.pem other than *-chain.pem, with <name>-chain.pem (default: the certificate alone) and
// <name>.key (default: no key) when present. Purposes come from the built-in table; fingerprints
// are recomputed. Throws std::filesystem::filesystem_error / std::system_error on I/O failure and
// std::runtime_error when the folder holds no certificate or a file does not parse.
test_pki load_pki(const std::filesystem::path& dir);

// describe_pki renders, for each certificate: its name, purpose, subject, issuer, validity, and
// the six fingerprints in Postfix's colon-hex form. Descriptions are '#' comments; each
// fingerprint line is a ready relay_clientcerts table entry (key, then a note), e.g.
//   AB:CD:...:EF  client1 sha256 cert
// The header says which digest Postfix uses by default (sha256 at compatibility_level >= 3.6,
// md5 before).
std::string describe_pki(const test_pki& pki);

}  // namespace smtpsim::tls
