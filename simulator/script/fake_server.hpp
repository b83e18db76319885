#pragma once
// The fake server of client-side scenarios (checks.md Part B): smtpsim plays an SMTP server and
// the system under test is a client. fake_server_config is what the scenario asks the server to
// do (greeting, EHLO lists before and after TLS, the STARTTLS reply byte-exact with anything
// appended, delays, TLS certificate and faults); fake_server_session is the sans-I/O state
// machine that does it on one connection: events in (bytes, TLS up or failed, a delay window
// closed), effects out (write these exact bytes in one write, wait, start TLS, close, reset).
// It owns no socket; simulator/engine/fake_server_engine executes the effects.
//
// The session records what the client did (every command with its TLS side, TCP segment and
// whether it came before the reply to an earlier one; what came after our 220 to STARTTLS; the
// handshake; the message), and the client judge (client_judge.hpp) decides the verdict from
// that record after the client is done. Plain data: no Asio, no OpenSSL, no JSON.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "simulator/protocol/data.hpp"
#include "simulator/protocol/line_framer.hpp"

#include "simulator/script/transcript.hpp"

namespace smtpsim::script {

// server_cert names the certificate the fake server presents (test PKI names in brackets).
enum class server_cert : std::uint8_t {
  valid,             // "server": localhost, mx.test, 127.0.0.1, ::1; chain with the intermediate
  expired,           // "expired"
  wrong_name,        // "wrong-name": wrong-name.test only
  self_signed,       // "self-signed"
  leaf_only,         // "server" without its intermediate (an incomplete chain)
  untrusted,         // "untrusted": the server names, from a CA the client is not given
  client_auth_only,  // "client-auth-only": extendedKeyUsage clientAuth only
  san_mismatch,      // "san-mismatch": CN localhost, DNS SAN san-only.test
};
std::string_view to_string(server_cert c);
std::optional<server_cert> parse_server_cert(std::string_view text);

// tls_fault is what the fake server does instead of completing a handshake. Each one first reads
// the client's first TLS record (the ClientHello), so that the fault happens at a defined point.
enum class tls_fault : std::uint8_t {
  none,
  close,      // FIN before any ServerHello (Exchange: "220 then drop")
  reset,      // RST before any ServerHello
  plaintext,  // write `fault_bytes` in the clear, then go on serving plaintext SMTP
  alert,      // a fatal handshake_failure alert record, then FIN
};
std::string_view to_string(tls_fault f);
std::optional<tls_fault> parse_tls_fault(std::string_view text);

// fake_tls says how the fake server does TLS.
struct fake_tls {
  server_cert cert = server_cert::valid;
  bool request_client_cert = false;        // send a CertificateRequest (any certificate passes)
  std::optional<std::string> min_version;  // "1.0".."1.3"
  std::optional<std::string> max_version;  // e.g. "1.0" for a server stuck on TLS 1.0
  std::string ciphers;                     // OpenSSL list for TLS <= 1.2; "" = default
  tls_fault fault = tls_fault::none;
  std::string fault_bytes = "554 5.7.0 Unable to initialize security subsystem\r\n";
};

// fake_server_config is one connection's behaviour. Byte fields are written exactly, in ONE
// write each, so replies can be forged onto them (e.g. "220 Ready\r\n250 AUTH PLAIN\r\n").
struct fake_server_config {
  std::string hostname = "fake.test";
  bool wrapper = false;  // TLS from the first byte (RFC 8314), greeting inside TLS
  std::string greeting;  // "" = "220 <hostname> ESMTP smtpsim\r\n"
  std::chrono::milliseconds greeting_delay{0};
  // ehlo / ehlo_tls are the extension lines of the EHLO reply before / inside TLS.
  std::vector<std::string> ehlo = {"PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES",
                                   "8BITMIME"};
  std::vector<std::string> ehlo_tls = {"PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN",
                                       "ENHANCEDSTATUSCODES", "8BITMIME"};
  std::optional<std::string> ehlo_reply;      // exact bytes, replacing the built reply
  std::optional<std::string> ehlo_tls_reply;  // the same inside TLS
  std::chrono::milliseconds ehlo_delay{0};
  std::chrono::milliseconds ehlo_tls_delay{0};
  // starttls_reply: when it starts with "220", TLS starts after it is written.
  std::string starttls_reply = "220 2.0.0 Ready to start TLS\r\n";
  std::chrono::milliseconds starttls_delay{0};
  fake_tls tls;
  // replies overrides the reply to a verb: key "VERB" (both sides), "plain:VERB" or "tls:VERB"
  // (one side only; these win); value: exact bytes. A reply starting with 421 or 221 closes the
  // connection after it is written.
  std::map<std::string, std::string, std::less<>> replies;
  // reset_after lists "VERB", "plain:VERB" or "tls:VERB": after that command arrives, the
  // connection is reset (RST) instead of answered.
  std::vector<std::string> reset_after;
  // auth_challenge is sent to AUTH without an initial response ("334 " + this + CRLF).
  std::string auth_challenge;
};

// client_command is one command line the client sent.
struct client_command {
  std::string line;      // as received, without the line end
  std::string verb;      // upper case, "" for an empty line
  std::string argument;  // after the verb
  bool tls = false;      // arrived inside TLS
  // early: it arrived before our reply to an earlier command was written (pipelined, or sent
  // during a delay); early_after names that earlier command's verb.
  bool early = false;
  std::string early_after;
  bool in_delay = false;        // it arrived while we held a reply back
  std::size_t segment = 0;      // index of the read it arrived in (per connection)
  std::size_t transcript = 0;   // index of its transcript entry (for evidence)
  std::size_t wire_length = 0;  // octets including the line end
  bool sasl_response = false;   // a SASL response line, not a command
};

// connection_record is what one connection showed.
struct connection_record {
  std::uint32_t connection = 0;
  std::vector<client_command> commands;
  bool wrapper = false;
  bool starttls_accepted = false;  // we answered STARTTLS with 220 (then TLS or a fault)
  // after_220: what came first after our 220 to STARTTLS: "tls" (a TLS record), "plaintext"
  // (SMTP text instead of a ClientHello), "nothing" (the client closed or stayed silent).
  std::string after_220;
  std::string after_220_bytes;  // the plaintext, when after_220 == "plaintext" (bounded)
  bool tls_attempted = false;
  std::optional<tls_facts> tls;  // the handshake (or the attempt)
  bool tls_established = false;
  bool client_cert_sent = false;
  std::string client_cert_sha256, client_pubkey_sha256;  // Postfix colon-hex
  // client_cert_fingerprints: all six, "cert sha256 AB:...", "pubkey md5 ..." (engine-filled),
  // the forms relay_clientcerts takes for each smtpd_tls_fingerprint_digest.
  std::vector<std::string> client_cert_fingerprints;
  bool message_accepted = false;  // a message reached "250" after DATA
  bool message_in_tls = false;
  std::string message;  // the content (bounded)
  // tls_wait: from the moment TLS was due (connect in wrapper mode, our 220 to STARTTLS) to the
  // client's first byte; set by the engine.
  std::optional<std::chrono::milliseconds> tls_wait;
  bool client_closed = false;  // the client ended the TCP connection
  bool close_notify = false;   // ... after a TLS close_notify
  std::size_t bytes_received = 0;
};

// Effects of the session; the engine executes them in order.
struct write_effect {
  std::string bytes;  // ONE write
};
// wait_effect: wait `duration` before the next effect while reading what arrives; the engine
// reports it with on_window(bytes).
struct wait_effect {
  std::chrono::milliseconds duration{0};
};
// tls_effect: do the server side of a TLS handshake with the session's fake_tls (its fault
// included); report on_tls_established, on_tls_failed or on_fault_done.
struct tls_effect {};
// close_effect: end the connection (TLS close_notify first when TLS is up).
struct close_effect {};
// reset_effect: end the connection with a RST.
struct reset_effect {};
using server_effect =
    std::variant<write_effect, wait_effect, tls_effect, close_effect, reset_effect>;
using server_effects = std::vector<server_effect>;

// fake_server_session plays one connection. The session keeps a pointer to `log` and records
// every byte in and out there (it is the transcript of the case; several sessions of one case
// share it). Not thread-safe.
class fake_server_session {
 public:
  // max_commands bounds a conversation: more lines than this and the session closes.
  static constexpr std::size_t max_commands = 500;
  // max_recorded_bytes bounds the message and the after-220 plaintext kept.
  static constexpr std::size_t max_recorded_bytes = 64 * 1024;

  fake_server_session(fake_server_config config, std::uint32_t connection, transcript& log,
                      std::chrono::steady_clock::time_point case_start);

  server_effects on_connect();
  // on_data: bytes arrived (plaintext or TLS application data, whichever is current).
  server_effects on_data(std::string_view bytes);
  // on_window: a wait_effect ended; `bytes` arrived during it (maybe nothing).
  server_effects on_window(std::string_view bytes);
  // on_tls_established / on_tls_failed: the tls_effect's handshake. `raw_plaintext` is SMTP text
  // the client sent instead of a ClientHello (then no handshake was attempted).
  server_effects on_tls_established(const tls_facts& facts);
  server_effects on_tls_failed(const tls_facts& facts, std::string_view raw_plaintext);
  // on_fault_done: the configured tls_fault was carried out (the ClientHello was read).
  server_effects on_fault_done();
  // on_closed: the client ended the connection (clean = TLS close_notify came first).
  void on_closed(bool clean);
  // note_tls_wait records how long the client took to send its first byte when TLS was due.
  void note_tls_wait(std::chrono::milliseconds waited) { record_.tls_wait = waited; }
  // note_client_cert_fingerprints records the client certificate's six fingerprints.
  void note_client_cert_fingerprints(std::vector<std::string> lines) {
    record_.client_cert_fingerprints = std::move(lines);
  }

  bool closed() const { return closed_; }
  bool tls_active() const { return tls_; }
  const fake_server_config& config() const { return config_; }
  const connection_record& record() const { return record_; }
  connection_record take_record() { return std::move(record_); }

 private:
  enum class mode : std::uint8_t { commands, data, sasl, awaiting_tls, closed };

  void consume(std::string_view bytes, bool in_delay);
  void finish_message();
  void handle_line(const protocol::framed_line& line, bool in_delay);
  void handle_command(client_command& c);
  std::string reply_for(std::string_view verb, std::string fallback) const;
  bool resets_after(std::string_view verb) const;
  std::string ehlo_reply(std::string_view client_name) const;
  void respond(std::string bytes, std::chrono::milliseconds delay = {});
  server_effects flush();
  std::chrono::microseconds now() const;

  fake_server_config config_;
  std::uint32_t connection_;
  transcript* log_;
  std::chrono::steady_clock::time_point case_start_;
  connection_record record_;
  protocol::line_framer framer_;
  protocol::data_reader data_;
  mode mode_ = mode::commands;
  bool tls_ = false;
  bool closed_ = false;
  std::size_t segment_ = 0;
  std::size_t sasl_lines_left_ = 0;
  // held_ is a reply held back by a delay: written when the wait_effect's window closes.
  struct held_reply {
    std::string bytes;
    bool then_tls = false;  // the 220 to STARTTLS: TLS starts after it
    bool then_close = false;
    std::string verb;  // the command it answers ("" for the greeting)
    std::chrono::milliseconds delay{0};
  };
  std::optional<held_reply> held_;
  std::string unanswered_;  // verb of the last command of this read, not answered yet
  std::string out_;         // replies of this read, written as ONE write by flush()
  server_effects pending_;
  bool stop_ = false;  // the connection ends or upgrades: ignore the rest of this read
  std::size_t messages_ = 0;
};

}  // namespace smtpsim::script
