#include "harness/capture_sink.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "simulator/protocol/data.hpp"
#include "simulator/protocol/line_framer.hpp"

namespace smtpsim::harness {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds idle_limit{120};
constexpr std::size_t max_message_bytes = 64 * 1024 * 1024;

// verb_of returns the first word of a command line in upper case.
std::string verb_of(std::string_view line) {
  std::string v(line.substr(0, line.find(' ')));
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return v;
}

}  // namespace

struct capture_sink::impl {
  mailbox& box;
  std::string hostname;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> captured{0};
  bool started = false;

  impl(mailbox& b, std::string h) : box(b), hostname(std::move(h)) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
          co_return;
        }
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      ++accepted;
      asio::co_spawn(io, session(std::move(sock)), asio::detached);
    }
  }

  // session speaks just enough SMTP to take messages: every command but DATA and QUIT is
  // answered 250 (unknown ones 502), DATA is read to the end-of-data line and captured.
  asio::awaitable<void> session(tcp::socket sock) {
    error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    asio::steady_timer idle(sock.get_executor());
    protocol::line_framer framer(protocol::framing_limits{4096, true});
    std::array<char, 16384> buf{};
    auto send = [&](std::string text) -> asio::awaitable<bool> {
      auto [ec, n] = co_await asio::async_write(sock, asio::buffer(text), use_tuple);
      co_return !ec;
    };
    // read_some reads with the idle limit; false when the peer is gone or silent.
    auto read_some = [&]() -> asio::awaitable<std::size_t> {
      idle.expires_after(idle_limit);
      idle.async_wait([&sock](error_code ec) {
        if (!ec) {
          error_code e;
          sock.cancel(e);
        }
      });
      auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), use_tuple);
      idle.cancel();
      co_return ec ? 0 : n;
    };
    const bool greeted = co_await send("220 " + hostname + " ESMTP smtpsim capture sink\r\n");
    if (!greeted) {
      co_return;
    }
    for (;;) {
      std::optional<protocol::framed_line> line = framer.next();
      if (!line) {
        const std::size_t n = co_await read_some();
        if (n == 0) {
          co_return;
        }
        framer.feed(std::string_view(buf.data(), n));
        continue;
      }
      const std::string verb = verb_of(line->text);
      std::string reply;
      if (verb == "EHLO") {
        reply = "250-" + hostname + "\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n" +
                "250 SIZE " + std::to_string(max_message_bytes) + "\r\n";
      } else if (verb == "HELO") {
        reply = "250 " + hostname + "\r\n";
      } else if (verb == "MAIL" || verb == "RCPT" || verb == "RSET" || verb == "NOOP") {
        reply = "250 2.0.0 Ok\r\n";
      } else if (verb == "QUIT") {
        co_await send("221 2.0.0 Bye\r\n");
        co_return;
      } else if (verb == "DATA") {
        const bool go_on = co_await send("354 End data with <CR><LF>.<CR><LF>\r\n");
        if (!go_on) {
          co_return;
        }
        protocol::data_reader reader(protocol::data_limits{max_message_bytes});
        std::string pending = framer.take_buffered();
        for (;;) {
          const std::size_t used = reader.feed(pending);
          if (reader.done()) {
            framer.feed(std::string_view(pending).substr(used));
            break;
          }
          const std::size_t n = co_await read_some();
          if (n == 0) {
            co_return;  // the message never ended: nothing is captured
          }
          pending.assign(buf.data(), n);
        }
        if (reader.too_large()) {
          reply = "552 5.3.4 Message too big for the capture sink\r\n";
        } else {
          box.add(reader.message());
          ++captured;
          reply = "250 2.0.0 Ok: captured\r\n";
        }
      } else {
        reply = "502 5.5.2 Command not implemented by the capture sink\r\n";
      }
      const bool sent = co_await send(std::move(reply));
      if (!sent) {
        co_return;
      }
    }
  }
};

capture_sink::capture_sink(mailbox& box, std::string hostname)
    : impl_(std::make_unique<impl>(box, std::move(hostname))) {}

capture_sink::~capture_sink() { stop(); }

void capture_sink::start(std::uint16_t port) {
  if (impl_->started) {
    throw std::logic_error("capture_sink::start called twice");
  }
  impl_->started = true;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

std::uint16_t capture_sink::port() const {
  error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void capture_sink::stop() {
  if (!impl_ || !impl_->thread.joinable()) {
    return;
  }
  asio::post(impl_->io, [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  impl_->thread.join();
}

std::size_t capture_sink::connections_accepted() const { return impl_->accepted; }
std::size_t capture_sink::messages_captured() const { return impl_->captured; }

}  // namespace smtpsim::harness
