#include "simulator/engine/client_engine.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "simulator/engine/io_detail.hpp"
#include "simulator/tls/cert_check.hpp"
#include "simulator/tls/context.hpp"
#include "simulator/tls/pki.hpp"

namespace smtpsim::engine {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using script::action;
using script::io_result;

using detail::deadline;
using detail::describe_error;
using detail::use_tuple;
using detail::version_of;

namespace {

constexpr std::size_t max_recorded_handshake_bytes = 4096;

// recording_stream is the TCP socket as seen by the TLS layer. While `recording` is set it keeps
// the first octets the peer sends, so a failed handshake can show what came instead of TLS
// (e.g. a plaintext "220" greeting on a wrapper port).
class recording_stream {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  explicit recording_stream(tcp::socket& sock) : sock_(sock) {}

  executor_type get_executor() { return sock_.get_executor(); }
  lowest_layer_type& lowest_layer() { return sock_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return sock_.lowest_layer(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(error_code, std::size_t)>(
        [this, buffers, started = false](auto& self, error_code ec = {},
                                         std::size_t n = 0) mutable {
          if (!started) {
            started = true;
            sock_.async_read_some(buffers, std::move(self));
            return;
          }
          if (recording && n > 0) {
            std::size_t left = n;
            for (auto it = asio::buffer_sequence_begin(buffers);
                 it != asio::buffer_sequence_end(buffers) && left > 0; ++it) {
              const std::size_t take = std::min(left, it->size());
              const std::size_t room = max_recorded_handshake_bytes -
                                       std::min(recorded.size(), max_recorded_handshake_bytes);
              recorded.append(static_cast<const char*>(it->data()), std::min(take, room));
              left -= take;
            }
          }
          self.complete(ec, n);
        },
        token, sock_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return sock_.async_write_some(buffers, std::forward<Token>(token));
  }

  bool recording = false;
  std::string recorded;

 private:
  tcp::socket& sock_;
};

using tls_stream = ssl::stream<recording_stream>;

// connection is one TCP connection, upgraded to TLS in place when asked.
struct connection {
  explicit connection(const asio::any_io_executor& ex) : sock(ex), rec(sock) {}

  tcp::socket sock;
  recording_stream rec;
  std::optional<ssl::context> ctx;
  std::unique_ptr<tls_stream> tls;
};

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

class case_player {
 public:
  case_player(script::client_runner& runner, const client_target& target)
      : runner_(runner), target_(target) {}

  asio::awaitable<void> play(std::function<void(script::case_outcome)> done) {
    auto ex = co_await asio::this_coro::executor;
    action a = runner_.start(script::clock::now());
    while (a.k != action::kind::done) {
      io_result r = co_await execute(ex, a);
      r.at = script::clock::now();
      a = runner_.resume(r);
    }
    if (conn_) {
      error_code ignored;
      conn_->sock.close(ignored);
    }
    done(runner_.take_result());
  }

 private:
  asio::awaitable<io_result> execute(asio::any_io_executor ex, const action& a) {
    switch (a.k) {
      case action::kind::connect:
        co_return co_await do_connect(ex, a);
      case action::kind::write:
        co_return co_await do_write(a);
      case action::kind::read:
        co_return co_await do_read(a);
      case action::kind::tls_handshake:
        co_return co_await do_handshake(a);
      case action::kind::tls_shutdown:
        co_return co_await do_shutdown(a);
      case action::kind::close:
        close();
        co_return io_result{};
      case action::kind::sleep: {
        asio::steady_timer t(ex);
        t.expires_after(a.timeout);
        co_await t.async_wait(use_tuple);
        co_return io_result{};
      }
      case action::kind::await_delivery:
        co_return co_await do_await_delivery(ex, a);
      case action::kind::done:
        break;
    }
    co_return io_result{};
  }

  void close() {
    if (conn_) {
      error_code ignored;
      conn_->sock.shutdown(tcp::socket::shutdown_both, ignored);
      conn_->sock.close(ignored);
      conn_.reset();
    }
  }

  asio::awaitable<io_result> do_connect(asio::any_io_executor ex, const action& a) {
    close();
    io_result r;
    auto it = target_.listeners.find(a.listener);
    if (it == target_.listeners.end()) {
      r.k = io_result::kind::error;
      r.error = "no address for listener " + a.listener;
      co_return r;
    }
    conn_ = std::make_unique<connection>(ex);
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(
        it->second.host, std::to_string(it->second.port), use_tuple);
    if (rec) {
      r.k = io_result::kind::error;
      r.error = "cannot resolve " + it->second.host + ": " + rec.message();
      conn_.reset();
      co_return r;
    }
    deadline d(conn_->sock, a.timeout);
    auto [ec, ep] = co_await asio::async_connect(conn_->sock, results, use_tuple);
    if (ec) {
      r.k = d.expired() ? io_result::kind::timeout : io_result::kind::error;
      r.error =
          d.expired() ? fmt::format("no connection within {} ms", a.timeout.count()) : ec.message();
      conn_.reset();
      co_return r;
    }
    error_code ignored;
    conn_->sock.set_option(tcp::no_delay(true), ignored);
    r.note = fmt::format("{}:{}", ep.address().to_string(), ep.port());
    co_return r;
  }

  asio::awaitable<io_result> do_write(const action& a) {
    io_result r;
    if (!conn_) {
      r.k = io_result::kind::error;
      r.error = "not connected";
      co_return r;
    }
    deadline d(conn_->sock, a.timeout);
    error_code ec;
    if (conn_->tls) {
      auto [e, n] = co_await asio::async_write(*conn_->tls, asio::buffer(a.bytes), use_tuple);
      ec = e;
    } else {
      auto [e, n] = co_await asio::async_write(conn_->sock, asio::buffer(a.bytes), use_tuple);
      ec = e;
    }
    if (ec) {
      r.k = d.expired() ? io_result::kind::timeout : io_result::kind::error;
      r.error = d.expired() ? "write timed out" : describe_error(ec);
    }
    co_return r;
  }

  asio::awaitable<io_result> do_read(const action& a) {
    io_result r;
    if (!conn_) {
      r.k = io_result::kind::eof;
      co_return r;
    }
    if (a.timeout.count() <= 0) {
      r.k = io_result::kind::timeout;
      co_return r;
    }
    deadline d(conn_->sock, a.timeout);
    std::size_t n = 0;
    error_code ec;
    if (conn_->tls) {
      auto [e, got] = co_await conn_->tls->async_read_some(asio::buffer(buf_), use_tuple);
      ec = e;
      n = got;
    } else {
      auto [e, got] = co_await conn_->sock.async_read_some(asio::buffer(buf_), use_tuple);
      ec = e;
      n = got;
    }
    if (n > 0) {
      r.k = io_result::kind::data;
      r.data.assign(buf_.data(), n);
      co_return r;
    }
    if (d.expired()) {
      r.k = io_result::kind::timeout;
      co_return r;
    }
    if (conn_->tls) {
      // A TLS 1.3 server that refuses the client's certificate says so in an alert after the
      // client has finished its handshake: the first read after it sees the alert.
      r.alert = tls::alert_received(conn_->tls->native_handle());
    }
    if (ec == asio::error::eof) {
      // Plaintext: a FIN. TLS: SSL_ERROR_ZERO_RETURN, i.e. the peer's close_notify came first.
      r.k = io_result::kind::eof;
      r.clean_eof = true;
    } else if (ec == ssl::error::stream_truncated) {
      // TCP closed under TLS without a close_notify.
      r.k = io_result::kind::eof;
      r.clean_eof = false;
    } else if (ec == asio::error::connection_reset) {
      r.k = io_result::kind::error;
      r.error = "connection reset by peer";
    } else {
      r.k = io_result::kind::error;
      r.error = describe_error(ec);
    }
    co_return r;
  }

  asio::awaitable<io_result> do_handshake(const action& a) {
    io_result r;
    if (!conn_) {
      r.k = io_result::kind::error;
      r.error = "not connected";
      co_return r;
    }
    tls::tls_config cfg;
    cfg.min_version = version_of(a.tls.min_version);
    cfg.max_version = version_of(a.tls.max_version);
    if (a.tls.ciphers) {
      cfg.cipher_list = *a.tls.ciphers;
    }
    cfg.trust_pem = target_.trust_pem;
    if (a.tls.client_cert) {
      if (target_.pki == nullptr || target_.pki->certs.count(*a.tls.client_cert) == 0) {
        r.k = io_result::kind::error;
        r.error = "no client certificate named " + *a.tls.client_cert;
        co_return r;
      }
      const auto& c = target_.pki->at(*a.tls.client_cert);
      cfg.cert_chain_pem = c.chain_pem.empty() ? c.cert_pem : c.chain_pem;
      cfg.key_pem = c.key_pem;
    }
    try {
      conn_->ctx.emplace(tls::make_client_context(cfg));
    } catch (const std::exception& e) {
      r.k = io_result::kind::error;
      r.error = e.what();
      co_return r;
    }
    conn_->tls = std::make_unique<tls_stream>(conn_->rec, *conn_->ctx);
    std::string sni = a.tls.sni.value_or("");
    if (is_ip_literal(sni)) {
      sni.clear();  // RFC 6066 §3: literal addresses are not permitted in server_name
    }
    tls::prepare_session(conn_->tls->native_handle(), sni);
    conn_->rec.recorded.clear();
    conn_->rec.recording = true;
    deadline d(conn_->sock, a.timeout);
    auto [ec] = co_await conn_->tls->async_handshake(ssl::stream_base::client, use_tuple);
    conn_->rec.recording = false;
    r.tls = tls::session_facts(conn_->tls->native_handle());
    if (!ec) {
      // checks.md A10: judged on what the server sent, against the target's CA and name.
      r.tls->checks = tls::check_server_certs(r.tls->certs, target_.trust_pem,
                                              a.tls.cert_name.value_or(""), sni);
      co_return r;
    }
    r.k = d.expired() ? io_result::kind::timeout : io_result::kind::error;
    r.error = d.expired() ? fmt::format("no handshake within {} ms", a.timeout.count())
                          : describe_error(ec);
    if (r.tls) {
      r.tls->error = r.error;
    }
    r.peer_bytes = std::move(conn_->rec.recorded);
    close();  // a failed handshake leaves the connection unusable
    co_return r;
  }

  asio::awaitable<io_result> do_shutdown(const action& a) {
    io_result r;
    if (!conn_ || !conn_->tls) {
      co_return r;
    }
    // async_shutdown sends our close_notify and then waits for the peer's; the deadline bounds
    // the wait, which does not matter to the scenario.
    deadline d(conn_->sock, a.timeout);
    co_await conn_->tls->async_shutdown(use_tuple);
    co_return r;
  }

  // `ex` refers to execute's own copy, which outlives this awaited call.
  asio::awaitable<io_result> do_await_delivery(const asio::any_io_executor& ex, const action& a) {
    io_result r;
    const auto until = script::clock::now() + a.timeout;
    asio::steady_timer t(ex);
    while (true) {
      if (target_.sink != nullptr) {
        r.messages = target_.sink->messages_with(a.bytes);
      }
      if (!r.messages.empty() || script::clock::now() >= until || target_.sink == nullptr) {
        break;
      }
      t.expires_after(std::chrono::milliseconds(20));
      co_await t.async_wait(use_tuple);
    }
    co_return r;
  }

  script::client_runner& runner_;
  const client_target& target_;
  std::unique_ptr<connection> conn_;
  std::array<char, 16384> buf_{};
};

}  // namespace

void async_run_client_case(asio::io_context& io, script::client_runner& runner,
                           const client_target& target,
                           std::function<void(script::case_outcome)> done) {
  auto player = std::make_shared<case_player>(runner, target);
  asio::co_spawn(
      io,
      [player, cb = std::move(done)]() mutable -> asio::awaitable<void> {
        co_await player->play(std::move(cb));
      },
      asio::detached);
}

}  // namespace smtpsim::engine
