#pragma once
// capture_sink is the delivery sink for external targets: a minimal SMTP server on 127.0.0.1
// that accepts every message for every recipient (no TLS, no AUTH, no relay policy: it is the
// next hop of the target under test, which relays everything to it) and puts each message's
// content, dot-stuffing removed and byte for byte otherwise, into a mailbox, where
// await_delivery steps look for their case token. Verdicts that rest on delivery then rest on
// what the target really sent on.
//
// It is not the reference server: that one is an MTA with a relay policy (RFC 2505) and adds its
// own Received header, both wrong for a sink. One thread with its own io_context; this header
// includes no Asio header.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "harness/mailbox.hpp"

namespace smtpsim::harness {

class capture_sink {
 public:
  // `box` must outlive the sink. `hostname` is the name in the greeting and the EHLO reply; it
  // must differ from the target's own name (MTAs refuse to deliver to themselves).
  explicit capture_sink(mailbox& box, std::string hostname = "sink.smtpsim.test");
  ~capture_sink();  // calls stop()
  capture_sink(const capture_sink&) = delete;
  capture_sink& operator=(const capture_sink&) = delete;

  // start binds 127.0.0.1 on a free port (or `port`) and starts serving. Throws
  // std::system_error when the port cannot be bound, std::logic_error when called twice.
  void start(std::uint16_t port = 0);
  std::uint16_t port() const;
  // stop closes the listener and every connection and joins the thread; idempotent.
  void stop();

  std::size_t connections_accepted() const;
  std::size_t messages_captured() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace smtpsim::harness
