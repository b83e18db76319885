#include "simulator/engine/fake_server_engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "simulator/engine/io_detail.hpp"
#include "simulator/tls/context.hpp"
#include "simulator/tls/fingerprint.hpp"
#include "simulator/tls/pki.hpp"

namespace smtpsim::engine {

namespace ssl = boost::asio::ssl;
using detail::deadline;
using detail::describe_error;
using detail::error_code;
using detail::tcp;
using detail::use_tuple;
using std::chrono::milliseconds;
namespace asio = boost::asio;

namespace {

constexpr unsigned char tls_record_handshake = 0x16;
constexpr std::size_t max_window_bytes = 64 * 1024;
constexpr milliseconds close_notify_wait{500};
// A fatal handshake_failure alert record (RFC 8446 §6: level 2, description 40).
constexpr std::string_view handshake_failure_alert{"\x15\x03\x01\x00\x02\x02\x28", 7};

tls::tls_config server_tls_config(const script::fake_tls& t, const tls::test_pki& pki) {
  tls::tls_config c;
  const char* name = "server";
  switch (t.cert) {
    case script::server_cert::valid:
    case script::server_cert::leaf_only:
      name = "server";
      break;
    case script::server_cert::expired:
      name = "expired";
      break;
    case script::server_cert::wrong_name:
      name = "wrong-name";
      break;
    case script::server_cert::self_signed:
      name = "self-signed";
      break;
    case script::server_cert::untrusted:
      name = "untrusted";
      break;
    case script::server_cert::client_auth_only:
      name = "client-auth-only";
      break;
    case script::server_cert::san_mismatch:
      name = "san-mismatch";
      break;
  }
  const auto& cert = pki.at(name);
  c.cert_chain_pem = t.cert == script::server_cert::leaf_only ? cert.cert_pem : cert.chain_pem;
  c.key_pem = cert.key_pem;
  c.request_client_cert = t.request_client_cert;
  c.min_version = detail::version_of(t.min_version);
  c.max_version = detail::version_of(t.max_version);
  c.cipher_list = t.ciphers;
  return c;
}

}  // namespace

struct fake_server_listener::impl {
  struct conn {
    conn(tcp::socket s, script::fake_server_session sess)
        : sock(std::move(s)), session(std::move(sess)) {}
    tcp::socket sock;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;
    script::fake_server_session session;
    std::array<char, 16384> buf{};
    bool finished = false;
  };

  explicit impl(fake_server_options opts) : o(std::move(opts)), acceptor(io) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<conn> c);
  asio::awaitable<void> apply(std::shared_ptr<conn> c, script::server_effects initial);
  asio::awaitable<script::server_effects> start_tls(std::shared_ptr<conn> c);
  asio::awaitable<std::pair<error_code, std::size_t>> read_some(conn& c, milliseconds limit,
                                                                bool& timed_out);
  asio::awaitable<void> close(conn& c, bool reset);
  std::string read_plaintext(conn& c);
  void event(const conn& c, std::string note) {
    result.log.add_event(since_start(), c.session.tls_active(), c.session.record().connection,
                         std::move(note));
  }
  std::chrono::microseconds since_start() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }

  fake_server_options o;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::optional<ssl::context> ctx;
  std::thread thread;
  std::promise<void> finished;
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> open{0};
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  fake_server_result result;
  std::vector<std::shared_ptr<conn>> conns;  // server thread only
  bool stopped = false;
};

asio::awaitable<void> fake_server_listener::impl::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
    if (ec || stopped) {
      co_return;
    }
    if (accepted.load() >= o.max_connections) {
      ++result.refused_connections;
      error_code ignored;
      sock.close(ignored);
      continue;
    }
    const auto id = static_cast<std::uint32_t>(accepted.fetch_add(1));
    auto c = std::make_shared<conn>(std::move(sock),
                                    script::fake_server_session(o.config, id, result.log, start));
    conns.push_back(c);
    ++open;
    asio::co_spawn(io, serve(c), asio::detached);
  }
}

asio::awaitable<std::pair<error_code, std::size_t>> fake_server_listener::impl::read_some(
    conn& c, milliseconds limit, bool& timed_out) {
  deadline d(c.sock, limit);
  error_code ec;
  std::size_t n = 0;
  if (c.tls) {
    auto [e, k] = co_await c.tls->async_read_some(asio::buffer(c.buf), use_tuple);
    ec = e;
    n = k;
  } else {
    auto [e, k] = co_await c.sock.async_read_some(asio::buffer(c.buf), use_tuple);
    ec = e;
    n = k;
  }
  timed_out = d.expired();
  co_return std::make_pair(ec, n);
}

asio::awaitable<void> fake_server_listener::impl::serve(std::shared_ptr<conn> c) {
  error_code ignored;
  c->sock.set_option(tcp::no_delay(true), ignored);  // one write, one segment
  co_await apply(c, c->session.on_connect());
  while (!c->session.closed() && !c->finished && !stopped) {
    bool timed_out = false;
    auto [ec, n] = co_await read_some(*c, o.idle_timeout, timed_out);
    if (timed_out) {
      event(*c, fmt::format("no bytes from the client for {} ms; closing", o.idle_timeout.count()));
      co_await close(*c, false);
      break;
    }
    if (ec) {
      // With TLS, eof means a close_notify came first; a bare TCP close is stream_truncated.
      const bool clean = c->tls && ec == asio::error::eof;
      if (!stopped) {
        c->session.on_closed(clean);
      }
      break;
    }
    auto effects = c->session.on_data(std::string_view(c->buf.data(), n));
    co_await apply(c, std::move(effects));
  }
  c->finished = true;
  c->sock.close(ignored);
  --open;
}

asio::awaitable<void> fake_server_listener::impl::apply(std::shared_ptr<conn> c,
                                                        script::server_effects initial) {
  std::deque<script::server_effect> queue(std::make_move_iterator(initial.begin()),
                                          std::make_move_iterator(initial.end()));
  while (!queue.empty() && !c->finished && !stopped) {
    script::server_effect e = std::move(queue.front());
    queue.pop_front();
    script::server_effects more;
    if (auto* w = std::get_if<script::write_effect>(&e)) {
      deadline d(c->sock, o.idle_timeout);
      error_code ec;
      if (c->tls) {
        auto [err, n] = co_await asio::async_write(*c->tls, asio::buffer(w->bytes), use_tuple);
        ec = err;
      } else {
        auto [err, n] = co_await asio::async_write(c->sock, asio::buffer(w->bytes), use_tuple);
        ec = err;
      }
      if (ec || d.expired()) {
        event(*c, fmt::format("write failed: {}", d.expired() ? "timed out" : describe_error(ec)));
        c->session.on_closed(false);
        c->finished = true;
        co_return;
      }
    } else if (auto* wait = std::get_if<script::wait_effect>(&e)) {
      std::string collected;
      const auto until = std::chrono::steady_clock::now() + wait->duration;
      bool closed = false;
      while (collected.size() < max_window_bytes) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          break;
        }
        bool timed_out = false;
        auto [ec, n] = co_await read_some(*c, left, timed_out);
        if (timed_out) {
          break;
        }
        if (ec) {
          closed = true;
          break;
        }
        collected.append(c->buf.data(), n);
      }
      more = c->session.on_window(collected);
      if (closed) {
        c->session.on_closed(false);
        c->finished = true;
        co_return;
      }
    } else if (std::holds_alternative<script::tls_effect>(e)) {
      more = co_await start_tls(c);
    } else if (std::holds_alternative<script::close_effect>(e)) {
      co_await close(*c, false);
    } else {
      co_await close(*c, true);
    }
    queue.insert(queue.begin(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
}

std::string fake_server_listener::impl::read_plaintext(conn& c) {
  error_code ec;
  const std::size_t available = c.sock.available(ec);
  std::string raw(std::clamp<std::size_t>(available, 1, max_window_bytes), '\0');
  const std::size_t n = c.sock.receive(asio::buffer(raw), 0, ec);
  raw.resize(ec ? 0 : n);
  return raw;
}

asio::awaitable<script::server_effects> fake_server_listener::impl::start_tls(
    std::shared_ptr<conn> c) {
  script::tls_facts facts;
  const auto due = std::chrono::steady_clock::now();
  // The first octet tells a ClientHello (a TLS handshake record) from plaintext.
  error_code wait_error;
  bool expired = false;
  {
    deadline d(c->sock, o.handshake_timeout);
    auto [e] = co_await c->sock.async_wait(tcp::socket::wait_read, use_tuple);
    wait_error = e;
    expired = d.expired();
  }
  unsigned char first = 0;
  std::size_t peeked = 0;
  error_code peek_error;
  if (!wait_error && !expired) {
    peeked = c->sock.receive(asio::buffer(&first, 1), tcp::socket::message_peek, peek_error);
  }
  if (wait_error || expired || peek_error || peeked == 0) {
    facts.error =
        expired ? fmt::format("timed out: no ClientHello within {} ms", o.handshake_timeout.count())
                : std::string("the client closed the connection before a ClientHello");
    result.tls.push_back(facts);
    co_return c->session.on_tls_failed(facts, {});
  }
  c->session.note_tls_wait(
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - due));
  if (first != tls_record_handshake) {
    std::string raw = read_plaintext(*c);
    facts.error = "the client sent plaintext instead of a TLS ClientHello";
    result.tls.push_back(facts);
    co_return c->session.on_tls_failed(facts, raw);
  }
  const script::tls_fault fault = o.config.tls.fault;
  if (fault != script::tls_fault::none) {
    // Read the whole ClientHello record, so the fault happens after it, at a defined point.
    std::array<unsigned char, 5> header{};
    std::vector<unsigned char> body;
    {
      deadline d(c->sock, o.handshake_timeout);
      auto [e, n] = co_await asio::async_read(c->sock, asio::buffer(header), use_tuple);
      if (!e) {
        body.resize(std::min<std::size_t>((std::size_t{header[3]} << 8) | header[4], 18432));
        auto [e2, n2] = co_await asio::async_read(c->sock, asio::buffer(body), use_tuple);
        (void)e2;
        (void)n2;
      }
      (void)n;
    }
    facts.error = fmt::format("fault: {} after the ClientHello", script::to_string(fault));
    result.tls.push_back(facts);
    error_code ignored;
    if (fault == script::tls_fault::alert) {
      deadline d(c->sock, o.handshake_timeout);
      auto [e, n] =
          co_await asio::async_write(c->sock, asio::buffer(handshake_failure_alert), use_tuple);
      (void)e;
      (void)n;
    }
    if (fault == script::tls_fault::close || fault == script::tls_fault::alert) {
      c->sock.shutdown(tcp::socket::shutdown_send, ignored);
    } else if (fault == script::tls_fault::reset) {
      c->sock.set_option(asio::socket_base::linger(true, 0), ignored);
      c->sock.close(ignored);
    }
    auto effects = c->session.on_fault_done();
    if (fault != script::tls_fault::plaintext) {
      if (fault != script::tls_fault::reset) {
        // Let the client see the FIN and close; collect what it says meanwhile.
        bool timed_out = false;
        auto [e, n] = co_await read_some(*c, milliseconds(1000), timed_out);
        (void)e;
        (void)n;
      }
      c->finished = true;
    }
    co_return effects;
  }
  if (!ctx) {
    facts.error = "TLS is not configured (no PKI)";
    result.tls.push_back(facts);
    co_return c->session.on_tls_failed(facts, {});
  }
  c->tls = std::make_unique<ssl::stream<tcp::socket&>>(c->sock, *ctx);
  tls::prepare_session(c->tls->native_handle(), std::string());
  error_code handshake_error;
  {
    deadline d(c->sock, o.handshake_timeout);
    auto [e] = co_await c->tls->async_handshake(ssl::stream_base::server, use_tuple);
    handshake_error = e;
    expired = d.expired();
  }
  facts = tls::session_facts(c->tls->native_handle());
  if (handshake_error || expired) {
    facts.established = false;
    facts.error = expired ? std::string("handshake timed out") : describe_error(handshake_error);
    result.tls.push_back(facts);
    c->tls.reset();
    co_return c->session.on_tls_failed(facts, {});
  }
  facts.established = true;
  result.tls.push_back(facts);
  {
    // The client certificate's six fingerprints, as relay_clientcerts takes them.
    std::unique_ptr<X509, decltype(&X509_free)> peer(
        SSL_get1_peer_certificate(c->tls->native_handle()), &X509_free);
    if (peer) {
      const tls::fingerprint_set f = tls::fingerprints_of(peer.get());
      c->session.note_client_cert_fingerprints(
          {"cert sha256 " + f.cert_sha256, "cert sha1 " + f.cert_sha1, "cert md5 " + f.cert_md5,
           "pubkey sha256 " + f.pubkey_sha256, "pubkey sha1 " + f.pubkey_sha1,
           "pubkey md5 " + f.pubkey_md5});
    }
  }
  co_return c->session.on_tls_established(facts);
}

asio::awaitable<void> fake_server_listener::impl::close(conn& c, bool reset) {
  error_code ignored;
  if (reset) {
    c.sock.set_option(asio::socket_base::linger(true, 0), ignored);
    c.sock.close(ignored);
    c.finished = true;
    co_return;
  }
  if (c.tls) {
    // Our close_notify, then the client's answer: a close_notify back (RFC 8314 §3.4) or a bare
    // TCP close. Recorded unless the client already closed, or said nothing in time.
    deadline d(c.sock, close_notify_wait);
    auto [e] = co_await c.tls->async_shutdown(use_tuple);
    if (!d.expired() && !stopped) {
      c.session.on_closed(!e);
    }
  }
  c.sock.shutdown(tcp::socket::shutdown_send, ignored);
  // Give the client a moment to see the FIN and close its side.
  bool timed_out = false;
  c.tls.reset();
  auto [e, n] = co_await read_some(c, milliseconds(500), timed_out);
  (void)e;
  (void)n;
  c.sock.close(ignored);
  c.finished = true;
}

fake_server_listener::fake_server_listener(fake_server_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {
  auto& m = *impl_;
  const auto address = asio::ip::make_address(m.o.bind);
  if (!address.is_loopback()) {
    throw std::runtime_error(fmt::format("fake server: {} is not a loopback address", m.o.bind));
  }
  if (m.o.pki) {
    m.ctx.emplace(tls::make_server_context(server_tls_config(m.o.config.tls, *m.o.pki)));
  }
  const tcp::endpoint ep(address, 0);
  m.acceptor.open(ep.protocol());
  m.acceptor.set_option(tcp::acceptor::reuse_address(true));
  m.acceptor.bind(ep);
  m.acceptor.listen();
  asio::co_spawn(m.io, m.accept_loop(), asio::detached);
  m.thread = std::thread([&m] {
    m.io.run();
    m.finished.set_value();
  });
}

fake_server_listener::~fake_server_listener() {
  if (impl_ && impl_->thread.joinable()) {
    (void)stop();
  }
}

std::uint16_t fake_server_listener::port() const { return impl_->acceptor.local_endpoint().port(); }

std::size_t fake_server_listener::connections_accepted() const { return impl_->accepted.load(); }

std::size_t fake_server_listener::connections_open() const { return impl_->open.load(); }

fake_server_result fake_server_listener::stop() {
  auto& m = *impl_;
  if (!m.thread.joinable()) {
    return fake_server_result{{}, script::transcript(), {}, 0};
  }
  asio::post(m.io, [&m] {
    m.stopped = true;
    error_code ignored;
    m.acceptor.close(ignored);
    for (auto& c : m.conns) {
      c->sock.cancel(ignored);
      c->sock.close(ignored);
    }
  });
  auto done = m.finished.get_future();
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    m.io.stop();  // a coroutine did not finish: abandon it
  }
  m.thread.join();
  fake_server_result out;
  for (auto& c : m.conns) {
    out.connections.push_back(c->session.take_record());
  }
  out.log = std::move(m.result.log);
  out.tls = std::move(m.result.tls);
  out.refused_connections = m.result.refused_connections;
  m.conns.clear();
  return out;
}

}  // namespace smtpsim::engine
