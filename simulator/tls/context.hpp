#pragma once
// TLS contexts for both roles, built from a value type. Includes Asio's SSL headers: include this
// only where a context is made (engine, reference server driver), not from widely used headers.

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "simulator/script/transcript.hpp"

using SSL = struct ssl_st;  // NOLINT

namespace smtpsim::tls {

enum class tls_version { tls1_0, tls1_1, tls1_2, tls1_3 };
// parse_tls_version accepts "1.0".."1.3", optionally prefixed by "TLSv" or "TLS" in any case,
// and "TLSv1" (Postfix's and OpenSSL's name for TLS 1.0); nullopt otherwise.
std::optional<tls_version> parse_tls_version(std::string_view text);
// to_string returns OpenSSL's protocol names, which tls_facts::version also uses: "TLSv1",
// "TLSv1.1", "TLSv1.2", "TLSv1.3".
std::string_view to_string(tls_version v);

// tls_config says how one side does TLS.
struct tls_config {
  std::string cert_chain_pem;  // our certificate (+ intermediates); empty: none
  std::string key_pem;
  std::string trust_pem;     // CA certificates to verify the peer with; empty: no trust store
  bool verify_peer = false;  // fail the handshake if the peer's chain does not verify
  // Server only: send a CertificateRequest; require a certificate.
  bool request_client_cert = false;
  bool require_client_cert = false;
  // min_version unset: OpenSSL's default floor, which at its default security level (1) rules
  // out TLS 1.0 and 1.1. Setting it below TLS 1.2 lowers the security level to 0 so that those
  // versions (and their SHA-1 handshake signatures) can be negotiated.
  std::optional<tls_version> min_version;
  std::optional<tls_version> max_version;
  std::string cipher_list;   // TLS <= 1.2 (OpenSSL syntax); empty: OpenSSL default
  std::string ciphersuites;  // TLS 1.3; empty: OpenSSL default
};

// make_client_context / make_server_context build an asio::ssl::context. Peer certificates are
// always accepted at the OpenSSL level unless verify_peer is set, so that the chain can be
// recorded and judged by the scenario rather than aborting the handshake; the verification result
// is still recorded for session_facts. verify_peer checks the chain only, not the host name.
// A server that requests a client certificate without a trust store accepts any certificate
// (Postfix-style fingerprint matching needs no trusted CA); with one, the trust store's subjects
// are the CertificateRequest's CA hints. Throws std::runtime_error (with OpenSSL's error text) on
// a bad configuration, e.g. an unparsable PEM or a key that does not match the certificate.
// Do not replace the verify callback (ssl::stream::set_verify_callback): it is the recorder.
boost::asio::ssl::context make_client_context(const tls_config& config);
boost::asio::ssl::context make_server_context(const tls_config& config);

// prepare_session must be called once on each SSL* made from these contexts, before the
// handshake: it attaches the recorders (alerts, CertificateRequest, received SNI, verification)
// and, for clients, sets SNI when `sni` is non-empty. The record is owned by the SSL. Calling it
// again starts a fresh record.
void prepare_session(SSL* ssl, const std::string& sni);

// session_facts reads what is known about a session after a handshake attempt (successful or
// not): version, cipher, SNI, the peer chain with fingerprints, verification result, alerts.
// Version and cipher are set once a ServerHello was processed. Alerts use the RFC 8446 names
// ("protocol_version", "certificate_expired"); the first alert per direction is kept unless a
// later one is fatal and it was not. `error` is left empty: the caller holds the handshake's
// error code, and after a failed handshake should also drain openssl_error_text(), since Asio
// takes only the first error off OpenSSL's per-thread queue.
script::tls_facts session_facts(SSL* ssl);

// alert_received returns the alert the peer sent on this connection so far (a fatal one wins
// over a warning), e.g. "certificate_required" after a TLS 1.3 handshake that the server
// refused once it had seen the client's (missing) certificate; "" if none.
std::string alert_received(const SSL* ssl);

// openssl_error_text drains OpenSSL's error queue into one line ("" when empty).
std::string openssl_error_text();

}  // namespace smtpsim::tls
