#include "simulator/reference/reference_server.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "simulator/reference/server_tls.hpp"
#include "simulator/tls/context.hpp"
#include "simulator/tls/fingerprint.hpp"

namespace smtpsim::reference {

std::vector<listener_spec> default_listeners() {
  std::vector<listener_spec> out;
  auto add = [&out](std::string name, listener_kind kind, server_policy policy) {
    listener_spec spec;
    spec.name = std::move(name);
    spec.kind = kind;
    spec.policy = policy;
    out.push_back(std::move(spec));
  };
  server_policy mx;
  mx.public_mx = true;
  mx.ask_client_cert = true;
  add("starttls", listener_kind::starttls, mx);
  add("wrapper", listener_kind::wrapper, {});
  server_policy required;
  required.tls_required = true;
  add("tls_required", listener_kind::starttls, required);
  server_policy unavailable;
  unavailable.tls_available = false;
  add("tls_unavailable", listener_kind::starttls, unavailable);
  server_policy ccert;
  ccert.require_client_cert = true;
  add("ccert_required", listener_kind::starttls, ccert);
  server_policy weak;
  weak.plaintext_auth = true;
  add("plaintext_auth", listener_kind::starttls, weak);
  server_policy submission;
  submission.auth_required = true;
  add("auth_required", listener_kind::starttls, submission);
  return out;
}

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// tls_record_handshake is the first octet of a TLS handshake record (RFC 8446 §5.1).
constexpr unsigned char tls_record_handshake = 0x16;
// max_sniff is the most plaintext taken at once when the client does not speak TLS.
constexpr std::size_t max_sniff = 64 * 1024;
// close_notify_wait bounds the wait for the peer's answer to our close_notify.
constexpr milliseconds close_notify_wait{2000};
// linger_on_close bounds how long unread input is drained after our FIN, so that it does not
// turn the close into a RST that could destroy our last reply at the client.
constexpr milliseconds linger_on_close{1000};

struct x509_deleter {
  void operator()(X509* x) const { X509_free(x); }
};

tls_peer_info peer_info(SSL* ssl) {
  tls_peer_info info;
  info.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    info.cipher = SSL_CIPHER_get_name(cipher);
  }
  std::unique_ptr<X509, x509_deleter> cert(SSL_get1_peer_certificate(ssl));
  if (cert) {
    tls::fingerprint_set fp = tls::fingerprints_of(cert.get());
    info.client_cert_presented = true;
    info.client_cert_sha256 = fp.cert_sha256;
    info.client_pubkey_sha256 = fp.pubkey_sha256;
    info.client_cert_md5 = fp.cert_md5;
    info.client_pubkey_md5 = fp.pubkey_md5;
    // The verify callback accepts any chain and leaves its verdict here (tls/context.hpp).
    info.client_cert_trusted = SSL_get_verify_result(ssl) == X509_V_OK;
  }
  return info;
}

// server_names are the names the server answers to in SNI: its host name and local domains.
std::vector<std::string> server_names(const reference_options& o) {
  std::vector<std::string> names = o.local_domains;
  names.push_back(o.hostname);
  names.emplace_back(sni_alt_name);
  return names;
}

// listener_state is one bound listener.
struct listener_state {
  listener_spec spec;
  fault_set faults;
  std::shared_ptr<ssl::context> tls;  // null: the listener has no usable TLS
  // sni: installed in `tls` (its callback argument); outlives every connection (stop()).
  std::unique_ptr<sni_policy> sni;
  std::shared_ptr<ssl::context> alt_tls;  // the chain for sni_alt_name; null without one
  std::unique_ptr<tcp::acceptor> acceptor;
  std::uint16_t port = 0;
};

// connection executes one server_session's effects on a socket.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket sock, std::shared_ptr<ssl::context> ctx, session_config config,
             const reference_options& options, std::string name)
      : sock_(std::move(sock)),
        timer_(sock_.get_executor()),
        ctx_(std::move(ctx)),
        session_(std::move(config)),
        options_(options),
        name_(std::move(name)),
        buf_(16 * 1024) {}

  asio::awaitable<void> run();

 private:
  asio::awaitable<void> apply(effects initial);
  asio::awaitable<bool> write(const std::string& bytes);
  asio::awaitable<effects> begin_tls(start_tls request);
  asio::awaitable<effects> collect_window(milliseconds duration);
  asio::awaitable<void> close(bool send_close_notify);
  std::string read_plaintext();
  void arm(milliseconds d);
  void disarm();
  void log(std::string_view what) const;

  tcp::socket sock_;
  std::optional<ssl::stream<tcp::socket&>> tls_;  // engaged while TLS is (being) used
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  std::shared_ptr<ssl::context> ctx_;
  server_session session_;
  const reference_options& options_;
  std::string name_;
  std::vector<char> buf_;
  bool done_ = false;
};

void connection::log(std::string_view what) const {
  if (options_.on_log) {
    options_.on_log(fmt::format("{} {}", name_, what));
  }
}

// arm starts the watchdog of the next I/O operation: when it fires, the socket's pending
// operations are cancelled and timed_out_ is set. The generation guards against a handler that
// was already queued when the operation completed.
void connection::arm(milliseconds d) {
  timed_out_ = false;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_after(d);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_) {
      return;
    }
    self->timed_out_ = true;
    error_code ignored;
    self->sock_.cancel(ignored);
  });
}

void connection::disarm() {
  ++timer_generation_;
  timer_.cancel();
}

asio::awaitable<void> connection::run() {
  error_code ec;
  sock_.set_option(tcp::no_delay(true), ec);  // each write goes out as its own segment
  co_await apply(session_.on_connect());
  while (!done_) {
    arm(options_.idle_timeout);
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
      log("idle timeout");
      co_await apply(session_.on_idle_timeout());
      break;
    }
    if (read_error) {
      log(fmt::format("connection ended by the client: {}", read_error.message()));
      break;
    }
    co_await apply(session_.on_data(std::string_view(buf_.data(), n)));
  }
  sock_.close(ec);
}

asio::awaitable<void> connection::apply(effects initial) {
  std::deque<effect> queue(std::make_move_iterator(initial.begin()),
                           std::make_move_iterator(initial.end()));
  while (!queue.empty() && !done_) {
    effect next = std::move(queue.front());
    queue.pop_front();
    effects more;
    if (auto* w = std::get_if<write_bytes>(&next)) {
      const bool ok = co_await write(w->bytes);
      if (!ok) {
        log("write failed");
        done_ = true;
      }
    } else if (auto* s = std::get_if<start_tls>(&next)) {
      more = co_await begin_tls(*s);
    } else if (auto* r = std::get_if<read_window>(&next)) {
      more = co_await collect_window(r->duration);
    } else if (auto* c = std::get_if<close_connection>(&next)) {
      const bool notify = c->send_close_notify;
      co_await close(notify);
      done_ = true;
    } else if (auto* d = std::get_if<deliver>(&next)) {
      log(fmt::format("delivered {} ({} octets)", d->message.queue_id, d->message.content.size()));
      if (options_.on_delivery) {
        try {
          options_.on_delivery(d->message);
        } catch (const std::exception& e) {
          log(fmt::format("on_delivery threw: {}", e.what()));
        }
      }
    }
    for (auto it = more.rbegin(); it != more.rend(); ++it) {
      queue.push_front(std::move(*it));
    }
  }
}

asio::awaitable<bool> connection::write(const std::string& bytes) {
  // One buffer, one write: `STARTTLS\r\nRSET\r\n`-style tests depend on exact segments.
  arm(options_.idle_timeout);
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
  co_return !ec && !timed_out_;
}

std::string connection::read_plaintext() {
  // Peek first, then take whole lines up to one that starts like a TLS record: a ClientHello
  // that arrived in the same read as injected plaintext stays for the handshake.
  error_code ec;
  const std::size_t available = sock_.available(ec);
  std::string peeked(std::clamp<std::size_t>(available, 1, max_sniff), '\0');
  const std::size_t n = sock_.receive(asio::buffer(peeked), tcp::socket::message_peek, ec);
  if (ec || n == 0) {
    return {};
  }
  peeked.resize(n);
  std::size_t take = 0;
  while (take < n && static_cast<unsigned char>(peeked[take]) != tls_record_handshake) {
    const std::size_t lf = peeked.find('\n', take);
    take = lf == std::string::npos ? n : lf + 1;
  }
  if (take == 0) {
    return {};
  }
  std::string raw(take, '\0');
  const std::size_t got = sock_.receive(asio::buffer(raw), 0, ec);
  raw.resize(ec ? 0 : got);
  return raw;
}

asio::awaitable<effects> connection::begin_tls(start_tls request) {
  if (!ctx_) {
    co_return session_.on_tls_failed("TLS is not configured on this listener", {});
  }
  tls_.emplace(sock_, *ctx_);
  tls::prepare_session(tls_->native_handle(), std::string());
  if (request.sniff_plaintext) {
    // Only faults ask for this: look at the first octet before OpenSSL consumes it.
    arm(options_.handshake_timeout);
    auto [wait_error] = co_await sock_.async_wait(tcp::socket::wait_read, use_tuple);
    disarm();
    unsigned char first = 0;
    error_code peek_error;
    std::size_t n = 0;
    if (!wait_error && !timed_out_) {
      n = sock_.receive(asio::buffer(&first, 1), tcp::socket::message_peek, peek_error);
    }
    if (wait_error || timed_out_ || peek_error || n == 0) {
      tls_.reset();
      log("no TLS handshake from the client");
      co_return session_.on_tls_failed("no bytes from the client", {});
    }
    if (first != tls_record_handshake) {
      tls_.reset();
      std::string raw = read_plaintext();
      log("the client sent plaintext instead of a TLS handshake");
      co_return session_.on_tls_failed("the client sent plaintext instead of a TLS handshake", raw);
    }
  }
  arm(options_.handshake_timeout);
  auto [handshake_error] = co_await tls_->async_handshake(ssl::stream_base::server, use_tuple);
  disarm();
  if (handshake_error || timed_out_) {
    std::string why = timed_out_ ? std::string("handshake timed out") : handshake_error.message();
    log(fmt::format("TLS handshake failed: {}", why));
    tls_.reset();
    co_return session_.on_tls_failed(why, {});
  }
  tls_peer_info info = peer_info(tls_->native_handle());
  log(fmt::format("TLS established: {} {}{}", info.version, info.cipher,
                  info.client_cert_presented ? ", client certificate " + info.client_cert_sha256
                                             : std::string()));
  co_return session_.on_tls_established(info);
}

asio::awaitable<effects> connection::collect_window(milliseconds duration) {
  std::string collected;
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (collected.size() < max_sniff) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    arm(left);
    auto [wait_error] = co_await sock_.async_wait(tcp::socket::wait_read, use_tuple);
    disarm();
    if (wait_error || timed_out_) {
      break;
    }
    std::string raw = read_plaintext();
    if (raw.empty()) {
      break;  // end of stream, or a ClientHello: leave it for the handshake
    }
    collected += raw;
  }
  co_return session_.on_window_closed(collected);
}

asio::awaitable<void> connection::close(bool send_close_notify) {
  if (tls_ && send_close_notify) {
    // RFC 8314 §3.4: close_notify, then the TCP close. async_shutdown also waits for the
    // peer's close_notify or EOF; bound that wait.
    arm(close_notify_wait);
    auto [shutdown_error] = co_await tls_->async_shutdown(use_tuple);
    (void)shutdown_error;
    disarm();
  }
  error_code ec;
  sock_.shutdown(tcp::socket::shutdown_send, ec);
  const auto deadline = std::chrono::steady_clock::now() + linger_on_close;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    arm(left);
    auto [read_error, n] = co_await sock_.async_read_some(asio::buffer(buf_), use_tuple);
    (void)n;
    disarm();
    if (read_error || timed_out_) {
      break;
    }
  }
  sock_.close(ec);
  log("closed");
}

asio::awaitable<void> refuse(tcp::socket sock) {
  // The limit of concurrent connections is reached (RFC 5321 §3.8: 421 and close).
  static constexpr std::string_view busy = "421 4.3.2 Too many connections\r\n";
  auto [ec, n] = co_await asio::async_write(sock, asio::buffer(busy), use_tuple);
  (void)ec;
  (void)n;
  error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

}  // namespace

std::vector<std::string> relay_client_certs_of(const tls::test_pki& pki) {
  return {pki.at("client1").fingerprints.cert_sha256, pki.at("client1").fingerprints.pubkey_sha256,
          pki.at("self-signed").fingerprints.cert_sha256};
}

struct reference_server::impl {
  explicit impl(reference_options o) : options(std::move(o)) {}

  asio::awaitable<void> accept_loop(listener_state& l);
  asio::awaitable<void> serve(std::shared_ptr<connection> c);
  void log(std::string_view what) const {
    if (options.on_log) {
      options.on_log(what);
    }
  }

  reference_options options;
  std::unique_ptr<asio::io_context> io;
  std::vector<std::unique_ptr<listener_state>> listeners;
  std::map<std::string, std::uint16_t> ports;
  std::thread thread;
  std::size_t active = 0;  // open connections; touched on the server thread only
  std::atomic<std::size_t> served{0};
  std::uint64_t next_id = 0;
  std::shared_ptr<relay_memory> memory = std::make_shared<relay_memory>();
  bool started = false;
  bool stopped = false;
};

asio::awaitable<void> reference_server::impl::serve(std::shared_ptr<connection> c) {
  struct release {
    std::size_t& active;
    ~release() { --active; }
  } guard{active};
  co_await c->run();
}

asio::awaitable<void> reference_server::impl::accept_loop(listener_state& l) {
  auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [ec, sock] = co_await l.acceptor->async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !l.acceptor->is_open()) {
        co_return;
      }
      // E.g. EMFILE: back off instead of spinning.
      log(fmt::format("{}: accept failed: {}", l.spec.name, ec.message()));
      asio::steady_timer pause(executor, milliseconds(50));
      auto [pause_error] = co_await pause.async_wait(use_tuple);
      (void)pause_error;
      continue;
    }
    ++served;
    if (active >= options.max_connections) {
      log(fmt::format("{}: too many connections", l.spec.name));
      asio::co_spawn(executor, refuse(std::move(sock)), asio::detached);
      continue;
    }
    ++active;
    const std::uint64_t id = ++next_id;
    error_code endpoint_error;
    const tcp::endpoint peer = sock.remote_endpoint(endpoint_error);
    session_config config;
    config.hostname = options.hostname;
    config.listener_name = l.spec.name;
    config.kind = l.spec.kind;
    config.policy = l.spec.policy;
    config.faults = l.faults;
    config.login = options.login;
    config.local_domains = options.local_domains;
    config.relay_client_certs = options.relay_client_certs;
    config.memory = memory;
    config.peer_ip = endpoint_error ? std::string("unknown") : peer.address().to_string();
    config.connection_id = id;
    std::string name = fmt::format("[{} #{} {}]", l.spec.name, id, config.peer_ip);
    log(fmt::format("{} connected", name));
    auto c = std::make_shared<connection>(std::move(sock), l.tls, std::move(config), options,
                                          std::move(name));
    asio::co_spawn(executor, serve(std::move(c)), [this](const std::exception_ptr& e) {
      if (!e) {
        return;
      }
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log(fmt::format("connection failed: {}", ex.what()));
      }
    });
  }
}

reference_server::reference_server(reference_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

reference_server::~reference_server() { stop(); }

void reference_server::start() {
  impl& s = *impl_;
  if (s.started) {
    throw std::logic_error("reference_server::start called twice");
  }
  s.started = true;
  reference_options& o = s.options;
  if (o.listeners.empty()) {
    o.listeners = default_listeners();
  }
  std::string chain = o.cert_chain_pem;
  std::string key = o.key_pem;
  if (chain.empty() || key.empty()) {
    if (!o.pki) {
      o.pki = tls::make_test_pki();
    }
    const tls::issued_cert& server = o.pki->at("server");
    chain = server.chain_pem;
    key = server.key_pem;
  }

  s.io = std::make_unique<asio::io_context>(1);
  for (const listener_spec& spec : o.listeners) {
    if (s.ports.count(spec.name) != 0) {
      throw std::invalid_argument(fmt::format("duplicate listener name '{}'", spec.name));
    }
    auto l = std::make_unique<listener_state>();
    l->spec = spec;
    l->faults = o.faults | spec.faults;
    if (spec.kind != listener_kind::plaintext && spec.policy.tls_available) {
      const server_tls_plan plan = plan_server_tls(l->faults);
      tls::tls_config config;
      config.cert_chain_pem = chain;
      config.key_pem = key;
      if (uses_own_certificate(plan)) {
        if (!o.pki) {
          o.pki = tls::make_test_pki();
        }
        server_identity identity = identity_for(plan, *o.pki);
        config.cert_chain_pem = std::move(identity.chain_pem);
        config.key_pem = std::move(identity.key_pem);
      }
      config.min_version = plan.legacy_tls ? tls::tls_version::tls1_0 : tls::tls_version::tls1_2;
      // Request a certificate and accept any (its fingerprint is recorded, and whether it
      // verifies against the CA); a missing or untrusted one is answered by the session with 554
      // (RFC 3207 §4.1) rather than a failed handshake. The CA names the CertificateRequest's
      // hints, as Postfix's smtpd_tls_CAfile does.
      config.request_client_cert = requests_client_cert(spec.policy, l->faults);
      if (config.request_client_cert && o.pki) {
        config.trust_pem = o.pki->ca_pem();
      }
      l->tls = std::make_shared<ssl::context>(tls::make_server_context(config));
      if (plan.select_by_sni) {
        // The second chain, for sni_alt_name (tls_server_sni_maps); same settings otherwise.
        if (!o.pki) {
          o.pki = tls::make_test_pki();
        }
        server_identity alt = identity_for(plan, *o.pki, sni_alt_cert);
        config.cert_chain_pem = std::move(alt.chain_pem);
        config.key_pem = std::move(alt.key_pem);
        l->alt_tls = std::make_shared<ssl::context>(tls::make_server_context(config));
      }
      l->sni = std::make_unique<sni_policy>(plan, server_names(o));
      if (l->sni->needed()) {
        l->sni->install(l->tls->native_handle(),
                        l->alt_tls ? l->alt_tls->native_handle() : nullptr);
      }
    }
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(spec.address, ec);
    if (ec) {
      throw std::system_error(
          ec, fmt::format("listener '{}': bad address '{}'", spec.name, spec.address));
    }
    const tcp::endpoint endpoint(address, spec.port);
    l->acceptor = std::make_unique<tcp::acceptor>(*s.io);
    l->acceptor->open(endpoint.protocol(), ec);
    if (!ec) {
      l->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
      l->acceptor->bind(endpoint, ec);
    }
    if (!ec) {
      l->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    }
    if (!ec) {
      l->port = l->acceptor->local_endpoint(ec).port();
    }
    if (ec) {
      throw std::system_error(ec, fmt::format("listener '{}': cannot listen on {}:{}", spec.name,
                                              spec.address, spec.port));
    }
    s.ports.emplace(spec.name, l->port);
    s.log(fmt::format("listener {} ({}) on {}:{}", spec.name, to_string(spec.kind), spec.address,
                      l->port));
    s.listeners.push_back(std::move(l));
  }
  for (auto& l : s.listeners) {
    asio::co_spawn(*s.io, s.accept_loop(*l), asio::detached);
  }
  s.thread = std::thread([&s] {
    for (;;) {
      try {
        s.io->run();
        return;
      } catch (const std::exception& e) {
        s.log(fmt::format("server thread: {}", e.what()));
      }
    }
  });
}

std::map<std::string, std::uint16_t> reference_server::ports() const { return impl_->ports; }

std::uint16_t reference_server::port(const std::string& name) const {
  return impl_->ports.at(name);
}

std::size_t reference_server::connections_served() const { return impl_->served.load(); }

void reference_server::stop() {
  impl& s = *impl_;
  if (!s.started || s.stopped) {
    return;
  }
  s.stopped = true;
  if (s.io) {
    s.io->stop();
  }
  if (s.thread.joinable()) {
    s.thread.join();
  }
  // Acceptors first, then the io_context: destroying it destroys every suspended connection
  // coroutine, which closes its socket.
  for (auto& l : s.listeners) {
    l->acceptor.reset();
  }
  s.io.reset();
  s.listeners.clear();
}

}  // namespace smtpsim::reference
