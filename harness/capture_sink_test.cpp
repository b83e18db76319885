#include "harness/capture_sink.hpp"

#include <array>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness/started_target.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace smtpsim::harness {
namespace {

using namespace std::chrono_literals;

// client is a blocking loopback connection for the test.
class client {
 public:
  explicit client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~client() { ::close(fd_); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  bool connected() const { return connected_; }
  void send(const std::string& s) {
    ASSERT_EQ(::write(fd_, s.data(), s.size()), ssize_t(s.size()));
  }
  // read_until reads until `end` has been seen (or the peer is silent for 5 s).
  std::string read_until(const std::string& end) {
    std::array<char, 4096> buf{};
    while (got_.find(end) == std::string::npos) {
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n <= 0) {
        break;
      }
      got_.append(buf.data(), static_cast<std::size_t>(n));
    }
    return got_;
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string got_;
};

TEST(CaptureSink, TakesPipelinedMessagesForAnyRecipientAndUnstuffsDots) {
  mailbox box;
  capture_sink sink(box);
  sink.start();
  ASSERT_NE(sink.port(), 0);
  client c(sink.port());
  ASSERT_TRUE(c.connected());
  EXPECT_NE(c.read_until("\r\n").find("220 sink.smtpsim.test"), std::string::npos);
  // Everything in one segment, as a pipelining MTA sends it; two messages on one connection.
  c.send(
      "EHLO mx.test\r\nMAIL FROM:<a@mx.test>\r\nRCPT TO:<victim@foreign.test>\r\nDATA\r\n"
      "Subject: token-1\r\n\r\n..dot line\r\n.\r\n"
      "MAIL FROM:<>\r\nRCPT TO:<x@y.test>\r\nDATA\r\nSubject: token-2\r\n\r\nbody\r\n.\r\n"
      "QUIT\r\n");
  const std::string replies = c.read_until("221 ");
  EXPECT_NE(replies.find("250-PIPELINING"), std::string::npos);
  EXPECT_NE(replies.find("354 "), std::string::npos);
  EXPECT_NE(replies.find("250 2.0.0 Ok: captured"), std::string::npos);
  const auto one = box.messages_with("token-1");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "Subject: token-1\r\n\r\n.dot line\r\n");
  EXPECT_EQ(box.messages_with("token-2").size(), 1u);
  EXPECT_EQ(sink.messages_captured(), 2u);
  sink.stop();
  sink.stop();  // idempotent
}

TEST(CaptureSink, AMessageThatNeverEndsIsNotCaptured) {
  mailbox box;
  capture_sink sink(box);
  sink.start();
  {
    client c(sink.port());
    c.read_until("\r\n");
    c.send("HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: cut\r\n");
    c.read_until("354 ");
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(box.size(), 0u);
  sink.stop();
}

TEST(StartedTargetPorts, AllocatesDistinctFreePortsAndSeesListeners) {
  const auto ports = allocate_loopback_ports("127.0.0.1", 3);
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_NE(ports[0], ports[1]);
  EXPECT_NE(ports[1], ports[2]);
  EXPECT_NE(ports[0], ports[2]);
  const auto soon = std::chrono::steady_clock::now() + 200ms;
  // Nothing listens on a port just released: the wait gives up with the connect error.
  EXPECT_FALSE(wait_until_listening("127.0.0.1", ports[0], soon, nullptr).empty());
  mailbox box;
  capture_sink sink(box);
  sink.start();
  EXPECT_EQ(wait_until_listening("127.0.0.1", sink.port(), soon, nullptr), "");
}

}  // namespace
}  // namespace smtpsim::harness
