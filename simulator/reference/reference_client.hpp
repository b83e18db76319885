#pragma once
// run_reference_client runs one client_session on real sockets: `smtpsim send`. It is a thin
// executor (style.md §7.1): every decision is the session's. It connects (TCP_NODELAY), writes
// each write_bytes effect with one write call, upgrades the same socket in place for STARTTLS
// (or starts TLS at once in wrapper mode), puts a deadline on every connect, read, handshake and
// close, sends SNI, presents a client certificate when one is configured and the server asks,
// and checks the server certificate's chain (against ca_pem) and name (server_name, RFC 6125)
// for the session to judge.
//
// This header includes no Asio or OpenSSL header.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "simulator/reference/client_session.hpp"

namespace smtpsim::reference::client {

// client_options configures one run.
struct client_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  // server_name is sent as SNI (unless it is an IP literal, RFC 6066 §3) and is the name the
  // certificate must match under verify/secure.
  std::string server_name = "localhost";
  std::string ca_pem;    // trust anchors, PEM; empty: no trust store (no chain ever verifies)
  std::string cert_pem;  // our certificate chain, PEM; empty: none
  std::string key_pem;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // per connect/read/handshake
  client_config session;
  // on_log receives the transcript ("C: ", "S: " lines, TLS events, notes) when set.
  std::function<void(std::string_view)> on_log;
};

// client_result is how the run ended.
struct client_result {
  int exit_status = exit_not_delivered;  // exit_delivered or exit_not_delivered
  std::string message;                   // one line: why it ended
  bool used_tls = false;                 // a TLS session was established at some point
  bool retried_in_plaintext = false;
};

// run_reference_client runs the client to completion. Network problems and the server's
// answers end up in client_result; it throws std::runtime_error only for a bad local TLS
// configuration (an unparsable PEM, a key that does not match its certificate).
client_result run_reference_client(const client_options& options);

}  // namespace smtpsim::reference::client
