#include "tests/support/hostile_peer.hpp"

#include <atomic>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace smtpsim::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct hostile_peer::impl {
  impl(hostile_mode m, std::chrono::milliseconds i)
      : mode(m), interval(i), acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {}

  asio::awaitable<void> serve(tcp::socket sock) {
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    asio::steady_timer t(io);
    switch (mode) {
      case hostile_mode::silent: {
        // Keep the connection open, reading and ignoring, until the client goes away.
        std::array<char, 1024> buf{};
        while (true) {
          auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), tok);
          if (ec) {
            co_return;
          }
        }
      }
      case hostile_mode::drip: {
        const std::string greeting = "220 hostile.test ESMTP\r\n";
        for (char c : greeting) {
          auto [ec, n] = co_await asio::async_write(sock, asio::buffer(&c, 1), tok);
          if (ec) {
            co_return;
          }
          sent += n;
          t.expires_after(interval);
          co_await t.async_wait(tok);
        }
        co_return;
      }
      case hostile_mode::flood: {
        std::string chunk;
        for (int i = 0; i < 512; ++i) {
          chunk += "250-FLOODFLOODFLOODFLOODFLOODFLOODFLOODFLOOD\r\n";
        }
        while (true) {
          auto [ec, n] = co_await asio::async_write(sock, asio::buffer(chunk), tok);
          if (ec) {
            co_return;
          }
          sent += n;
        }
      }
      case hostile_mode::close_at_once:
        co_return;
      case hostile_mode::garbage: {
        std::string chunk(4096, '\0');
        for (std::size_t i = 0; i < chunk.size(); ++i) {
          chunk[i] = static_cast<char>((i * 131 + 7) % 256 == '\n' ? 0 : (i * 131 + 7) % 256);
        }
        while (true) {
          auto [ec, n] = co_await asio::async_write(sock, asio::buffer(chunk), tok);
          if (ec) {
            co_return;
          }
          sent += n;
        }
      }
    }
  }

  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        co_return;
      }
      asio::co_spawn(io, serve(std::move(sock)), asio::detached);
    }
  }

  hostile_mode mode;
  std::chrono::milliseconds interval;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::atomic<std::uint64_t> sent{0};
  std::thread thread;
};

hostile_peer::hostile_peer(hostile_mode mode, std::chrono::milliseconds interval)
    : impl_(std::make_unique<impl>(mode, interval)) {
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

hostile_peer::~hostile_peer() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t hostile_peer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::uint64_t hostile_peer::bytes_sent() const { return impl_->sent.load(); }

}  // namespace smtpsim::testing
