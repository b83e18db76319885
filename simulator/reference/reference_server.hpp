#pragma once
// reference_server runs server_sessions on real sockets: the built-in target of `smtpsim run`
// with no target, and `smtpsim serve`. It is a thin executor (style.md §7.1): every decision is
// the session's; the server accepts connections, reads, writes each write_bytes effect as one
// write with TCP_NODELAY, does the TLS handshakes (STARTTLS upgrades the connection in place,
// wrapper listeners start TLS on the first byte) and enforces timeouts.
//
// This header includes no Asio or OpenSSL header (pimpl), so it is cheap to include.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/reference/fault.hpp"
#include "simulator/reference/server_policy.hpp"
#include "simulator/reference/server_session.hpp"
#include "simulator/tls/pki.hpp"

namespace smtpsim::reference {

// listener_spec describes one listening socket.
struct listener_spec {
  std::string name;  // e.g. "starttls"; the key of reference_server::ports()
  listener_kind kind = listener_kind::starttls;
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the system picks a free port
  server_policy policy;
  fault_set faults;  // added to reference_options::faults for this listener only
};

// default_listeners returns the built-in target's listeners, all on 127.0.0.1 with free ports:
//   starttls         STARTTLS, public MX; a client certificate is asked for (optional, any is
//                    accepted) for fingerprint relay (smtpd_tls_ask_ccert)
//   wrapper          implicit TLS (RFC 8314), AUTH offered at once
//   tls_required     STARTTLS required (530 before TLS)
//   tls_unavailable  advertises STARTTLS, but its TLS is broken: 454
//   ccert_required   STARTTLS; a client certificate is requested and required, and must verify
//                    against the test CA; without one, or with an untrusted one, 554 to all but
//                    QUIT
//   plaintext_auth   STARTTLS, and AUTH offered before TLS (the deliberately weaker listener some
//                    state-reset checks need)
//   auth_required    STARTTLS, AUTH only after TLS, and MAIL before AUTH gets 530 5.7.0
//                    (a submission-style listener)
std::vector<listener_spec> default_listeners();

// relay_client_certs_of returns the fingerprints the built-in target lists for relay
// (reference_options::relay_client_certs): client1's certificate and public-key sha256
// fingerprints, and the sha256 fingerprint of the self-signed certificate (a listed certificate
// from no trusted CA). client2 is not listed. Throws std::out_of_range if one is missing.
std::vector<std::string> relay_client_certs_of(const tls::test_pki& pki);

// reference_options configures a reference_server.
struct reference_options {
  // listeners: empty means default_listeners().
  std::vector<listener_spec> listeners;
  // faults apply to every listener (the conformant server has none).
  fault_set faults;
  // pki provides the "server" certificate chain and key; if absent, one is generated at start().
  std::optional<tls::test_pki> pki;
  // cert_chain_pem / key_pem, if both set, replace the PKI's "server" certificate.
  std::string cert_chain_pem;
  std::string key_pem;
  std::string hostname = "mx.test";
  credentials login;  // user "alice@mx.test"; the caller chooses the password
  std::vector<std::string> local_domains = {"mx.test", "localhost"};
  // relay_client_certs: sha256 fingerprints (certificate or public key, colon hex) of client
  // certificates allowed to relay (Postfix relay_clientcerts).
  std::vector<std::string> relay_client_certs;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // max_connections open at once; more get "421 4.3.2 Too many connections" and are closed.
  std::size_t max_connections = 256;
  // on_delivery receives each accepted message, on the server's thread. Exceptions are logged
  // and ignored (the client has its 250 either way).
  std::function<void(const delivered_message&)> on_delivery;
  // on_log receives one line per notable event (connection, TLS, close, error), on the server's
  // thread. May be empty.
  std::function<void(std::string_view)> on_log;
};

// reference_server owns one thread with its own io_context. Not copyable or movable.
class reference_server {
 public:
  explicit reference_server(reference_options options);
  ~reference_server();  // calls stop()
  reference_server(const reference_server&) = delete;
  reference_server& operator=(const reference_server&) = delete;

  // start binds every listener, then starts the server thread. Throws std::system_error when
  // a listener cannot be bound, std::runtime_error on a bad TLS configuration, and
  // std::logic_error when called twice.
  void start();

  // ports returns each listener's bound port by name (after start()).
  std::map<std::string, std::uint16_t> ports() const;

  // port returns the bound port of listener `name`; throws std::out_of_range if unknown.
  std::uint16_t port(const std::string& name) const;

  // stop closes the listeners and every open connection, then joins the thread. Returns
  // promptly; idempotent.
  void stop();

  // connections_served counts accepted connections so far (any thread).
  std::size_t connections_served() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace smtpsim::reference
