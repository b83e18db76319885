// fake_server_fuzzer: the fake server of client checks faces whatever a client sends. Fed any
// bytes, in any pieces, around a STARTTLS upgrade, it never throws, keeps its record bounded
// (at most max_commands commands, bounded message) and, once closed, stays closed.
// Input: octet 0 selects the configuration (delays, replies, wrapper); the rest is the client's
// bytes, fed in pieces; a TLS upgrade is simulated when the session asks for one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "simulator/script/fake_server.hpp"

#include "fuzz/fuzz_target.hpp"

using namespace smtpsim::script;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  fake_server_config config;
  if ((mode & 1) != 0) {
    config.ehlo_delay = std::chrono::milliseconds(10);
  }
  if ((mode & 2) != 0) {
    config.starttls_delay = std::chrono::milliseconds(10);
  }
  if ((mode & 4) != 0) {
    config.starttls_reply = "220 2.0.0 Ready\r\n250-forged\r\n250 AUTH PLAIN\r\n";
  }
  if ((mode & 8) != 0) {
    config.tls.fault = tls_fault::plaintext;
  }
  if ((mode & 16) != 0) {
    config.replies["AUTH"] = "334 !!!\r\n";
  }
  if ((mode & 32) != 0) {
    config.reset_after = {"tls:MAIL"};
  }
  transcript log;
  fake_server_session s(config, 0, log, std::chrono::steady_clock::now());
  bool waiting = false;
  bool want_tls = false;
  auto take = [&](const server_effects& effects) {
    for (const auto& e : effects) {
      if (std::holds_alternative<wait_effect>(e)) {
        waiting = true;
      } else if (std::holds_alternative<tls_effect>(e)) {
        want_tls = true;
      }
    }
  };
  take(s.on_connect());
  smtpsim::fuzz::feed_in_pieces(input, [&](std::string_view piece) {
    if (s.closed()) {
      SMTPSIM_FUZZ_CHECK(s.on_data(piece).empty());
      return;
    }
    if (want_tls) {
      want_tls = false;
      if (config.tls.fault == tls_fault::plaintext) {
        take(s.on_fault_done());
      } else if (!piece.empty() && piece[0] == '!') {
        take(s.on_tls_failed(tls_facts{}, piece));
        return;
      } else {
        tls_facts f;
        f.established = true;
        take(s.on_tls_established(f));
      }
    }
    if (waiting) {
      waiting = false;
      take(s.on_window(piece));
    } else {
      take(s.on_data(piece));
    }
  });
  const auto& r = s.record();
  SMTPSIM_FUZZ_CHECK(r.commands.size() <= fake_server_session::max_commands);
  SMTPSIM_FUZZ_CHECK(r.message.size() <= fake_server_session::max_recorded_bytes);
  SMTPSIM_FUZZ_CHECK(r.after_220_bytes.size() <= fake_server_session::max_recorded_bytes);
  return 0;
}
