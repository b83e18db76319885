#include "simulator/reference/reference_server.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "simulator/tls/context.hpp"
#include "simulator/tls/pki.hpp"

namespace smtpsim::reference {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

const std::string greeting = "220 mx.test ESMTP smtpsim-reference\r\n";

const tls::test_pki& test_pki() {
  static const tls::test_pki pki = tls::make_test_pki();
  return pki;
}

std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// sink collects delivered messages from the server thread.
struct sink {
  std::mutex mutex;
  std::vector<delivered_message> messages;

  std::vector<delivered_message> snapshot() {
    std::lock_guard lock(mutex);
    return messages;
  }
};

std::unique_ptr<reference_server> start_server(reference_options options = {},
                                               const std::shared_ptr<sink>& out = nullptr) {
  options.pki = test_pki();
  options.login.password = "s3cret";
  if (std::getenv("SMTPSIM_TEST_LOG") != nullptr) {
    options.on_log = [](std::string_view line) {
      std::fprintf(stderr, "server: %.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
  if (out) {
    options.on_delivery = [out](const delivered_message& m) {
      std::lock_guard lock(out->mutex);
      out->messages.push_back(m);
    };
  }
  auto server = std::make_unique<reference_server>(std::move(options));
  server->start();
  return server;
}

reference_options with_faults(fault_set faults) {
  reference_options o;
  o.faults = faults;
  return o;
}

// smtp_client is a small test client: synchronous writes, reads bounded by a timeout.
class smtp_client {
 public:
  explicit smtp_client(std::uint16_t port) : sock_(io_), buf_(16 * 1024) {
    sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    sock_.set_option(tcp::no_delay(true));
  }

  // write sends `bytes` in one write.
  void write(std::string_view bytes) {
    if (tls_) {
      asio::write(*tls_, asio::buffer(bytes));
    } else {
      asio::write(sock_, asio::buffer(bytes));
    }
  }

  // read_reply returns the next complete reply, or "" when none came within `timeout` (then
  // last_error() says why).
  std::string read_reply(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (std::optional<std::string> r = take_reply()) {
        return *r;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_more(left)) {
        return {};
      }
    }
  }

  // read_for returns everything that arrives within `window` (for silence checks).
  std::string read_for(std::chrono::milliseconds window) {
    const auto deadline = std::chrono::steady_clock::now() + window;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_more(left)) {
        break;
      }
    }
    std::string out = std::move(in_);
    in_.clear();
    return out;
  }

  // handshake performs a client TLS handshake; `cert` names a client certificate of the PKI.
  bool handshake(const std::string& cert = {}) {
    tls::tls_config config;
    config.trust_pem = test_pki().ca_pem();
    config.verify_peer = true;
    if (!cert.empty()) {
      config.cert_chain_pem = test_pki().at(cert).chain_pem;
      config.key_pem = test_pki().at(cert).key_pem;
    }
    ctx_.emplace(tls::make_client_context(config));
    tls_.emplace(sock_, *ctx_);
    tls::prepare_session(tls_->native_handle(), "mx.test");
    error_code result = asio::error::timed_out;
    bool done = false;
    tls_->async_handshake(ssl::stream_base::client, [&](const error_code& ec) {
      result = ec;
      done = true;
    });
    run(5s, done);
    last_error_ = result;
    return !result;
  }

  // wait_closed reads until the connection ends and returns how it ended (asio::error::eof is
  // a clean end: for TLS, a close_notify was received).
  error_code wait_closed(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return asio::error::timed_out;
      }
      if (!read_more(left)) {
        return last_error_;
      }
    }
  }

  const error_code& last_error() const { return last_error_; }
  const std::string& pending() const { return in_; }

 private:
  void run(std::chrono::milliseconds timeout, const bool& done) {
    io_.restart();
    io_.run_for(timeout);
    if (!done) {
      error_code ignored;
      sock_.cancel(ignored);
      io_.restart();
      io_.run();
    }
  }

  // read_more appends one read's bytes to in_; false on timeout, EOF or error.
  bool read_more(std::chrono::milliseconds timeout) {
    error_code result = asio::error::timed_out;
    std::size_t n = 0;
    bool done = false;
    auto handler = [&](const error_code& ec, std::size_t count) {
      result = ec;
      n = count;
      done = true;
    };
    if (tls_) {
      tls_->async_read_some(asio::buffer(buf_), handler);
    } else {
      sock_.async_read_some(asio::buffer(buf_), handler);
    }
    run(timeout, done);
    if (result == asio::error::operation_aborted) {
      result = asio::error::timed_out;
    }
    in_.append(buf_.data(), n);
    last_error_ = result;
    return !result;
  }

  // take_reply removes one complete reply (up to a "ddd " or bare "ddd" line) from in_.
  std::optional<std::string> take_reply() {
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = in_.find("\r\n", start);
      if (end == std::string::npos) {
        return std::nullopt;
      }
      const std::size_t len = end - start;
      if (len == 3 || (len >= 4 && in_[start + 3] == ' ')) {
        std::string reply = in_.substr(0, end + 2);
        in_.erase(0, end + 2);
        return reply;
      }
      start = end + 2;
    }
  }

  asio::io_context io_;
  tcp::socket sock_;
  std::optional<ssl::context> ctx_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  std::vector<char> buf_;
  std::string in_;
  error_code last_error_;
};

TEST(ReferenceServer, BindsEveryDefaultListenerOnAFreePort) {
  auto server = start_server();
  auto ports = server->ports();
  ASSERT_EQ(ports.size(), 7U);
  std::set<std::uint16_t> distinct;
  for (const auto& [name, port] : ports) {
    EXPECT_NE(port, 0) << name;
    distinct.insert(port);
  }
  EXPECT_EQ(distinct.size(), 7U);
  for (const char* name : {"starttls", "wrapper", "tls_required", "tls_unavailable",
                           "ccert_required", "plaintext_auth", "auth_required"}) {
    EXPECT_EQ(ports.count(name), 1U) << name;
  }
}

TEST(ReferenceServer, StartTlsUpgradeThenEhloInsideTls) {
  auto server = start_server();
  smtp_client c(server->port("starttls"));
  EXPECT_EQ(c.read_reply(), greeting);
  c.write("EHLO client.test\r\n");
  const std::string before = c.read_reply();
  EXPECT_NE(before.find("250 STARTTLS\r\n"), std::string::npos) << before;
  c.write("STARTTLS\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_TRUE(c.handshake()) << c.last_error().message();
  c.write("EHLO client.test\r\n");
  const std::string after = c.read_reply();
  EXPECT_EQ(after.find("STARTTLS"), std::string::npos) << after;
  EXPECT_NE(after.find("250 AUTH PLAIN LOGIN CRAM-MD5\r\n"), std::string::npos) << after;
  c.write("QUIT\r\n");
  EXPECT_EQ(c.read_reply(), "221 2.0.0 Bye\r\n");
  // RFC 8314 §3.4: a close_notify makes the end of the stream clean.
  EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST(ReferenceServer, OmitCloseNotifyTruncatesTheTlsStream) {
  auto server = start_server(with_faults({fault::omit_close_notify}));
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("STARTTLS\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_TRUE(c.handshake());
  c.write("QUIT\r\n");
  EXPECT_EQ(c.read_reply(), "221 2.0.0 Bye\r\n");
  EXPECT_EQ(c.wait_closed(), ssl::error::stream_truncated);
}

TEST(ReferenceServer, WrapperHandshakesThenGreets) {
  auto server = start_server();
  smtp_client c(server->port("wrapper"));
  ASSERT_TRUE(c.handshake()) << c.last_error().message();
  EXPECT_EQ(c.read_reply(), greeting);
  c.write("EHLO client.test\r\n");
  const std::string ehlo = c.read_reply();
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos) << ehlo;
  EXPECT_NE(ehlo.find("AUTH PLAIN LOGIN CRAM-MD5"), std::string::npos) << ehlo;
  c.write("QUIT\r\n");
  EXPECT_EQ(c.read_reply(), "221 2.0.0 Bye\r\n");
  EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST(ReferenceServer, WrapperGivesNoSmtpReplyToPlaintext) {
  auto server = start_server();
  smtp_client c(server->port("wrapper"));
  c.write("EHLO x\r\n");
  EXPECT_EQ(c.read_for(500ms).find("250"), std::string::npos);
}

TEST(ReferenceServer, WrapperAnswersPlaintextFaultServesPlaintext) {
  auto server = start_server(with_faults({fault::wrapper_answers_plaintext}));
  smtp_client c(server->port("wrapper"));
  c.write("EHLO x\r\n");
  EXPECT_EQ(c.read_reply(), greeting);
  EXPECT_EQ(c.read_reply().substr(0, 4), "250-");
}

TEST(ReferenceServer, PipelinedRsetAfterStartTlsIsNeverAnswered) {
  auto server = start_server();
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("EHLO client.test\r\n");
  c.read_reply();
  c.write("STARTTLS\r\nRSET\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(c.read_for(200ms), "");
  ASSERT_TRUE(c.handshake()) << c.last_error().message();
  EXPECT_EQ(c.read_for(300ms), "");  // nothing unsolicited inside TLS
  c.write("NOOP\r\n");
  EXPECT_EQ(c.read_reply(), "250 2.0.0 Ok\r\n");
}

TEST(ReferenceServer, ExecutePipelinedFaultAnswersRsetInsideTls) {
  auto server = start_server(with_faults({fault::execute_pipelined_after_starttls}));
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("EHLO client.test\r\n");
  c.read_reply();
  c.write("STARTTLS\r\nRSET\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_TRUE(c.handshake()) << c.last_error().message();
  EXPECT_EQ(c.read_reply(2s), "250 2.0.0 Ok\r\n");
}

TEST(ReferenceServer, ExecutePipelinedFaultAnswersASplitSegmentRset) {
  auto server = start_server(with_faults({fault::execute_pipelined_after_starttls}));
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("STARTTLS\r\n");
  std::this_thread::sleep_for(1ms);
  c.write("RSET\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_TRUE(c.handshake()) << c.last_error().message();
  EXPECT_EQ(c.read_reply(2s), "250 2.0.0 Ok\r\n");
}

TEST(ReferenceServer, SplitSegmentRsetIsNeverAnswered) {
  auto server = start_server();
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("STARTTLS\r\n");
  std::this_thread::sleep_for(1ms);
  c.write("RSET\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  // The RSET octets reach the server's TLS layer: the handshake may fail, which is fine; what
  // must never happen is a 250.
  if (c.handshake()) {
    EXPECT_EQ(c.read_for(300ms).find("250"), std::string::npos);
  }
}

TEST(ReferenceServer, PlaintextInsteadOfHandshakeIsNotServed) {
  auto server = start_server();
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("STARTTLS\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  c.write("NOOP\r\nMAIL FROM:<a@x.test>\r\n");
  const std::string after = c.read_for(1s);
  EXPECT_EQ(after.find("250"), std::string::npos) << after;
}

TEST(ReferenceServer, PlaintextAfterFailedHandshakeFaultServesPlaintext) {
  auto server = start_server(with_faults({fault::plaintext_after_failed_handshake}));
  smtp_client c(server->port("starttls"));
  c.read_reply();
  c.write("STARTTLS\r\n");
  EXPECT_EQ(c.read_reply(), "220 2.0.0 Ready to start TLS\r\n");
  c.write("NOOP\r\n");
  EXPECT_EQ(c.read_reply(), "250 2.0.0 Ok\r\n");
}

TEST(ReferenceServer, ReplyBeforeGreetingFaultAnswersFirst) {
  auto server = start_server(with_faults({fault::reply_before_greeting}));
  smtp_client c(server->port("starttls"));
  c.write("NOOP\r\n");
  EXPECT_EQ(c.read_reply(), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(c.read_reply(), greeting);
}

TEST(ReferenceServer, TlsUnavailableListenerSays454AndGoesOn) {
  auto server = start_server();
  smtp_client c(server->port("tls_unavailable"));
  c.read_reply();
  c.write("STARTTLS\r\nNOOP\r\n");
  EXPECT_EQ(c.read_reply(), "454 4.7.0 TLS not available due to local problem\r\n");
  EXPECT_EQ(c.read_reply(), "250 2.0.0 Ok\r\n");
}

TEST(ReferenceServer, ClientCertificateIsRecordedAndRequired) {
  auto out = std::make_shared<sink>();
  auto server = start_server({}, out);
  {
    smtp_client c(server->port("ccert_required"));
    c.read_reply();
    c.write("STARTTLS\r\n");
    c.read_reply();
    ASSERT_TRUE(c.handshake());
    c.write("EHLO client.test\r\n");
    EXPECT_EQ(c.read_reply(), "554 5.7.0 Command refused due to lack of security\r\n");
  }
  smtp_client c(server->port("ccert_required"));
  c.read_reply();
  c.write("STARTTLS\r\n");
  c.read_reply();
  ASSERT_TRUE(c.handshake("client1")) << c.last_error().message();
  c.write("EHLO client.test\r\n");
  EXPECT_EQ(c.read_reply().substr(0, 4), "250-");
  c.write("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  EXPECT_EQ(c.read_reply(), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(c.read_reply(), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(c.read_reply(), "354 End data with <CR><LF>.<CR><LF>\r\n");
  c.write("Subject: t\r\n\r\nhello\r\n.\r\n");
  EXPECT_EQ(c.read_reply().rfind("250 2.0.0 Ok: queued as ", 0), 0U);
  auto messages = out->snapshot();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].client_cert_sha256, test_pki().at("client1").fingerprints.cert_sha256);
  EXPECT_EQ(messages[0].protocol, "ESMTPS");
  EXPECT_EQ(messages[0].listener, "ccert_required");
  EXPECT_NE(messages[0].content.find("hello"), std::string::npos);
}

TEST(ReferenceServer, IdleTimeoutSays421AndCloses) {
  reference_options o;
  o.idle_timeout = 300ms;
  auto server = start_server(o);
  smtp_client c(server->port("starttls"));
  EXPECT_EQ(c.read_reply(), greeting);
  EXPECT_EQ(c.read_reply(3s), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
  EXPECT_EQ(c.wait_closed(), asio::error::eof);
}

TEST(ReferenceServer, ConnectionsOverTheLimitGet421) {
  reference_options o;
  o.max_connections = 1;
  auto server = start_server(o);
  smtp_client first(server->port("starttls"));
  EXPECT_EQ(first.read_reply(), greeting);
  smtp_client second(server->port("starttls"));
  EXPECT_EQ(second.read_reply(), "421 4.3.2 Too many connections\r\n");
  first.write("NOOP\r\n");
  EXPECT_EQ(first.read_reply(), "250 2.0.0 Ok\r\n");
}

TEST(ReferenceServer, StopWithOpenConnectionsReturnsPromptlyAndLeavesNoThread) {
  const std::size_t threads_before = thread_count();
  auto server = start_server();
  smtp_client plain(server->port("starttls"));
  EXPECT_EQ(plain.read_reply(), greeting);
  smtp_client tls(server->port("wrapper"));
  ASSERT_TRUE(tls.handshake());
  EXPECT_EQ(tls.read_reply(), greeting);
  smtp_client data(server->port("starttls"));
  data.read_reply();
  data.write("EHLO x\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\npartial");
  const auto start = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(thread_count(), threads_before);
  EXPECT_NE(plain.wait_closed(2s), asio::error::timed_out);
  server.reset();
}

}  // namespace
}  // namespace smtpsim::reference
