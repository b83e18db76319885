#pragma once
// hostile_peer is a misbehaving TCP server on loopback for robustness tests: it accepts and then
// stays silent, drips one byte per interval, floods, closes at once, or sends binary garbage.

#include <chrono>
#include <cstdint>
#include <memory>

namespace smtpsim::testing {

enum class hostile_mode {
  silent,         // accept and never send anything
  drip,           // send "220 hostile.test ESMTP\r\n" one byte per interval
  flood,          // send endless "250-" continuation lines as fast as possible
  close_at_once,  // accept and close immediately
  garbage,        // send binary garbage without line ends, forever
};

class hostile_peer {
 public:
  explicit hostile_peer(hostile_mode mode,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  ~hostile_peer();
  hostile_peer(const hostile_peer&) = delete;
  hostile_peer& operator=(const hostile_peer&) = delete;

  std::uint16_t port() const;
  // bytes_sent counts what the peer managed to send (all connections).
  std::uint64_t bytes_sent() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace smtpsim::testing
