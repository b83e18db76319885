#include "simulator/reference/reference_client.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "simulator/tls/context.hpp"

namespace smtpsim::reference::client {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// max_close_wait bounds the wait for the server's answer to our close_notify.
constexpr milliseconds max_close_wait{2000};
// max_logged_line is the most of one transcript line printed.
constexpr std::size_t max_logged_line = 300;

bool is_ip_literal(const std::string& name) {
  error_code ec;
  (void)asio::ip::make_address(name, ec);
  return !ec;
}

// name_matches checks the leaf against the reference identity (RFC 6125): DNS names against the
// DNS SANs (the CN only when there is no DNS SAN, OpenSSL's rule), wildcards only as a whole
// left-most label; IP literals against the IP SANs.
bool name_matches(X509* leaf, const std::string& name) {
  if (leaf == nullptr || name.empty()) {
    return false;
  }
  if (is_ip_literal(name)) {
    return X509_check_ip_asc(leaf, name.c_str(), 0) == 1;
  }
  return X509_check_host(leaf, name.data(), name.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                         nullptr) == 1;
}

// escape renders received or sent octets for the transcript.
std::string escape(std::string_view line) {
  std::string out;
  for (char c : line.substr(0, max_logged_line)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  if (line.size() > max_logged_line) {
    out += fmt::format("... ({} octets)", line.size());
  }
  return out;
}

class driver {
 public:
  driver(asio::io_context& io, const client_options& options)
      : io_(io),
        options_(options),
        ctx_(tls::make_client_context(make_tls_config(options))),
        sock_(io),
        timer_(io),
        session_(options.session),
        buf_(16 * 1024) {}

  asio::awaitable<void> run();
  const client_result& result() const { return result_; }

 private:
  static tls::tls_config make_tls_config(const client_options& o) {
    tls::tls_config c;
    c.cert_chain_pem = o.cert_pem;
    c.key_pem = o.key_pem;
    c.trust_pem = o.ca_pem;
    c.verify_peer = false;  // the session judges the chain and the name, after the handshake
    return c;
  }

  asio::awaitable<bool> connect();
  asio::awaitable<void> apply(client_effects initial);
  asio::awaitable<client_effects> write(const std::string& bytes);
  asio::awaitable<client_effects> handshake();
  asio::awaitable<void> close(bool send_close_notify);
  void arm(milliseconds d);
  void disarm();
  void log(std::string_view what) const;
  void log_bytes(std::string_view prefix, std::string_view bytes) const;
  void finish(int status, std::string message);

  asio::io_context& io_;
  const client_options& options_;
  ssl::context ctx_;
  tcp::socket sock_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  client_session session_;
  std::vector<char> buf_;
  bool finished_ = false;
  client_result result_;
};

void driver::log(std::string_view what) const {
  if (options_.on_log) {
    options_.on_log(what);
  }
}

void driver::log_bytes(std::string_view prefix, std::string_view bytes) const {
  if (!options_.on_log) {
    return;
  }
  const char* tag = tls_ ? "[tls] " : "";
  while (!bytes.empty()) {
    const std::size_t lf = bytes.find('\n');
    const std::size_t n = lf == std::string_view::npos ? bytes.size() : lf + 1;
    std::string_view line = bytes.substr(0, n);
    bytes.remove_prefix(n);
    if (line.ends_with("\r\n")) {
      line.remove_suffix(2);
    } else if (line.ends_with('\n')) {
      line.remove_suffix(1);
    }
    options_.on_log(fmt::format("{}{}{}", prefix, tag, escape(line)));
  }
}

void driver::finish(int status, std::string message) {
  finished_ = true;
  result_.exit_status = status;
  result_.message = std::move(message);
  result_.retried_in_plaintext = session_.retried_in_plaintext();
}

// arm starts the watchdog of the next I/O operation: when it fires, the socket's pending
// operations are cancelled and timed_out_ is set. The generation guards against a handler that
// was already queued when the operation completed.
void driver::arm(milliseconds d) {
  timed_out_ = false;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_after(d);
  timer_.async_wait([this, generation](const error_code& ec) {
    if (ec || generation != timer_generation_) {
      return;
    }
    timed_out_ = true;
    error_code ignored;
    sock_.cancel(ignored);
  });
}

void driver::disarm() {
  ++timer_generation_;
  timer_.cancel();
}

asio::awaitable<bool> driver::connect() {
  tcp::resolver resolver(io_);
  arm(options_.timeout);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(
      options_.host, std::to_string(options_.port), tcp::resolver::numeric_service, use_tuple);
  disarm();
  if (resolve_error || timed_out_) {
    finish(exit_not_delivered, fmt::format("cannot resolve {}: {}", options_.host,
                                           timed_out_ ? "timed out" : resolve_error.message()));
    co_return false;
  }
  arm(options_.timeout);
  auto [connect_error, endpoint] = co_await asio::async_connect(sock_, endpoints, use_tuple);
  disarm();
  if (connect_error || timed_out_) {
    finish(exit_not_delivered,
           fmt::format("cannot connect to {}:{}: {}", options_.host, options_.port,
                       timed_out_ ? "timed out" : connect_error.message()));
    co_return false;
  }
  error_code ec;
  sock_.set_option(tcp::no_delay(true), ec);  // each write goes out as its own segment
  log(fmt::format("* connected to {}:{}", endpoint.address().to_string(), endpoint.port()));
  co_return true;
}

asio::awaitable<void> driver::run() {
  const bool connected = co_await connect();
  if (!connected) {
    co_return;
  }
  co_await apply(session_.on_connected());
  while (!finished_) {
    arm(options_.timeout);
    error_code read_error;
    std::size_t n = 0;
    if (tls_) {
      auto [e, count] = co_await tls_->async_read_some(asio::buffer(buf_), use_tuple);
      read_error = e;
      n = count;
    } else {
      auto [e, count] = co_await sock_.async_read_some(asio::buffer(buf_), use_tuple);
      read_error = e;
      n = count;
    }
    disarm();
    if (timed_out_) {
      log("* timeout");
      co_await apply(session_.on_timeout());
      continue;
    }
    if (read_error) {
      log(fmt::format("* connection ended: {}", read_error.message()));
      co_await apply(session_.on_closed(read_error.message()));
      continue;
    }
    const std::string_view bytes(buf_.data(), n);
    log_bytes("S: ", bytes);
    co_await apply(session_.on_bytes(bytes));
  }
}

asio::awaitable<void> driver::apply(client_effects initial) {
  std::deque<client_effect> queue(std::make_move_iterator(initial.begin()),
                                  std::make_move_iterator(initial.end()));
  while (!queue.empty() && !finished_) {
    client_effect next = std::move(queue.front());
    queue.pop_front();
    client_effects more;
    if (auto* w = std::get_if<write_bytes>(&next)) {
      more = co_await write(w->bytes);
    } else if (std::holds_alternative<start_tls>(next)) {
      more = co_await handshake();
    } else if (auto* c = std::get_if<close_connection>(&next)) {
      const bool notify = c->send_close_notify;
      co_await close(notify);
    } else if (std::holds_alternative<reconnect_plaintext>(next)) {
      sock_ = tcp::socket(io_);
      const bool connected = co_await connect();
      if (connected) {
        more = session_.on_connected();
      }
    } else if (auto* f = std::get_if<finished>(&next)) {
      finish(f->exit_status, f->message);
    } else if (auto* n = std::get_if<note>(&next)) {
      log("* " + n->text);
    }
    for (auto it = more.rbegin(); it != more.rend(); ++it) {
      queue.push_front(std::move(*it));
    }
  }
}

asio::awaitable<client_effects> driver::write(const std::string& bytes) {
  // One buffer, one write: the segments a client sends are what the harness judges.
  log_bytes("C: ", bytes);
  arm(options_.timeout);
  error_code ec;
  if (tls_) {
    auto [e, n] = co_await asio::async_write(*tls_, asio::buffer(bytes), use_tuple);
    ec = e;
    (void)n;
  } else {
    auto [e, n] = co_await asio::async_write(sock_, asio::buffer(bytes), use_tuple);
    ec = e;
    (void)n;
  }
  disarm();
  if (ec || timed_out_) {
    const std::string why = timed_out_ ? std::string("write timed out") : ec.message();
    log(fmt::format("* write failed: {}", why));
    co_return session_.on_closed(why);
  }
  co_return client_effects{};
}

asio::awaitable<client_effects> driver::handshake() {
  tls_.emplace(sock_, ctx_);
  SSL* ssl = tls_->native_handle();
  // RFC 6066 §3: a literal IP address is not permitted as SNI.
  tls::prepare_session(ssl,
                       is_ip_literal(options_.server_name) ? std::string() : options_.server_name);
  log("* TLS handshake");
  arm(options_.timeout);
  auto [handshake_error] = co_await tls_->async_handshake(ssl::stream_base::client, use_tuple);
  disarm();
  if (handshake_error || timed_out_) {
    std::string why = timed_out_ ? std::string("handshake timed out") : handshake_error.message();
    const std::string more = tls::openssl_error_text();
    if (!timed_out_ && !more.empty() && why.find(more) == std::string::npos) {
      why += " (" + more + ")";
    }
    tls_.reset();
    co_return session_.on_tls_failed(why);
  }
  const script::tls_facts facts = tls::session_facts(ssl);
  tls_result r;
  r.version = facts.version;
  r.cipher = facts.cipher;
  r.chain_ok = facts.peer_verified;
  r.name_ok = name_matches(SSL_get0_peer_certificate(ssl), options_.server_name);
  if (!r.chain_ok) {
    r.detail = facts.verify_error.empty()
                   ? std::string(options_.ca_pem.empty() ? "no trust anchors (--ca-file)"
                                                         : "chain not verified")
                   : facts.verify_error;
  }
  if (!r.name_ok) {
    const std::string name_problem =
        fmt::format("certificate does not match \"{}\"", options_.server_name);
    r.detail = r.detail.empty() ? name_problem : r.detail + "; " + name_problem;
  }
  result_.used_tls = true;
  co_return session_.on_tls_established(r);
}

asio::awaitable<void> driver::close(bool send_close_notify) {
  if (tls_ && send_close_notify) {
    // RFC 8314 §3.4: close_notify before the TCP close. async_shutdown also waits for the
    // server's close_notify (or EOF); bound that wait.
    log("* TLS close_notify");
    arm(std::min(options_.timeout, max_close_wait));
    auto [shutdown_error] = co_await tls_->async_shutdown(use_tuple);
    (void)shutdown_error;
    disarm();
  }
  tls_.reset();
  error_code ec;
  sock_.shutdown(tcp::socket::shutdown_both, ec);
  sock_.close(ec);
  log("* closed");
}

}  // namespace

client_result run_reference_client(const client_options& options) {
  asio::io_context io;
  driver d(io, options);  // throws on a bad TLS configuration
  std::exception_ptr failure;
  asio::co_spawn(io, d.run(), [&failure](std::exception_ptr e) { failure = std::move(e); });
  io.run();
  if (failure) {
    std::rethrow_exception(failure);
  }
  client_result r = d.result();
  if (r.message.empty()) {
    r.message = "ended without a result";
  }
  return r;
}

}  // namespace smtpsim::reference::client
