#pragma once
// The client engine executes a client_runner's actions on real sockets with Boost.Asio: TCP
// with TCP_NODELAY (one write = one segment for small writes), TLS upgraded in place on the same
// socket (STARTTLS) or from the first byte (wrapper mode), a deadline on every step, and the raw
// bytes a peer sends during a failed handshake captured as evidence. It owns no judgment: the
// runner decides everything.
//
// Deadlines use a timer that cancels the socket's pending operation rather than Beast's
// tcp_stream expiry, which closes the socket: a silence window must leave the connection usable.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/script/client_runner.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace smtpsim::tls {
struct test_pki;
}  // namespace smtpsim::tls

namespace smtpsim::engine {

// endpoint is where a listener of the target is: host (name or address) and port.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// delivery_source is the sink the engine asks for await_delivery actions: it returns the
// messages received so far that contain `token`. Called on the engine's thread.
class delivery_source {
 public:
  virtual ~delivery_source() = default;
  virtual std::vector<std::string> messages_with(std::string_view token) = 0;
};

struct client_target {
  std::map<std::string, endpoint, std::less<>> listeners;
  const tls::test_pki* pki = nullptr;  // client certificates by name; may be null
  std::string trust_pem;               // to record whether the server chain verifies
  delivery_source* sink = nullptr;     // may be null
};

// async_run_client_case starts playing `runner` against `target` on `io` and calls `done` with
// the outcome when the case is over. `runner` and `target` must stay alive until then. Stopping
// `io` abandons the case (its frame is destroyed with the io_context; `done` is not called).
void async_run_client_case(boost::asio::io_context& io, script::client_runner& runner,
                           const client_target& target,
                           std::function<void(script::case_outcome)> done);

}  // namespace smtpsim::engine
