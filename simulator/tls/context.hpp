#pragma once
// TLS contexts for both roles, built from a value type. Includes Asio's SSL headers: include this
// only where a context is made (engine, reference server driver), not from widely used headers.

#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "simulator/script/transcript.hpp"

using SSL = struct ssl_st;  // NOLINT

namespace smtpsim::tls {

enum class tls_version { tls1_0, tls1_1, tls1_2, tls1_3 };
std::optional<tls_version> parse_tls_version(std::string_view text);  // "1.2", "TLSv1.2"
std::string_view to_string(tls_version v);                            // "TLSv1.2"

// tls_config says how one side does TLS.
struct tls_config {
  std::string cert_chain_pem;  // our certificate (+ intermediates); empty: none
  std::string key_pem;
  std::string trust_pem;       // CA certificates to verify the peer with; empty: no trust store
  bool verify_peer = false;    // fail the handshake if the peer's chain does not verify
  // Server only: send a CertificateRequest; require a certificate.
  bool request_client_cert = false;
  bool require_client_cert = false;
  std::optional<tls_version> min_version;  // default: TLS 1.0 allowed where OpenSSL allows it
  std::optional<tls_version> max_version;
  std::string cipher_list;   // TLS <= 1.2 (OpenSSL syntax); empty: OpenSSL default
  std::string ciphersuites;  // TLS 1.3; empty: OpenSSL default
};

// make_client_context / make_server_context build an asio::ssl::context. Peer certificates are
// always accepted at the OpenSSL level unless verify_peer is set, so that the chain can be
// recorded and judged by the scenario rather than aborting the handshake. Throws
// std::runtime_error (with OpenSSL's error text) on a bad configuration, e.g. an unparsable PEM.
boost::asio::ssl::context make_client_context(const tls_config& config);
boost::asio::ssl::context make_server_context(const tls_config& config);

// prepare_session must be called once on each SSL* made from these contexts, before the
// handshake: it attaches the alert recorder and, for clients, sets SNI when `sni` is non-empty.
void prepare_session(SSL* ssl, const std::string& sni);

// session_facts reads what is known about a session after a handshake attempt (successful or
// not): version, cipher, SNI, the peer chain with fingerprints, verification result, alerts.
script::tls_facts session_facts(SSL* ssl);

// openssl_error_text drains OpenSSL's error queue into one line ("" when empty).
std::string openssl_error_text();

}  // namespace smtpsim::tls
