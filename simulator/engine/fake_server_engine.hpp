#pragma once
// fake_server_listener runs the fake server of one client-side case on a free loopback port:
// it accepts the client's connections (a client may reconnect, e.g. in plaintext after a failed
// handshake), plays a script::fake_server_session on each, and executes its effects with Asio
// and OpenSSL: each write as ONE write with TCP_NODELAY, waits that keep reading, the server
// side of STARTTLS upgraded in place or TLS from the first byte (wrapper mode) with the chosen
// certificate, and the TLS faults (FIN, RST, plaintext, alert after the ClientHello). It owns
// no judgment. One thread per listener; this header includes no Asio or OpenSSL header.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "simulator/script/fake_server.hpp"
#include "simulator/script/transcript.hpp"

namespace smtpsim::tls {
struct test_pki;
}  // namespace smtpsim::tls

namespace smtpsim::engine {

struct fake_server_options {
  script::fake_server_config config;
  const tls::test_pki* pki = nullptr;             // must outlive the listener; required for TLS
  std::string bind = "127.0.0.1";                 // loopback only
  std::chrono::milliseconds idle_timeout{15000};  // no bytes from the client
  std::chrono::milliseconds handshake_timeout{10000};  // first byte to finished handshake
  std::size_t max_connections = 10;                    // per case; more are closed at once
};

// fake_server_result is everything the listener saw.
struct fake_server_result {
  std::vector<script::connection_record> connections;  // in accept order
  script::transcript log;                              // every byte and event, all connections
  std::vector<script::tls_facts> tls;                  // one per handshake attempt
  std::size_t refused_connections = 0;                 // over max_connections
};

class fake_server_listener {
 public:
  // Binds a free port and starts serving. Throws std::runtime_error if the port cannot be bound
  // or the TLS configuration is invalid.
  explicit fake_server_listener(fake_server_options options);
  ~fake_server_listener();
  fake_server_listener(const fake_server_listener&) = delete;
  fake_server_listener& operator=(const fake_server_listener&) = delete;

  std::uint16_t port() const;
  std::size_t connections_accepted() const;
  std::size_t connections_open() const;

  // stop ends serving (open connections are closed) and returns the record. Call it once.
  fake_server_result stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace smtpsim::engine
