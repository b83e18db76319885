#pragma once
// server_session is the sans-I/O SMTP server of the reference peer: a state machine that takes
// events (connected, bytes received, TLS up or failed, idle timeout) and returns effects (write
// these exact bytes, start TLS, close, deliver a message). It owns no socket, so every
// conversation, STARTTLS included, is tested with byte vectors (style.md §7.1); the Asio driver
// (reference_server) only executes the effects.
//
// Its conformant behaviour is a careful Postfix (checks.md Part C). Each fault of `fault_set`
// changes exactly one behaviour.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "simulator/protocol/data.hpp"
#include "simulator/protocol/line_framer.hpp"

#include "simulator/reference/fault.hpp"
#include "simulator/reference/server_policy.hpp"

namespace smtpsim::protocol {
struct command;
}

namespace smtpsim::reference {

// max_command_length is the longest command line accepted, in octets without the CRLF
// (Postfix line_length_limit = 2048; RFC 5321 §4.5.3.1.4 asks for at least 512).
inline constexpr std::size_t max_command_length = 2048;
// max_auth_line_length is the longest AUTH command or SASL response line, in octets without the
// CRLF (RFC 4954 §4: 12288 octets are sufficient for any SASL exchange).
inline constexpr std::size_t max_auth_line_length = 12288;
// max_message_size is the SIZE advertised and enforced (RFC 1870).
inline constexpr std::size_t max_message_size = 10240000;
// max_recipients per transaction; more get 452 4.5.3 (RFC 5321 §4.5.3.1.8 asks for 100).
inline constexpr std::size_t max_recipients = 100;
// max_errors is the number of error replies after which the server says 421 and closes
// (Postfix smtpd_hard_error_limit = 20).
inline constexpr std::size_t max_errors = 20;
// starttls_linger is how long the driver collects plaintext after the 220 to STARTTLS when
// fault::execute_pipelined_after_starttls is set (to make the split-segment injection
// deterministic).
inline constexpr std::chrono::milliseconds starttls_linger{400};
// greeting_hold is how long the greeting is held back under fault::reply_before_greeting.
inline constexpr std::chrono::milliseconds greeting_hold{200};

// tls_peer_info is what the driver learnt from a completed handshake.
struct tls_peer_info {
  std::string version;  // "TLSv1.3"
  std::string cipher;
  bool client_cert_presented = false;
  std::string client_cert_sha256;    // colon hex, upper case (Postfix form); "" if none
  std::string client_pubkey_sha256;  // fingerprint of the SubjectPublicKeyInfo; "" if none
  std::string client_cert_md5;       // the same two in md5 (fault::md5_client_cert_fingerprints)
  std::string client_pubkey_md5;
  // client_cert_trusted: the certificate verified against the listener's CA file.
  bool client_cert_trusted = false;
};

// requests_client_cert says whether a listener's handshakes carry a CertificateRequest: when it
// asks for or requires a client certificate (fault::skip_client_cert_request drops the request
// where it is only asked for).
bool requests_client_cert(const server_policy& policy, const fault_set& faults);

// relay_memory is shared by the sessions of one server: the reverse-paths that relayed under a
// listed client certificate (used only by fault::ccert_relay_remembers_sender).
struct relay_memory {
  std::set<std::string> senders;
};

// delivered_message is one accepted message, handed to the sink.
struct delivered_message {
  std::string listener;                 // session_config::listener_name
  std::string queue_id;                 // the ID in "250 2.0.0 Ok: queued as <ID>" and in Received
  std::string helo_name;                // the EHLO/HELO argument in force when DATA ended
  std::string reverse_path;             // the MAIL FROM mailbox, "" for the null reverse-path <>
  std::vector<std::string> recipients;  // RCPT TO mailboxes (source routes dropped)
  // content is the message as received (dot-stuffing removed, line ends as on the wire), with
  // our Received header prepended.
  std::string content;
  std::string protocol;  // the Received "with" word: SMTP, ESMTP, ESMTPA, ESMTPS or ESMTPSA
  bool tls = false;      // TLS was active when DATA ended
  std::string tls_version;
  std::string auth_user;           // the SASL identity, "" if not authenticated
  std::string client_cert_sha256;  // the client certificate's fingerprint, "" if none
};

// Effects. The driver executes them in order.

// write_bytes: send `bytes` in ONE write (one buffer, TCP_NODELAY).
struct write_bytes {
  std::string bytes;
};
// start_tls: perform the server side of a TLS handshake on the connection, then report
// on_tls_established or on_tls_failed. If `sniff_plaintext` is set, first wait for the client's
// first octet: if it is not 0x16 (a TLS handshake record), read the plaintext that has arrived
// and report on_tls_failed with it instead of attempting the handshake.
struct start_tls {
  bool sniff_plaintext = false;
};
// close_connection: end the connection; with `send_close_notify`, send a TLS close_notify
// first (RFC 8314 §3.4).
struct close_connection {
  bool send_close_notify = false;
};
// deliver: hand a message to the sink.
struct deliver {
  delivered_message message;
};
// read_window: read plaintext for up to `duration` without answering, then report
// on_window_closed with what arrived (maybe nothing). Reading stops early at a line that starts
// with 0x16 (a TLS handshake record), which stays unread for the handshake. Only faults emit it.
struct read_window {
  std::chrono::milliseconds duration{0};
};

using effect = std::variant<write_bytes, start_tls, close_connection, deliver, read_window>;
using effects = std::vector<effect>;

// session_config is everything one session needs to know.
struct session_config {
  std::string hostname = "mx.test";
  std::string listener_name = "starttls";
  listener_kind kind = listener_kind::starttls;
  server_policy policy;
  fault_set faults;
  credentials login;
  // local_domains are the domains whose mailboxes are delivered here; RCPT to any other domain
  // is relaying (RFC 2505 §2.1). Compared case-insensitively.
  std::vector<std::string> local_domains = {"mx.test", "localhost"};
  // relay_client_certs are sha256 fingerprints (certificate or public key, colon hex) of client
  // certificates allowed to relay (Postfix relay_clientcerts / permit_tls_clientcerts).
  std::vector<std::string> relay_client_certs;
  // memory is shared by the server's sessions (fault::ccert_relay_remembers_sender); may be null.
  std::shared_ptr<relay_memory> memory;
  std::string peer_ip = "127.0.0.1";  // for the Received header's TCP-info
  std::uint64_t connection_id = 0;    // makes queue IDs unique across sessions
  // now is the clock for the Received date; empty means std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> now;
};

// server_session is the state machine. Every input returns the effects it causes; the replies
// produced by one input go out as ONE write_bytes, after the input is consumed (RFC 2920 §3.2:
// replies in order, one per command, nothing lost, flushed when the input is drained).
// Not thread-safe; one per connection.
class server_session {
 public:
  explicit server_session(session_config config);

  // on_connect: the TCP connection is up. Returns the greeting (STARTTLS and plaintext
  // listeners) or a start_tls (wrapper listeners, which greet inside TLS: RFC 8314 §3.3).
  effects on_connect();
  // on_data: bytes arrived (plaintext or TLS application data, whichever is current).
  effects on_data(std::string_view bytes);
  // on_window_closed: the read_window ended; `bytes` is what arrived in it (maybe nothing).
  effects on_window_closed(std::string_view bytes);
  // on_tls_established: the handshake requested by start_tls completed.
  effects on_tls_established(const tls_peer_info& info);
  // on_tls_failed: the handshake failed (`why` says how), or with start_tls::sniff_plaintext
  // the client sent `raw_first_bytes`, which are not TLS.
  effects on_tls_failed(std::string_view why, std::string_view raw_first_bytes);
  // on_idle_timeout: nothing arrived for the idle period.
  effects on_idle_timeout();

  bool tls_active() const { return tls_active_; }
  bool closed() const { return phase_ == phase::closed; }
  const std::string& auth_user() const { return auth_user_; }
  // discarded_plaintext counts the octets thrown away after a 220 to STARTTLS
  // (RFC 3207 §4.2, CVE-2011-0411).
  std::size_t discarded_plaintext() const { return discarded_plaintext_; }
  std::size_t error_count() const { return errors_; }
  const session_config& config() const { return config_; }

 private:
  enum class phase : std::uint8_t {
    idle,             // before on_connect
    greeting_held,    // fault::reply_before_greeting: inside the read_window
    wrapper_tls,      // wrapper listener: waiting for the first handshake
    commands,         // reading commands
    data,             // reading message content after 354
    bdat,             // reading a BDAT chunk: chunk_remaining_ more octets (RFC 3030 §2)
    auth_plain,       // AUTH PLAIN: waiting for the response to "334 "
    auth_login_user,  // AUTH LOGIN: waiting for the user name
    auth_login_pass,  // AUTH LOGIN: waiting for the password
    auth_cram,        // AUTH CRAM-MD5: waiting for "user digest" (RFC 2195)
    awaiting_tls,     // 220 to STARTTLS sent: waiting for the handshake
    nested_tls,       // fault::accept_nested_starttls: "expecting" a nested handshake
    hung,             // fault::hang_on_starttls_before_ehlo: silent forever
    closed,
  };

  void consume(std::string bytes);
  void consume_input(std::string bytes);
  void reverse_replies();
  void handle_line(const protocol::framed_line& line);
  void handle_command(const protocol::framed_line& line);
  void handle_auth_response(const protocol::framed_line& line);
  bool in_auth_exchange() const;
  bool reading_commands() const { return phase_ == phase::commands || in_auth_exchange(); }
  bool lenient_data_end() const;
  bool take_lenient_data(std::string& bytes);
  std::optional<std::string> decode_response(std::string_view text) const;
  std::string split_overlong(std::string_view bytes);

  void cmd_ehlo(const protocol::command* c, std::string_view argument, bool esmtp);
  void cmd_starttls(std::string_view argument);
  void cmd_auth(std::string_view argument);
  void cmd_mail(const protocol::command* c, std::string_view argument);
  void cmd_rcpt(const protocol::command* c, std::string_view argument);
  void cmd_data(std::string_view argument);
  void cmd_bdat(const protocol::command* c);
  void start_chunk(std::uint64_t size, bool last,
                   std::optional<std::pair<int, std::string>> refusal);
  void finish_chunk();
  void queue_message(const std::string& content);

  void auth_plain_response(std::string_view decoded);
  void auth_finish(bool ok, std::string_view user);
  void auth_cancelled();
  void finish_data();
  void greet();
  void reply(int code, std::string_view text);
  void raw_reply(std::string_view bytes);
  void close(bool send_close_notify);
  void check_error_limit();
  effects flush();

  bool starttls_offered() const;
  bool auth_offered() const;
  bool in_transaction() const { return reverse_path_.has_value(); }
  bool is_local_recipient(const std::string& local_part, const std::string& domain,
                          bool address_literal) const;
  bool relay_permitted() const;
  bool client_cert_listed() const;
  std::string ehlo_reply() const;
  std::string received_header(const std::string& queue_id, const std::string& protocol) const;
  std::string protocol_word() const;
  void reset_transaction();

  session_config config_;
  protocol::line_framer framer_;
  protocol::data_reader data_;
  phase phase_ = phase::idle;

  // What the client told us; forgotten when TLS starts (RFC 3207 §4.2).
  std::optional<std::string> helo_name_;
  bool esmtp_ = false;                       // the client said EHLO (not HELO)
  std::string first_helo_name_;              // never forgotten (fault::received_uses_first_ehlo)
  std::string auth_user_;                    // "" when not authenticated
  std::string login_user_;                   // AUTH LOGIN: the user name received so far
  std::string cram_challenge_;               // AUTH CRAM-MD5: the challenge sent
  std::uint32_t challenges_ = 0;             // makes CRAM-MD5 challenges unique
  std::optional<std::string> reverse_path_;  // set by MAIL; the transaction is open
  std::vector<std::string> recipients_;
  // CHUNKING (RFC 3030): the BDAT chunk being read, and the message so far.
  std::uint64_t chunk_size_ = 0;
  std::uint64_t chunk_remaining_ = 0;
  bool chunk_last_ = false;
  std::optional<std::pair<int, std::string>> chunk_refusal_;  // the reply once it is read
  std::string bdat_message_;
  bool bdat_in_transaction_ = false;  // a chunk was accepted: DATA may not follow
  bool bdat_too_large_ = false;
  bool keep_envelope_on_ehlo_ = false;  // fault::starttls_keeps_envelope

  bool tls_active_ = false;
  tls_peer_info tls_info_;
  bool cert_refused_ = false;  // require_client_cert and none (or an untrusted one) presented
  // injected_ holds the plaintext pipelined after STARTTLS under
  // fault::ccert_relay_keeps_injected_commands, until the handshake shows a client certificate.
  std::string injected_;

  std::size_t errors_ = 0;
  std::size_t discarded_plaintext_ = 0;
  std::uint32_t queued_ = 0;
  // lenient_data_ holds the DATA content while a fault makes look-alike sequences end it
  // (fault::lf_dot_lf_ends_data and its kin); the conformant server never uses it.
  std::string lenient_data_;
  // overlong_run_ counts the octets of the current line under fault::execute_overlong_tail.
  std::size_t overlong_run_ = 0;

  // The read being consumed: where each line's replies begin in out_, and how many lines
  // (fault::reorder_pipelined_replies, fault::hold_replies_after_pipelining).
  std::vector<std::size_t> reply_marks_;
  bool client_pipelined_ = false;          // some read carried two or more lines
  bool last_command_pipelinable_ = false;  // the last command was MAIL, RCPT or RSET
  std::string held_;                       // fault::hold_replies_after_pipelining

  // Output of the current input: replies (one write) and the effects around them.
  std::string out_;
  effects before_;  // deliveries, executed before the write
  effects after_;   // start_tls / close / read_window, executed after the write
};

// format_rfc5322_date renders `t` in UTC as RFC 5322 §3.3 date-time, e.g.
// "Tue, 01 Jul 2025 10:00:00 +0000".
std::string format_rfc5322_date(std::chrono::system_clock::time_point t);

}  // namespace smtpsim::reference
