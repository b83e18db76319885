#pragma once
// Helpers shared by the engines' translation units (client_engine, fake_server_engine): a
// deadline that cancels a socket's pending operation, error texts with OpenSSL's queue, and
// TLS version names. Includes Asio: only for the engines' .cpp files.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "simulator/tls/context.hpp"

namespace smtpsim::engine::detail {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// deadline cancels the socket's pending operations when it expires, unless disarmed first.
// The flag is shared with the timer's handler, which may run after the awaited operation.
class deadline {
 public:
  deadline(tcp::socket& sock, std::chrono::milliseconds after)
      : timer_(sock.get_executor()),
        expired_(std::make_shared<bool>(false)),
        armed_(std::make_shared<bool>(true)) {
    timer_.expires_after(after);
    timer_.async_wait([&sock, expired = expired_, armed = armed_](error_code ec) {
      if (!ec && *armed) {
        *expired = true;
        error_code ignored;
        sock.cancel(ignored);
      }
    });
  }
  deadline(const deadline&) = delete;
  deadline& operator=(const deadline&) = delete;
  ~deadline() {
    *armed_ = false;
    timer_.cancel();
  }
  bool expired() const { return *expired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> expired_;
  std::shared_ptr<bool> armed_;
};

inline std::string describe_error(const error_code& ec) {
  std::string text = ec.message();
  const std::string openssl = tls::openssl_error_text();
  if (!openssl.empty() && text.find(openssl) == std::string::npos) {
    text += " (" + openssl + ")";
  }
  return text;
}

inline std::optional<tls::tls_version> version_of(const std::optional<std::string>& v) {
  if (!v) {
    return std::nullopt;
  }
  return tls::parse_tls_version(*v);
}

}  // namespace smtpsim::engine::detail
