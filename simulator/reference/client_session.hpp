#pragma once
// client_session is the sans-I/O SMTP client of the reference peer: a state machine that takes
// events (connected, bytes received, TLS up or failed, timeout, peer closed) and returns effects
// (write these exact bytes, start TLS, close, reconnect in plaintext, finished). It owns no
// socket, so every conversation is tested with byte vectors (style.md §7.1); reference_client
// only executes the effects. It is the model of a conformant client for checks.md Part B; each
// fault of client_fault_set changes exactly one behaviour.
//
// Policies use Postfix's words (smtp_tls_security_level, checks.md Part C "Postfix (client)"):
//   none     never STARTTLS.
//   may      STARTTLS when offered; if it is refused, continue in plaintext on the same
//            connection; if the handshake fails, reconnect once and deliver in plaintext without
//            STARTTLS (checks.md B8). Any certificate is accepted.
//   encrypt  TLS is required (no STARTTLS, a refusal or a failed handshake: QUIT or close, no
//            delivery). Any certificate is accepted.
//   verify   as encrypt, and the chain must verify against the trust store and the certificate
//   secure   must match the server name; otherwise QUIT right after the handshake (RFC 3207
//            §4.1). secure is the same as verify here.
// Wrapper mode (RFC 8314 §3.3) starts TLS before the first byte and never uses STARTTLS.
//
// Other rules: it waits for every reply (pipelining only MAIL/RCPT/DATA, and only when the
// current EHLO advertises PIPELINING, RFC 2920); replies that arrive before the command they
// would answer was sent are discarded (this drops replies injected after the 220 to STARTTLS,
// RFC 3207 §4.2, and after a refused STARTTLS); every capability learnt before TLS is forgotten
// and EHLO is sent again inside TLS (RFC 3207 §4.2); credentials are sent only inside TLS, only
// if the certificate verified (RFC 4954 §14) and only with a mechanism the current EHLO offers
// (PLAIN with an initial response, or LOGIN); a reply is judged by the first digit of its code
// (RFC 5321 §4.2.1); a 421 ends the session at once; a reply with mixed codes or a line that is
// not a reply is a protocol error (QUIT).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "simulator/protocol/ehlo.hpp"
#include "simulator/protocol/reply.hpp"

#include "simulator/reference/client_fault.hpp"

namespace smtpsim::reference::client {

// tls_policy is the client's TLS security level (Postfix smtp_tls_security_level).
enum class tls_policy : std::uint8_t { none, may, encrypt, verify, secure };

std::string_view to_string(tls_policy p);  // "none", "may", ...
// parse_tls_policy accepts the names of to_string (case-insensitive); nullopt otherwise.
std::optional<tls_policy> parse_tls_policy(std::string_view name);
// is_mandatory: TLS is required (encrypt, verify, secure).
constexpr bool is_mandatory(tls_policy p) { return p >= tls_policy::encrypt; }
// checks_certificate: the certificate must verify (verify, secure).
constexpr bool checks_certificate(tls_policy p) { return p >= tls_policy::verify; }

// Exit statuses of `smtpsim send` (2, bad usage, is the command line's).
inline constexpr int exit_delivered = 0;
inline constexpr int exit_not_delivered = 1;

// max_auth_line is the longest AUTH line with an initial response, CRLF included
// (RFC 4954 §4, RFC 5321 §4.5.3.1.4: 512 octets); a longer one uses the empty-challenge path.
inline constexpr std::size_t max_auth_line = 512;

// client_config is everything one client run needs to know.
struct client_config {
  tls_policy policy = tls_policy::may;
  bool wrapper = false;  // TLS from the first byte (RFC 8314)
  std::string helo_name = "client.test";
  std::string mail_from = "sender@client.test";  // "" sends the null reverse-path <>
  std::vector<std::string> rcpt_to = {"rcpt@mx.test"};
  // message is the content (headers and body). Line ends are normalised to CRLF and lines are
  // dot-stuffed when it is sent (RFC 5321 §2.3.8, §4.5.2; checks.md B11).
  std::string message;
  std::string auth_user;  // empty: no AUTH
  std::string auth_password;
  client_fault_set faults;

  bool has_credentials() const { return !auth_user.empty(); }
};

// tls_result is what the driver learnt from a completed handshake.
struct tls_result {
  bool chain_ok = false;  // the chain verified against the trust store
  bool name_ok = false;   // the leaf certificate matches the server name (RFC 6125)
  std::string version;    // "TLSv1.3"
  std::string cipher;
  std::string detail;  // why the chain or name did not verify, for messages
};

// Effects. The driver executes them in order.

// write_bytes: send `bytes` in ONE write (one buffer, TCP_NODELAY).
struct write_bytes {
  std::string bytes;
};
// start_tls: do the client side of a TLS handshake on the connection, then report
// on_tls_established or on_tls_failed.
struct start_tls {};
// close_connection: end the connection; with `send_close_notify`, send a TLS close_notify first
// (RFC 8314 §3.4).
struct close_connection {
  bool send_close_notify = false;
};
// reconnect_plaintext: open a new TCP connection to the same server and report on_connected
// (the previous connection was closed by an earlier close_connection).
struct reconnect_plaintext {};
// finished: the run is over; `exit_status` is exit_delivered or exit_not_delivered and
// `message` says why in one line.
struct finished {
  int exit_status = exit_not_delivered;
  std::string message;
};
// note: a line for the verbose transcript (no action).
struct note {
  std::string text;
};

using client_effect =
    std::variant<write_bytes, start_tls, close_connection, reconnect_plaintext, finished, note>;
using client_effects = std::vector<client_effect>;

// client_session is the state machine. Not thread-safe; one per run (it spans the plaintext
// retry connection too). After `finished`, every input returns no effects.
class client_session {
 public:
  explicit client_session(client_config config);

  // on_connected: the TCP connection is up. Wrapper mode: returns start_tls.
  client_effects on_connected();
  // on_bytes: bytes arrived (plaintext or TLS application data, whichever is current).
  client_effects on_bytes(std::string_view bytes);
  // on_tls_established: the handshake requested by start_tls completed.
  client_effects on_tls_established(const tls_result& result);
  // on_tls_failed: the handshake failed or timed out; `why` says how.
  client_effects on_tls_failed(std::string_view why);
  // on_timeout: nothing (or not enough) arrived within the deadline.
  client_effects on_timeout();
  // on_closed: the server closed the connection (EOF, reset or read error).
  client_effects on_closed(std::string_view why);

  bool done() const { return phase_ == phase::done; }
  bool tls_active() const { return tls_active_; }
  // exit_status is set once `finished` was returned.
  std::optional<int> exit_status() const;
  // discarded_octets counts received octets thrown away as unsolicited (e.g. replies injected
  // after the 220 to STARTTLS).
  std::size_t discarded_octets() const { return discarded_; }
  bool retried_in_plaintext() const { return retried_; }
  const client_config& config() const { return config_; }

 private:
  enum class phase : std::uint8_t {
    idle,         // before on_connected
    handshake,    // start_tls returned: waiting for the TLS result
    greeting,     // waiting for the 220 greeting
    ehlo,         // EHLO sent
    helo,         // HELO sent (EHLO was refused)
    starttls,     // STARTTLS sent
    nested,       // fault::nested_starttls: STARTTLS sent inside TLS
    auth,         // AUTH exchange in progress
    transaction,  // MAIL / RCPT / DATA replies pending
    content,      // the message (or a lone ".") was sent: waiting for the final reply
    quitting,     // QUIT sent: waiting for its reply or the close
    done,
  };
  enum class auth_step : std::uint8_t {
    plain_sent,       // AUTH PLAIN <initial response> (or the response after 334)
    plain_challenge,  // AUTH PLAIN without initial response: waiting for 334
    login_user,       // AUTH LOGIN: waiting for the first 334
    login_password,   // waiting for the second 334
    login_sent,       // password sent: waiting for 235
    cancelled,        // "*" sent: waiting for the 501
  };
  enum class pending : std::uint8_t { mail, rcpt, data };

  void pump();
  void handle(const protocol::reply& r);
  void on_greeting(const protocol::reply& r);
  void on_ehlo(const protocol::reply& r);
  void on_helo(const protocol::reply& r);
  void on_starttls(const protocol::reply& r);
  void on_nested(const protocol::reply& r);
  void on_auth(const protocol::reply& r);
  void on_transaction(const protocol::reply& r);
  void on_content(const protocol::reply& r);

  void send_ehlo();
  void after_ehlo();
  void after_auth_decision();
  bool start_auth();
  void start_transaction();
  void advance_transaction();
  void send_content();

  void write(std::string bytes);
  void discard_unsolicited();
  void quit(int status, std::string why);
  void close_and_finish(int status, std::string why);
  void emit(client_effect e) { out_.push_back(std::move(e)); }
  void log(std::string text) { emit(note{std::move(text)}); }
  void reset_connection_state();
  client_effects take();

  bool requires_tls() const;  // no plaintext delivery (policy, unless fault::plaintext_fallback)
  bool has(client_fault f) const { return config_.faults.has(f); }
  std::string_view waiting_for() const;

  client_config config_;
  protocol::reply_reader reader_;
  phase phase_ = phase::idle;
  client_effects out_;

  // Per connection.
  bool tls_active_ = false;
  bool cert_trusted_ = false;                // chain and name verified (or fault::accepts_any_cert)
  std::optional<protocol::ehlo_info> ehlo_;  // the current EHLO (or HELO: no extensions)
  bool authenticated_ = false;
  bool nested_tried_ = false;
  bool keep_buffer_once_ = false;                   // fault::reads_forged_replies
  std::optional<std::string> quit_after_greeting_;  // wrapper mode with a bad certificate
  auth_step auth_step_ = auth_step::plain_sent;

  // The transaction.
  bool pipelined_ = false;
  std::deque<pending> pending_;
  std::size_t rcpt_sent_ = 0;
  std::size_t rcpt_answered_ = 0;
  bool mail_sent_ = false;
  std::optional<protocol::reply> mail_reply_;
  std::vector<std::string> rcpt_refused_;  // "<addr>: <reply>"
  std::size_t rcpt_accepted_ = 0;
  bool data_sent_ = false;
  std::optional<protocol::reply> data_reply_;
  std::optional<std::string> abandon_reason_;  // a lone "." was sent: why the run failed

  // Across the plaintext retry.
  bool retried_ = false;
  std::size_t discarded_ = 0;
  int status_ = exit_not_delivered;
  std::string reason_;
  std::optional<int> final_status_;
};

// normalize_line_ends turns every bare CR and bare LF of `text` into CRLF (RFC 5321 §2.3.8).
std::string normalize_line_ends(std::string_view text);

}  // namespace smtpsim::reference::client
