#pragma once
// cert_check judges a server's certificates as a client sees them after a handshake (checks.md
// A10: tls.chain-complete, tls.cert-name, tls.cert-validity, tls.cert-purpose-sslserver). Every
// check is OpenSSL's own (X509_verify_cert, X509_check_host, X509_cmp_time, X509_check_purpose);
// no certificate logic is written here. This header includes no OpenSSL header.

#include <string>
#include <string_view>
#include <vector>

#include "simulator/script/transcript.hpp"

namespace smtpsim::tls {

// check_server_certs checks `chain` (DER, leaf first, as the server sent it: tls_facts::certs):
//   chain_complete     the chain verifies up to a root of `trust_pem`, using only the
//                      intermediates sent (validity and purpose are left to the other checks);
//                      unchecked when `trust_pem` is empty
//   name_matches       the leaf is for `name` (X509_check_host: a dNSName of the
//                      subjectAltName, the CN only when there is none; X509_check_ip_asc for an
//                      IP literal); unchecked when `name` is empty
//   cert_current       every certificate sent is inside its validity period now
//   purpose_sslserver  the leaf passes X509_check_purpose(X509_PURPOSE_SSL_SERVER) (the test of
//                      `openssl verify -purpose sslserver`: EKU serverAuth when an EKU is present)
//   sni_matches        the leaf is for `sni`, the name the client asked for, checked as
//                      name_matches is (tls.sni-selects-chain); unchecked when `sni` is empty
// An empty chain, or one that does not parse, leaves every check unset. Never throws for a bad
// certificate; `problems` holds one sentence per failed check.
script::cert_checks check_server_certs(const std::vector<std::string>& chain,
                                       std::string_view trust_pem, std::string_view name,
                                       std::string_view sni = {});

// der_chain converts a PEM chain (leaf first) to DER, the form of tls_facts::certs. Throws
// std::runtime_error when a PEM block does not parse.
std::vector<std::string> der_chain(std::string_view pem);

}  // namespace smtpsim::tls
