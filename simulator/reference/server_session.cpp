#include "simulator/reference/server_session.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <utility>

#include <fmt/format.h>

#include "simulator/protocol/address.hpp"
#include "simulator/protocol/command.hpp"
#include "simulator/protocol/ehlo.hpp"
#include "simulator/protocol/reply.hpp"
#include "simulator/protocol/text.hpp"

#include "simulator/reference/sasl.hpp"
#include "simulator/tls/base64.hpp"

namespace smtpsim::reference {
namespace {

using protocol::verb;

using protocol::iequals;
using protocol::istarts_with;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

struct verb_name {
  std::string_view name;
  verb v;
};

constexpr std::array<verb_name, 14> verb_names{{
    {"EHLO", verb::ehlo},
    {"HELO", verb::helo},
    {"STARTTLS", verb::starttls},
    {"AUTH", verb::auth},
    {"MAIL", verb::mail},
    {"RCPT", verb::rcpt},
    {"DATA", verb::data},
    {"BDAT", verb::bdat},
    {"RSET", verb::rset},
    {"NOOP", verb::noop},
    {"QUIT", verb::quit},
    {"VRFY", verb::vrfy},
    {"EXPN", verb::expn},
    {"HELP", verb::help},
}};

// first_word returns the verb of a command line (up to the first SP).
std::string_view first_word(std::string_view line) { return line.substr(0, line.find(' ')); }

// verb_of recognises the verb of a line the command parser refused, so that the reply can say
// what was wrong with that command (e.g. 501 5.1.7 for a MAIL with a bad path).
verb verb_of(std::string_view line) {
  std::string_view word = first_word(line);
  for (const verb_name& n : verb_names) {
    if (iequals(word, n.name)) {
      return n.v;
    }
  }
  return verb::unknown;
}

// argument_of returns what follows the verb and its SP.
std::string_view argument_of(std::string_view line) {
  std::size_t sp = line.find(' ');
  return sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
}

// allowed_before_tls lists the commands a TLS-required listener accepts in plaintext
// (RFC 3207 §4: "NOOP, EHLO, STARTTLS, or QUIT").
bool allowed_before_tls(verb v) {
  return v == verb::noop || v == verb::ehlo || v == verb::starttls || v == verb::quit;
}

// unbounded_auth_line_length is the framer's limit under fault::unbounded_auth_line.
constexpr std::size_t unbounded_auth_line_length = std::size_t{1} << 20U;

// is_base64_char is true for the base64 alphabet without the pad (RFC 4648 §4).
bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// lenient_end is a look-alike end of DATA found by find_lenient_end: the octets [begin, end)
// are the sequence; `standard` is true for the real "\r\n.\r\n".
struct lenient_end {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool standard = false;
};

// find_lenient_end looks for the first end of DATA in `buf` (the content from its start) that
// a server with the given faults takes: the real one always, the look-alikes per fault. A
// sequence whose last octet could still change the verdict is not taken until more arrives.
std::optional<lenient_end> find_lenient_end(std::string_view buf, const fault_set& f) {
  const auto at = [&](std::size_t i) { return i < buf.size() ? buf[i] : '\0'; };
  const auto crlf_at = [&](std::size_t i) { return at(i) == '\r' && at(i + 1) == '\n'; };
  for (std::size_t i = 0; i < buf.size(); ++i) {
    if (buf[i] != '.') {
      continue;
    }
    const bool after_crlf = i >= 2 && buf[i - 2] == '\r' && buf[i - 1] == '\n';
    const bool after_bare_lf = i >= 1 && buf[i - 1] == '\n' && !(i >= 2 && buf[i - 2] == '\r');
    const bool after_bare_cr = i >= 1 && buf[i - 1] == '\r';
    if ((i == 0 || after_crlf) && crlf_at(i + 1)) {
      return lenient_end{i == 0 ? 0 : i - 2, i + 3, true};
    }
    if (i + 2 >= buf.size()) {
      return std::nullopt;  // the octets after the dot decide; wait for them
    }
    if (f.has(fault::lf_dot_lf_ends_data) && after_bare_lf) {
      if (at(i + 1) == '\n') {
        return lenient_end{i - 1, i + 2};
      }
      if (crlf_at(i + 1)) {
        return lenient_end{i - 1, i + 3};
      }
    }
    if (f.has(fault::cr_dot_ends_data)) {
      if (after_bare_cr && crlf_at(i + 1)) {
        return lenient_end{i - 1, i + 3};  // \r.\r\n
      }
      if (after_bare_cr && (at(i + 1) == '\r' || at(i + 1) == '\n')) {
        return lenient_end{i - 1, i + 2};  // \r.\r, \r.\n
      }
      if (after_bare_lf && at(i + 1) == '\r' && at(i + 2) != '\n') {
        return lenient_end{i - 1, i + 2};  // \n.\r
      }
    }
    if (f.has(fault::nul_dot_ends_data) && i >= 3 && buf[i - 1] == '\0' && buf[i - 3] == '\r' &&
        buf[i - 2] == '\n' && crlf_at(i + 1)) {
      return lenient_end{i - 3, i + 3};
    }
    if (f.has(fault::extra_cr_ends_data) && after_crlf && at(i + 1) == '\r' && crlf_at(i + 2)) {
      return lenient_end{i - 2, i + 4};
    }
  }
  return std::nullopt;
}

// short_command_limit is the command limit under fault::short_command_limit, in octets without
// the CRLF: a line of 512 octets with its CRLF is already too long.
constexpr std::size_t short_command_limit = 509;

// overlong_tail_buffer is the command buffer of fault::execute_overlong_tail, in octets without
// the CRLF: a classic 512-octet buffer.
constexpr std::size_t overlong_tail_buffer = 510;

// split_text_line_length is the text line length at which fault::split_long_text_lines breaks.
constexpr std::size_t split_text_line_length = 990;

// upper_case_word is true if the verb of `line` has no lower-case letter.
bool upper_case_word(std::string_view line) {
  const std::string_view word = first_word(line);
  return std::none_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// split_long_lines inserts a CRLF after every `width` octets of a line
// (fault::split_long_text_lines).
std::string split_long_lines(std::string_view text, std::size_t width) {
  std::string out;
  out.reserve(text.size());
  std::size_t run = 0;
  for (char c : text) {
    if (c == '\r' || c == '\n') {
      run = 0;
    } else if (run == width) {
      out += "\r\n";
      run = 1;
    } else {
      ++run;
    }
    out.push_back(c);
  }
  return out;
}

// printable_word is true for a non-empty run of visible US-ASCII (no CR, LF, NUL, SP, 8-bit):
// safe to copy into a Received header.
bool printable_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// address_literal renders the client's IP as RFC 5321 §4.1.3 address literal.
std::string address_literal(std::string_view ip) {
  if (ip.find(':') != std::string_view::npos) {
    return fmt::format("[IPv6:{}]", ip);
  }
  return fmt::format("[{}]", ip);
}

}  // namespace

std::string format_rfc5322_date(std::chrono::system_clock::time_point t) {
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
                     days.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                     months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

server_session::server_session(session_config config)
    : config_(std::move(config)),
      // A bare LF never ends a line (RFC 5321 §2.3.8). The framer admits AUTH lines up to
      // 12288 octets (RFC 4954 §4); other commands are held to max_command_length below.
      framer_(protocol::framing_limits{config_.faults.has(fault::unbounded_auth_line)
                                           ? unbounded_auth_line_length
                                           : max_auth_line_length + 2,
                                       config_.faults.has(fault::bare_lf_ends_command)}),
      data_(protocol::data_limits{max_message_size}) {}

// ---------------------------------------------------------------------------------------------
// Inputs

effects server_session::on_connect() {
  if (phase_ != phase::idle) {
    return {};
  }
  if (config_.kind == listener_kind::wrapper) {
    // RFC 8314 §3.3: the handshake begins immediately; the greeting comes inside TLS.
    if (config_.faults.has(fault::greet_plaintext_on_wrapper)) {
      greet();
    }
    phase_ = phase::wrapper_tls;
    after_.emplace_back(start_tls{config_.faults.has(fault::wrapper_answers_plaintext)});
  } else if (config_.faults.has(fault::reply_before_greeting)) {
    phase_ = phase::greeting_held;
    after_.emplace_back(read_window{greeting_hold});
  } else {
    greet();
    phase_ = phase::commands;
  }
  return flush();
}

effects server_session::on_data(std::string_view bytes) {
  switch (phase_) {
    case phase::commands:
    case phase::data:
    case phase::bdat:
    case phase::auth_plain:
    case phase::auth_login_user:
    case phase::auth_login_pass:
    case phase::auth_cram:
      consume(std::string(bytes));
      break;
    case phase::greeting_held:
      framer_.feed(bytes);  // answered when the window closes
      break;
    case phase::awaiting_tls:
      if (config_.faults.has(fault::execute_pipelined_after_starttls)) {
        framer_.feed(bytes);
      } else {
        discarded_plaintext_ += bytes.size();  // RFC 3207 §4.2
      }
      break;
    case phase::nested_tls:
      // A server expecting a nested handshake takes these bytes for TLS records: they are not.
      if (!bytes.empty()) {
        close(false);
      }
      break;
    case phase::idle:
    case phase::wrapper_tls:
    case phase::hung:
    case phase::closed:
      break;
  }
  return flush();
}

effects server_session::on_window_closed(std::string_view bytes) {
  if (phase_ == phase::greeting_held) {
    // fault::reply_before_greeting: answer what came early, then greet.
    phase_ = phase::commands;
    consume(std::string(bytes));
    if (reading_commands() || phase_ == phase::data) {
      greet();
    }
  } else if (phase_ == phase::awaiting_tls) {
    return on_data(bytes);
  }
  return flush();
}

effects server_session::on_tls_established(const tls_peer_info& info) {
  if (phase_ != phase::awaiting_tls && phase_ != phase::wrapper_tls) {
    return {};
  }
  const bool wrapper_start = phase_ == phase::wrapper_tls;
  tls_active_ = true;
  tls_info_ = info;
  // RFC 3207 §4.1: below the required security, refuse every command but QUIT: no certificate
  // (Postfix: "No client certificate presented"), or one that does not verify against the CA
  // file ("Client certificate not trusted").
  if (config_.policy.require_client_cert) {
    if (!info.client_cert_presented) {
      cert_refused_ = !config_.faults.has(fault::accept_without_client_cert);
    } else if (!info.client_cert_trusted) {
      cert_refused_ = !config_.faults.has(fault::accept_untrusted_client_cert);
    }
  }
  phase_ = phase::commands;
  if (wrapper_start) {
    greet();
  }
  // Nothing is buffered here unless a fault kept the plaintext pipelined after STARTTLS.
  std::string kept = std::move(injected_);
  injected_.clear();
  if (!info.client_cert_presented) {
    discarded_plaintext_ += kept.size();
    kept.clear();
  }
  consume(std::move(kept));
  return flush();
}

effects server_session::on_tls_failed(std::string_view why, std::string_view raw_first_bytes) {
  (void)why;
  if (phase_ == phase::wrapper_tls && config_.faults.has(fault::wrapper_answers_plaintext)) {
    phase_ = phase::commands;
    greet();
    consume(std::string(raw_first_bytes));
  } else if (phase_ == phase::awaiting_tls &&
             config_.faults.has(fault::plaintext_after_failed_handshake)) {
    phase_ = phase::commands;
    consume(std::string(raw_first_bytes));
  } else if (phase_ == phase::awaiting_tls || phase_ == phase::wrapper_tls) {
    // RFC 3207 §4.1: never fall back to plaintext SMTP after the 220; the conversation is in an
    // unknown state, so disconnect (as Postfix does).
    close(false);
  }
  return flush();
}

effects server_session::on_idle_timeout() {
  switch (phase_) {
    case phase::idle:
    case phase::closed:
      return {};
    case phase::commands:
    case phase::data:
    case phase::bdat:
    case phase::auth_plain:
    case phase::auth_login_user:
    case phase::auth_login_pass:
    case phase::auth_cram:
      out_.insert(0, held_);
      held_.clear();
      reply(421, fmt::format("4.4.2 {} Error: timeout exceeded", config_.hostname));
      close(tls_active_);
      break;
    case phase::greeting_held:
    case phase::wrapper_tls:
    case phase::awaiting_tls:
    case phase::nested_tls:
    case phase::hung:
      close(false);
      break;
  }
  return flush();
}

// ---------------------------------------------------------------------------------------------
// Input processing

void server_session::consume(std::string bytes) {
  const fault_set& f = config_.faults;
  if (!bytes.empty()) {
    out_.insert(0, held_);  // fault::hold_replies_after_pipelining: more input has arrived
    held_.clear();
  }
  const bool had_input = !bytes.empty();
  reply_marks_.clear();
  consume_input(std::move(bytes));
  if (reply_marks_.size() >= 2) {
    client_pipelined_ = true;
  }
  if (f.has(fault::reorder_pipelined_replies) && reply_marks_.size() >= 2) {
    reverse_replies();
  }
  // RFC 2920 §3.2 wants the replies flushed once the input buffer is empty; this fault waits
  // for the rest of a group that never comes.
  if (f.has(fault::hold_replies_after_pipelining) && client_pipelined_ && had_input &&
      last_command_pipelinable_ && phase_ == phase::commands && framer_.buffered() == 0 &&
      after_.empty()) {
    held_ += out_;
    out_.clear();
  }
  reply_marks_.clear();
}

void server_session::reverse_replies() {
  // fault::reorder_pipelined_replies: the replies of each line, last line first.
  std::string reordered = out_.substr(0, reply_marks_.front());
  for (std::size_t i = reply_marks_.size(); i-- > 0;) {
    const std::size_t end = i + 1 < reply_marks_.size() ? reply_marks_[i + 1] : out_.size();
    reordered += out_.substr(reply_marks_[i], end - reply_marks_[i]);
  }
  out_ = std::move(reordered);
}

void server_session::consume_input(std::string bytes) {
  for (;;) {
    if (phase_ == phase::data && lenient_data_end()) {
      if (!take_lenient_data(bytes)) {
        return;
      }
      finish_data();
      continue;
    }
    if (phase_ == phase::bdat) {
      // RFC 3030 §2: the chunk is exactly the next chunk_size_ octets, whatever they hold.
      const auto n = static_cast<std::size_t>(
          std::min<std::uint64_t>(chunk_remaining_, static_cast<std::uint64_t>(bytes.size())));
      if (!chunk_refusal_) {
        if (bdat_message_.size() + n <= max_message_size) {
          bdat_message_.append(bytes, 0, n);
        } else {
          bdat_too_large_ = true;
        }
      }
      bytes.erase(0, n);
      chunk_remaining_ -= n;
      if (chunk_remaining_ > 0) {
        return;
      }
      finish_chunk();
      continue;
    }
    if (phase_ == phase::data) {
      std::size_t used = data_.feed(bytes);
      bytes.erase(0, used);
      if (!data_.done()) {
        return;
      }
      finish_data();
      continue;
    }
    if (!reading_commands()) {
      return;  // closed, awaiting TLS or hung: the rest is not for us
    }
    if (!bytes.empty()) {
      if (config_.faults.has(fault::execute_overlong_tail)) {
        bytes = split_overlong(bytes);
      }
      framer_.feed(bytes);
      bytes.clear();
    }
    std::optional<protocol::framed_line> line = framer_.next();
    if (!line) {
      return;
    }
    reply_marks_.push_back(out_.size());
    handle_line(*line);
    check_error_limit();
    if (config_.faults.has(fault::answer_first_pipelined_command_only) && reading_commands()) {
      (void)framer_.take_buffered();  // RFC 2920 §3.2 forbids losing this input
    }
    if (phase_ == phase::data || phase_ == phase::bdat) {
      // Whatever followed the DATA or BDAT command is message content.
      bytes = framer_.take_buffered();
    }
  }
}

void server_session::handle_line(const protocol::framed_line& line) {
  last_command_pipelinable_ = false;
  if (in_auth_exchange()) {
    handle_auth_response(line);
  } else {
    handle_command(line);
  }
}

void server_session::handle_command(const protocol::framed_line& line) {
  const fault_set& f = config_.faults;
  std::string text = line.text;
  if (line.nul && f.has(fault::strip_nul_in_command)) {
    std::erase(text, '\0');
  }
  if (f.has(fault::drop_on_lone_cr_in_command) && text.find('\r') != std::string::npos) {
    close(tls_active_);
    return;
  }
  const verb guessed = verb_of(text);
  // HTTP on the SMTP port (checks.md line.http-and-tls-on-smtp): the conformant server answers
  // it like any unknown command; this fault leaves the client hanging.
  if (f.has(fault::hang_on_http_request) &&
      (text.starts_with("GET ") || text.starts_with("POST ") || text.starts_with("HEAD "))) {
    framer_.reset();
    phase_ = phase::hung;
    return;
  }
  // Framing problems first: the line is not a command at all.
  if (line.overlong) {
    // The framer skipped the tail up to its CRLF: it is never executed (Postfix smtpd_chat.c).
    if (guessed == verb::auth) {
      reply(500, "5.5.6 Authentication exchange line is too long");  // RFC 4954 §4
    } else {
      reply(500, "5.5.2 Error: command too long");
      if (f.has(fault::two_replies_to_one_command)) {
        reply(500, "5.5.2 Error: command not recognized");
      }
    }
    return;
  }
  if (line.bare_lf_inside) {
    // RFC 5321 §2.3.8: a bare LF is not a line end; such a line is refused whole.
    reply(500, "5.5.2 Error: bare <LF> received");
    return;
  }
  if (line.nul && !f.has(fault::strip_nul_in_command)) {
    reply(500, "5.5.2 Error: NUL character in command");
    return;
  }
  const std::size_t limit =
      f.has(fault::short_command_limit) ? short_command_limit : max_command_length;
  if (text.size() > limit && guessed != verb::auth) {
    reply(500, "5.5.2 Error: command too long");
    if (f.has(fault::two_replies_to_one_command)) {
      reply(500, "5.5.2 Error: command not recognized");
    }
    return;
  }
  // RFC 5321 §2.4: without SMTPUTF8 (not offered here), 8-bit octets in the envelope are
  // refused: "500 syntax error - invalid character".
  if (line.eight_bit && (guessed == verb::mail || guessed == verb::rcpt) &&
      !f.has(fault::accept_8bit_envelope)) {
    reply(500, "5.5.2 Error: invalid character");
    return;
  }
  if (trim(text).empty()) {
    reply(500, "5.5.2 Error: bad syntax");
    return;
  }

  protocol::result<protocol::command> parsed = protocol::parse_command(text);
  const protocol::command* c = parsed ? &parsed.value() : nullptr;
  if (!c && parsed.error() == protocol::errc::command_empty) {
    reply(500, "5.5.2 Error: bad syntax");
    return;
  }
  const verb v = c ? c->cmd : guessed;
  const std::string_view argument = c ? std::string_view(c->argument) : argument_of(text);
  // RFC 2920 §3.1: these may appear anywhere in a pipelined group.
  last_command_pipelinable_ = v == verb::mail || v == verb::rcpt || v == verb::rset;

  // RFC 3207 §4.1: "554 Command refused due to lack of security", to all but QUIT.
  // A refused BDAT still has its chunk on the wire: read it, then refuse (RFC 3030 §2), so that
  // the chunk is never taken for commands.
  auto refuse = [&](int code, std::string_view why) {
    if (v == verb::bdat && c != nullptr && c->chunk_size) {
      start_chunk(*c->chunk_size, c->last_chunk, std::pair{code, std::string(why)});
    } else {
      reply(code, why);
    }
  };
  if (cert_refused_ && v != verb::quit) {
    refuse(554, "5.7.0 Command refused due to lack of security");
    return;
  }
  // RFC 5321 §2.4: verbs are case-insensitive.
  if (v == verb::unknown || (f.has(fault::case_sensitive_verbs) && !upper_case_word(text))) {
    reply(500, "5.5.2 Error: command not recognized");
    return;
  }
  // RFC 3207 §4: a server requiring TLS answers 530 to all but NOOP, EHLO, STARTTLS and QUIT.
  if (config_.policy.tls_required && !tls_active_ && !allowed_before_tls(v) &&
      !(v == verb::mail && config_.faults.has(fault::tls_required_accepts_mail))) {
    refuse(530, "5.7.0 Must issue a STARTTLS command first");
    return;
  }

  switch (v) {
    case verb::ehlo:
      cmd_ehlo(c, argument, true);
      break;
    case verb::helo:
      cmd_ehlo(c, argument, false);
      break;
    case verb::starttls:
      cmd_starttls(argument);
      break;
    case verb::auth:
      cmd_auth(argument);
      break;
    case verb::mail:
      cmd_mail(c, argument);
      break;
    case verb::rcpt:
      cmd_rcpt(c, argument);
      break;
    case verb::data:
      cmd_data(argument);
      break;
    case verb::rset:
      if (!trim(argument).empty()) {
        reply(501, "5.5.4 Syntax: RSET");
      } else {
        const bool idle = !in_transaction();
        reset_transaction();
        reply(250, "2.0.0 Ok");
        if (idle && f.has(fault::rset_closes)) {
          close(tls_active_);  // RFC 5321 §4.1.1.5 forbids it
        }
      }
      break;
    case verb::noop:
      // RFC 5321 §4.1.1.9: a parameter is ignored.
      if (f.has(fault::noop_refuses_argument) && !trim(argument).empty()) {
        reply(501, "5.5.4 Syntax: NOOP");
      } else {
        reply(250, "2.0.0 Ok");
      }
      break;
    case verb::quit:
      reply(221, "2.0.0 Bye");
      // RFC 8314 §3.4: close_notify before the TCP close.
      if (!f.has(fault::quit_keeps_connection)) {
        close(tls_active_ && !config_.faults.has(fault::omit_close_notify));
      }
      break;
    case verb::vrfy:
      if (trim(argument).empty()) {
        reply(501, "5.5.4 Syntax: VRFY address");
      } else {
        reply(252, "2.0.0 Cannot VRFY user");
      }
      break;
    case verb::help:
      reply(214, "2.0.0 See RFC 5321");
      break;
    case verb::bdat:
      cmd_bdat(c);
      break;
    case verb::expn:
      reply(502, "5.5.1 Error: command not implemented");
      break;
    case verb::unknown:
      break;  // answered above
  }
}

void server_session::cmd_ehlo(const protocol::command* c, std::string_view argument, bool esmtp) {
  std::string name;
  if (c && !c->domain.empty()) {
    name = c->domain;
  } else {
    // Like Postfix without smtpd_helo_restrictions, take any visible word as the name.
    std::string_view word = first_word(trim(argument));
    if (printable_word(word)) {
      name = std::string(word);
    }
  }
  if (name.empty()) {
    reply(501, esmtp ? "5.5.4 Syntax: EHLO hostname" : "5.5.4 Syntax: HELO hostname");
    return;
  }
  helo_name_ = name;
  esmtp_ = esmtp;
  if (first_helo_name_.empty()) {
    first_helo_name_ = name;
  }
  // RFC 5321 §4.1.4: EHLO/HELO clears the transaction state like RSET.
  if (keep_envelope_on_ehlo_) {
    keep_envelope_on_ehlo_ = false;  // fault::starttls_keeps_envelope
  } else {
    reset_transaction();
  }
  if (esmtp || config_.faults.has(fault::helo_returns_extensions)) {
    raw_reply(ehlo_reply());
  } else {
    // RFC 5321 §3.2: never the EHLO-style extension list in reply to HELO.
    reply(250, config_.hostname);
  }
}

void server_session::cmd_starttls(std::string_view argument) {
  const fault_set& f = config_.faults;
  if (config_.kind == listener_kind::plaintext ||
      (config_.kind == listener_kind::wrapper && !tls_active_)) {
    reply(502, "5.5.1 Error: command not implemented");
    return;
  }
  if (f.has(fault::middlebox_masks_starttls) && starttls_offered()) {
    // Cisco ASA/PIX ESMTP inspection rewrites the verb to X's; this server does not know that one.
    // Its usual unknown-command reply, ESC included: only the STARTTLS behaviour is broken.
    reply(500, "5.5.2 Error: command not recognized");
    return;
  }
  if (f.has(fault::starttls_502) && !tls_active_) {
    reply(502, "5.5.1 Command not implemented");
    return;
  }
  // RFC 3207 §4: "501 Syntax error (no parameters allowed)".
  if (!trim(argument).empty() && !f.has(fault::accept_starttls_argument)) {
    reply(501, "5.5.4 Syntax: STARTTLS");
    return;
  }
  if (tls_active_) {
    if (!f.has(fault::accept_nested_starttls)) {
      reply(554, "5.5.1 Error: TLS already active");  // RFC 3207 §4.2
      return;
    }
    reply(220, "2.0.0 Ready to start TLS");
    phase_ = phase::nested_tls;
    if (framer_.buffered() > 0) {
      framer_.reset();
      close(false);
    }
    return;
  }
  if (first_helo_name_.empty() && f.has(fault::hang_on_starttls_before_ehlo)) {
    framer_.reset();
    phase_ = phase::hung;
    return;
  }
  if (!config_.policy.tls_available) {
    if (f.has(fault::tls_unavailable_554)) {
      reply(554, "5.7.0 TLS not available");
    } else {
      reply(454, "4.7.0 TLS not available due to local problem");  // RFC 3207 §4: temporary
    }
    return;
  }
  reply(220, "2.0.0 Ready to start TLS");
  if (f.has(fault::starttls_220_then_drop)) {
    framer_.reset();
    close(false);
    return;
  }
  // RFC 3207 §4.2, CVE-2011-0411: plaintext pipelined after STARTTLS is discarded, never
  // executed inside TLS.
  if (f.has(fault::ccert_relay_keeps_injected_commands) &&
      !f.has(fault::execute_pipelined_after_starttls)) {
    injected_ = framer_.take_buffered();
  } else if (!f.has(fault::execute_pipelined_after_starttls)) {
    discarded_plaintext_ += framer_.take_buffered().size();
  }
  // RFC 3207 §4.2: "The server MUST discard any knowledge obtained from the client, such as the
  // argument to the EHLO command". Like Postfix, forget it right after the 220; STARTTLS in a
  // transaction (Postfix accepts it) resets the transaction too.
  if (!f.has(fault::keep_ehlo_across_tls)) {
    helo_name_.reset();
    esmtp_ = false;
  }
  if (!f.has(fault::remember_auth_across_tls)) {
    auth_user_.clear();
  }
  if (f.has(fault::starttls_keeps_envelope)) {
    keep_envelope_on_ehlo_ = in_transaction();
  } else {
    reset_transaction();
  }
  phase_ = phase::awaiting_tls;
  if (f.has(fault::execute_pipelined_after_starttls)) {
    after_.emplace_back(read_window{starttls_linger});
  }
  after_.emplace_back(start_tls{f.has(fault::plaintext_after_failed_handshake)});
}

void server_session::cmd_auth(std::string_view argument) {
  // RFC 4954 §4 and Postfix smtpd_tls_auth_only: refuse before looking at any credentials.
  if (!auth_offered()) {
    reply(503, "5.5.1 Error: authentication not enabled");
    return;
  }
  if (!helo_name_) {
    reply(503, "5.5.1 Error: send HELO/EHLO first");
    return;
  }
  if (!auth_user_.empty() && !config_.faults.has(fault::allow_second_auth)) {
    reply(503, "5.5.1 Error: already authenticated");  // RFC 4954 §4
    return;
  }
  if (in_transaction() && !config_.faults.has(fault::allow_auth_in_transaction)) {
    reply(503, "5.5.1 Error: MAIL transaction in progress");  // RFC 4954 §4
    return;
  }
  // AUTH SP sasl-mech [SP initial-response]. Parsed here rather than by parse_command, which
  // refuses a bad initial response as a whole: RFC 4954 §4 wants 501 for "cannot decode" and
  // for "*", and 504 for an unknown mechanism, so the parts must be told apart.
  const std::string_view arg = trim(argument);
  const std::size_t sp = arg.find(' ');
  std::string mechanism(arg.substr(0, sp));
  std::transform(mechanism.begin(), mechanism.end(), mechanism.begin(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 32) : ch;
  });
  std::optional<std::string_view> initial;
  if (sp != std::string_view::npos) {
    initial = trim(arg.substr(sp + 1));
  }
  if (mechanism.empty()) {
    reply(501, "5.5.4 Syntax: AUTH mechanism");
    return;
  }
  // RFC 4954 §4 lets an AUTH with an initial response be pipelined with what follows.
  if (initial && framer_.buffered() > 0 &&
      config_.faults.has(fault::sync_error_on_auth_initial_response)) {
    reply(554, "5.5.0 Error: SMTP protocol synchronization");
    close(tls_active_);
    return;
  }
  if (mechanism != "PLAIN" && mechanism != "LOGIN" && mechanism != "CRAM-MD5") {
    reply(504, "5.5.4 Unrecognized authentication type");
    return;
  }
  if (mechanism == "CRAM-MD5") {
    if (initial) {
      if (config_.faults.has(fault::cram_md5_takes_initial_response)) {
        auth_finish(false, {});
      } else {
        // RFC 4954 §4: an initial response with a mechanism that starts with a server challenge
        // is refused with 501.
        reply(501, "5.7.0 Initial response not allowed with CRAM-MD5");
      }
      return;
    }
    // RFC 2195 §2: the challenge is a unique msg-id.
    cram_challenge_ =
        fmt::format("<{}.{}@{}>", config_.connection_id, ++challenges_, config_.hostname);
    reply(334, tls::base64_encode(cram_challenge_));
    phase_ = phase::auth_cram;
    return;
  }
  if (!initial) {
    if (mechanism == "PLAIN") {
      // RFC 4954 §4: continue-req = "334" SP [base64] CRLF, with the SP even when empty.
      raw_reply("334 \r\n");
      phase_ = phase::auth_plain;
    } else {
      reply(334, "VXNlcm5hbWU6");  // "Username:"
      phase_ = phase::auth_login_user;
    }
    return;
  }
  if (*initial == "*") {
    auth_cancelled();
    return;
  }
  // RFC 4954 §4: "=" is an empty initial response.
  std::optional<std::string> decoded = (initial->empty() || *initial == "=")
                                           ? std::optional<std::string>(std::string())
                                           : decode_response(*initial);
  if (!decoded) {
    reply(501, "5.5.2 Cannot decode response");
    return;
  }
  if (mechanism == "PLAIN") {
    auth_plain_response(*decoded);
  } else {
    login_user_ = std::move(*decoded);
    reply(334, "UGFzc3dvcmQ6");  // "Password:"
    phase_ = phase::auth_login_pass;
  }
}

void server_session::handle_auth_response(const protocol::framed_line& line) {
  const phase step = phase_;
  phase_ = phase::commands;
  if (line.overlong) {
    reply(500, "5.5.6 Authentication exchange line is too long");  // RFC 4954 §4
    return;
  }
  if (line.text == "*") {
    auth_cancelled();
    return;
  }
  std::optional<std::string> decoded =
      line.text.empty() ? std::optional<std::string>(std::string()) : decode_response(line.text);
  if (!decoded) {
    reply(501, "5.5.2 Cannot decode response");  // RFC 4954 §4
    return;
  }
  if (step == phase::auth_plain) {
    auth_plain_response(*decoded);
  } else if (step == phase::auth_login_user) {
    login_user_ = std::move(*decoded);
    reply(334, "UGFzc3dvcmQ6");
    phase_ = phase::auth_login_pass;
  } else if (step == phase::auth_cram) {
    // RFC 2195 §2: "user SP digest", the digest in lower-case hex.
    const std::string_view answer = *decoded;
    const std::size_t sp = answer.rfind(' ');
    const std::string_view user =
        sp == std::string_view::npos ? std::string_view{} : answer.substr(0, sp);
    const bool ok =
        sp != std::string_view::npos && !config_.login.password.empty() &&
        user == config_.login.user &&
        answer.substr(sp + 1) == cram_md5_digest(config_.login.password, cram_challenge_);
    cram_challenge_.clear();
    auth_finish(ok, user);
  } else {
    const bool ok = !config_.login.password.empty() && login_user_ == config_.login.user &&
                    *decoded == config_.login.password;
    std::string user = std::move(login_user_);
    login_user_.clear();
    auth_finish(ok, user);
  }
}

void server_session::auth_plain_response(std::string_view decoded) {
  // RFC 4616 §2: message = [authzid] NUL authcid NUL passwd.
  bool ok = false;
  std::string_view authcid;
  const std::size_t nul1 = decoded.find('\0');
  const std::size_t nul2 =
      nul1 == std::string_view::npos ? std::string_view::npos : decoded.find('\0', nul1 + 1);
  if (nul2 != std::string_view::npos && decoded.find('\0', nul2 + 1) == std::string_view::npos) {
    const std::string_view authzid = decoded.substr(0, nul1);
    authcid = decoded.substr(nul1 + 1, nul2 - nul1 - 1);
    const std::string_view password = decoded.substr(nul2 + 1);
    ok = (authzid.empty() || authzid == authcid) && !config_.login.password.empty() &&
         authcid == config_.login.user && password == config_.login.password;
  }
  auth_finish(ok, authcid);
}

void server_session::auth_finish(bool ok, std::string_view user) {
  if (ok) {
    auth_user_ = std::string(user);
    reply(235, "2.7.0 Authentication successful");  // RFC 4954 §6
    return;
  }
  if (config_.faults.has(fault::auth_failure_wrong_status)) {
    reply(535, "5.7.1 Authentication credentials invalid");
  } else {
    reply(535, "5.7.8 Authentication credentials invalid");  // RFC 4954 §6
  }
  // RFC 4954 §9: a server SHOULD NOT drop the connection before 3 failed attempts.
  if (config_.faults.has(fault::drop_after_first_auth_failure)) {
    reply(421, fmt::format("4.7.0 {} Error: too many authentication failures", config_.hostname));
    close(tls_active_);
  }
}

void server_session::auth_cancelled() {
  if (config_.faults.has(fault::auth_cancel_535)) {
    auth_finish(false, {});
  } else {
    reply(501, "5.7.0 Authentication aborted");  // RFC 4954 §4
  }
}

std::optional<std::string> server_session::decode_response(std::string_view text) const {
  std::optional<std::string> strict = tls::base64_decode(text);
  if (strict || !config_.faults.has(fault::decode_auth_leniently)) {
    return strict;  // RFC 4954 §4 wants 501 for anything that is not base64
  }
  // Like a decoder that skips what it does not know: keep the alphabet, re-pad the rest.
  std::string kept;
  for (char c : text) {
    if (is_base64_char(c)) {
      kept.push_back(c);
    }
  }
  if (kept.size() % 4 == 1) {
    kept.pop_back();
  }
  while (kept.size() % 4 != 0) {
    kept.push_back('A');
  }
  return tls::base64_decode(kept).value_or(std::string());
}

void server_session::cmd_mail(const protocol::command* c, std::string_view argument) {
  if (!helo_name_) {
    reply(503, "5.5.1 Error: send HELO/EHLO first");  // RFC 5321 §4.1.4, RFC 3207 §4.2
    return;
  }
  if (config_.faults.has(fault::require_tls_on_mx) && config_.policy.public_mx && !tls_active_) {
    reply(530, "5.7.0 Must issue a STARTTLS command first");
    return;
  }
  // RFC 4954 §6: "530 5.7.0 Authentication required".
  if (config_.policy.auth_required && auth_user_.empty() &&
      !config_.faults.has(fault::auth_required_accepts_mail)) {
    reply(530, "5.7.0 Authentication required");
    return;
  }
  if (in_transaction()) {
    reply(503, "5.5.1 Error: nested MAIL command");
    return;
  }
  if (!c || !c->address) {
    if (istarts_with(trim(argument), "FROM:")) {
      reply(501, "5.1.7 Bad sender address syntax");
    } else {
      reply(501, "5.5.4 Syntax: MAIL FROM:<address>");
    }
    return;
  }
  for (const protocol::esmtp_param& p : c->params) {
    if (iequals(p.keyword, "SIZE")) {
      // RFC 1870 §6: a declared size above the fixed limit gets 552.
      std::uint64_t size = 0;
      const std::string& value = p.value.value_or(std::string());
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        reply(501, "5.5.4 Bad message size syntax");
        return;
      }
      if (size > max_message_size) {
        reply(552, "5.3.4 Message size exceeds fixed limit");
        return;
      }
    } else if (iequals(p.keyword, "BODY")) {
      const std::string& value = p.value.value_or(std::string());
      if (!iequals(value, "7BIT") && !iequals(value, "8BITMIME")) {
        reply(501, "5.5.4 Unsupported BODY parameter");
        return;
      }
    } else if (iequals(p.keyword, "AUTH")) {
      // RFC 4954 §5: the AUTH parameter must be accepted when AUTH is supported; it grants
      // nothing here.
    } else {
      reply(555, fmt::format("5.5.4 Unsupported option: {}", p.keyword));
      return;
    }
  }
  // RFC 5321 §4.5.3.1.1: a local part of 64 octets is accepted.
  if (config_.faults.has(fault::short_local_part_limit) && c->address->box.local_part.size() > 63) {
    reply(501, "5.1.7 Bad sender address syntax: local part too long");
    return;
  }
  // RFC 5321 §4.5.5: the null reverse-path is never refused.
  if (c->address->null && config_.faults.has(fault::refuse_null_sender)) {
    reply(553, "5.1.7 <>: Sender address rejected: null sender not accepted");
    return;
  }
  reverse_path_ = c->address->null ? std::string() : c->address->box.to_string();
  recipients_.clear();
  reply(250, "2.1.0 Ok");
}

void server_session::cmd_rcpt(const protocol::command* c, std::string_view argument) {
  if (!in_transaction()) {
    reply(503, "5.5.1 Error: need MAIL command");
    return;
  }
  if (!c || !c->address || c->address->null) {
    if (istarts_with(trim(argument), "TO:")) {
      reply(501, "5.1.3 Bad recipient address syntax");
    } else {
      reply(501, "5.5.4 Syntax: RCPT TO:<address>");
    }
    return;
  }
  if (!c->params.empty()) {
    reply(555, fmt::format("5.5.4 Unsupported option: {}", c->params.front().keyword));
    return;
  }
  if (config_.faults.has(fault::refuse_recipients_past_50) && recipients_.size() >= 50) {
    reply(550, "5.5.3 Error: too many recipients");
    return;
  }
  if (recipients_.size() >= max_recipients) {
    reply(452, "4.5.3 Error: too many recipients");
    return;
  }
  // RFC 5321 §4.1.2: a source route is accepted and ignored; relaying is judged on the final
  // mailbox alone.
  const protocol::mailbox& box = c->address->box;
  const bool local = is_local_recipient(box.local_part, box.domain, box.address_literal);
  if (!local && !relay_permitted()) {
    reply(554, fmt::format("5.7.1 <{}>: Relay access denied", box.to_string()));
    return;
  }
  if (!local && config_.faults.has(fault::ccert_relay_remembers_sender) && config_.memory &&
      client_cert_listed()) {
    config_.memory->senders.insert(*reverse_path_);
  }
  recipients_.push_back(box.to_string());
  reply(250, "2.1.5 Ok");
}

void server_session::cmd_data(std::string_view argument) {
  if (!in_transaction() || recipients_.empty()) {
    reply(503, "5.5.1 Error: need RCPT command");
    return;
  }
  if (bdat_in_transaction_) {
    // RFC 3030 §2: DATA and BDAT may not be mixed in one transaction.
    reply(503, "5.5.1 Error: DATA after BDAT");
    return;
  }
  if (!trim(argument).empty()) {
    reply(501, "5.5.4 Syntax: DATA");
    return;
  }
  reply(354, "End data with <CR><LF>.<CR><LF>");
  data_.reset();
  lenient_data_.clear();
  phase_ = phase::data;
}

void server_session::finish_data() {
  phase_ = phase::commands;
  if (data_.too_large()) {
    reply(552, "5.3.4 Error: message too large");
  } else {
    queue_message(data_.message());
  }
  data_.reset();
  reset_transaction();  // RFC 5321 §4.1.1.4: the transaction ends with the end of data
}

void server_session::cmd_bdat(const protocol::command* c) {
  if (c == nullptr || !c->chunk_size) {
    // Without a size the chunk's end is unknown: the next octets are read as commands.
    reply(501, "5.5.4 Syntax: BDAT chunk-size [LAST]");
    return;
  }
  if (!in_transaction() || recipients_.empty()) {
    start_chunk(*c->chunk_size, c->last_chunk,
                std::pair{503, std::string("5.5.1 Error: need RCPT command")});
    return;
  }
  if (config_.faults.has(fault::bdat_chunk_as_data)) {
    // The chunk is read as DATA content: its <CRLF>.<CRLF> ends the message.
    data_.reset();
    lenient_data_.clear();
    phase_ = phase::data;
    return;
  }
  start_chunk(*c->chunk_size, c->last_chunk, std::nullopt);
}

void server_session::start_chunk(std::uint64_t size, bool last,
                                 std::optional<std::pair<int, std::string>> refusal) {
  chunk_size_ = size;
  chunk_remaining_ = size;
  chunk_last_ = last;
  chunk_refusal_ = std::move(refusal);
  phase_ = phase::bdat;
  if (size == 0) {
    finish_chunk();
  }
}

void server_session::finish_chunk() {
  phase_ = phase::commands;
  if (chunk_refusal_) {
    const auto [code, text] = *chunk_refusal_;
    chunk_refusal_.reset();
    reply(code, text);
    return;
  }
  bdat_in_transaction_ = true;
  if (!chunk_last_) {
    reply(250, fmt::format("2.0.0 Ok: {} octets", chunk_size_));
    return;
  }
  if (bdat_too_large_) {
    reply(552, "5.3.4 Error: message too large");
  } else {
    queue_message(bdat_message_);
  }
  reset_transaction();
}

void server_session::queue_message(const std::string& content) {
  {
    ++queued_;
    delivered_message m;
    m.listener = config_.listener_name;
    m.queue_id = fmt::format("{:06X}{:04X}", config_.connection_id & 0xFFFFFFU, queued_ & 0xFFFFU);
    m.helo_name = helo_name_.value_or(std::string());
    m.reverse_path = reverse_path_.value_or(std::string());
    m.recipients = recipients_;
    m.protocol = protocol_word();
    m.content = received_header(m.queue_id, m.protocol);
    m.content += config_.faults.has(fault::split_long_text_lines)
                     ? split_long_lines(content, split_text_line_length)
                     : content;
    m.tls = tls_active_;
    m.tls_version = tls_active_ ? tls_info_.version : std::string();
    m.auth_user = auth_user_;
    m.client_cert_sha256 = tls_active_ ? tls_info_.client_cert_sha256 : std::string();
    std::string queued = fmt::format("2.0.0 Ok: queued as {}", m.queue_id);
    before_.emplace_back(deliver{std::move(m)});
    reply(250, queued);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

std::string server_session::split_overlong(std::string_view bytes) {
  // fault::execute_overlong_tail: a full buffer is taken as a complete line.
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    if (c == '\n') {
      overlong_run_ = 0;
    } else if (c != '\r') {
      if (overlong_run_ == overlong_tail_buffer) {
        out += "\r\n";
        overlong_run_ = 0;
      }
      ++overlong_run_;
    }
    out.push_back(c);
  }
  return out;
}

bool server_session::starttls_offered() const {
  return config_.kind == listener_kind::starttls && !tls_active_;
}

bool server_session::auth_offered() const {
  return tls_active_ || config_.policy.plaintext_auth ||
         config_.faults.has(fault::auth_in_plaintext);
}

bool server_session::in_auth_exchange() const {
  return phase_ == phase::auth_plain || phase_ == phase::auth_login_user ||
         phase_ == phase::auth_login_pass || phase_ == phase::auth_cram;
}

bool server_session::lenient_data_end() const {
  const fault_set& f = config_.faults;
  return f.has(fault::lf_dot_lf_ends_data) || f.has(fault::cr_dot_ends_data) ||
         f.has(fault::nul_dot_ends_data) || f.has(fault::extra_cr_ends_data);
}

bool server_session::take_lenient_data(std::string& bytes) {
  lenient_data_ += bytes;
  bytes.clear();
  std::optional<lenient_end> end = find_lenient_end(lenient_data_, config_.faults);
  if (!end) {
    // Memory bound: past twice the message limit, leave the rest to the strict reader.
    if (lenient_data_.size() > 2 * max_message_size) {
      data_.feed(lenient_data_);
      lenient_data_.clear();
    }
    return false;
  }
  if (end->standard) {
    data_.feed(std::string_view(lenient_data_).substr(0, end->end));
  } else {
    // The look-alike ends the content here: hand the reader what came before it, properly
    // ended, and execute the rest as commands.
    data_.feed(std::string_view(lenient_data_).substr(0, end->begin));
    data_.feed("\r\n.\r\n");
  }
  bytes = lenient_data_.substr(end->end);
  lenient_data_.clear();
  return true;
}

bool server_session::is_local_recipient(const std::string& local_part, const std::string& domain,
                                        bool address_literal) const {
  // RFC 2505 §2.1: the percent hack, bang paths and a quoted '@' in the local part route mail
  // elsewhere: they are not local mailboxes.
  if (local_part.find_first_of("%!@") != std::string::npos) {
    return false;
  }
  // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain is always local.
  if (domain.empty()) {
    return iequals(local_part, "postmaster");
  }
  if (address_literal) {
    return false;  // relay.ip-literal: we accept mail for names only
  }
  std::string_view d = domain;
  if (d.ends_with('.')) {
    d.remove_suffix(1);
  }
  return std::any_of(config_.local_domains.begin(), config_.local_domains.end(),
                     [&](const std::string& local) { return iequals(local, d); });
}

bool server_session::relay_permitted() const {
  const fault_set& f = config_.faults;
  if (f.has(fault::open_relay)) {
    return true;
  }
  if (f.has(fault::ccert_relay_remembers_sender) && config_.memory && reverse_path_ &&
      config_.memory->senders.count(*reverse_path_) != 0) {
    return true;
  }
  // Like Postfix permit_sasl_authenticated and permit_tls_clientcerts: only inside TLS
  // (smtpd_check.c: "if (!state->tls_context) return SMTPD_CHECK_DUNNO").
  if (!tls_active_) {
    return false;
  }
  if (!auth_user_.empty()) {
    return true;
  }
  return client_cert_listed();
}

bool server_session::client_cert_listed() const {
  const fault_set& f = config_.faults;
  if (!tls_active_ || !tls_info_.client_cert_presented) {
    return false;
  }
  if (f.has(fault::relay_any_client_cert)) {
    return true;
  }
  // smtpd_check.c: "When directly checking the fingerprint, it is OK if the issuing CA is not
  // trusted".
  if (f.has(fault::ccert_relay_requires_trusted_ca) && !tls_info_.client_cert_trusted) {
    return false;
  }
  const bool md5 = f.has(fault::md5_client_cert_fingerprints);
  const std::string& cert = md5 ? tls_info_.client_cert_md5 : tls_info_.client_cert_sha256;
  const std::string& key = md5 ? tls_info_.client_pubkey_md5 : tls_info_.client_pubkey_sha256;
  // Postfix >= 2.9 checks the public-key fingerprint, then the certificate fingerprint.
  const bool with_key = !f.has(fault::ignore_pubkey_fingerprint);
  return std::any_of(config_.relay_client_certs.begin(), config_.relay_client_certs.end(),
                     [&](const std::string& fp) {
                       return (with_key && !key.empty() && iequals(fp, key)) ||
                              (!cert.empty() && iequals(fp, cert));
                     });
}

bool requests_client_cert(const server_policy& policy, const fault_set& faults) {
  return policy.require_client_cert ||
         (policy.ask_client_cert && !faults.has(fault::skip_client_cert_request));
}

std::string server_session::ehlo_reply() const {
  std::vector<std::string> extensions{
      "PIPELINING", fmt::format("SIZE {}", max_message_size), "8BITMIME", "ENHANCEDSTATUSCODES",
      "CHUNKING",
  };
  // RFC 3207 §4.2: STARTTLS is not offered once TLS is active.
  if (starttls_offered() && config_.faults.has(fault::middlebox_masks_starttls)) {
    extensions.emplace_back("XXXXXXXA");  // what Cisco ESMTP inspection leaves of STARTTLS
  } else if (starttls_offered() ||
             (tls_active_ && config_.faults.has(fault::readvertise_starttls))) {
    // RFC 3207 §3: the keyword has no parameters.
    extensions.emplace_back(
        config_.faults.has(fault::starttls_keyword_with_params) ? "STARTTLS REQUIRED" : "STARTTLS");
  }
  if (auth_offered()) {
    extensions.emplace_back("AUTH PLAIN LOGIN CRAM-MD5");
  }
  const std::string greeting = "greets " + helo_name_.value_or(std::string());
  if (config_.faults.has(fault::ehlo_keyword_first)) {
    // RFC 5321 §4.1.1.1: the first line carries the domain; this one carries a keyword.
    const std::string first = extensions.front();
    extensions.erase(extensions.begin());
    return "250-" + first + "\r\n" + protocol::format_ehlo(config_.hostname, greeting, extensions);
  }
  return protocol::format_ehlo(config_.hostname, greeting, extensions);
}

std::string server_session::protocol_word() const {
  // RFC 3848: ESMTP, ESMTPA (AUTH), ESMTPS (TLS), ESMTPSA (both); SMTP after HELO.
  if (!esmtp_) {
    return "SMTP";
  }
  std::string word = "ESMTP";
  if (tls_active_ && !config_.faults.has(fault::received_without_tls)) {
    word += 'S';
  }
  if (!auth_user_.empty()) {
    word += 'A';
  }
  return word;
}

std::string server_session::received_header(const std::string& queue_id,
                                            const std::string& protocol) const {
  // RFC 5321 §4.4: From-domain with TCP-info, By-domain, With, ID, then the date. Folded before
  // the date to stay near 78 octets (RFC 5322 §2.1.1).
  std::string from = config_.faults.has(fault::received_uses_first_ehlo)
                         ? first_helo_name_
                         : helo_name_.value_or(std::string("unknown"));
  const auto now = config_.now ? config_.now() : std::chrono::system_clock::now();
  return fmt::format("Received: from {} ({}) by {} (smtpsim-reference) with {} id {};\r\n\t{}\r\n",
                     from, address_literal(config_.peer_ip), config_.hostname, protocol, queue_id,
                     format_rfc5322_date(now));
}

void server_session::reset_transaction() {
  reverse_path_.reset();
  recipients_.clear();
  bdat_message_.clear();
  bdat_in_transaction_ = false;
  bdat_too_large_ = false;
}

void server_session::greet() {
  reply(220, fmt::format("{} ESMTP smtpsim-reference", config_.hostname));
}

void server_session::reply(int code, std::string_view text) {
  out_ += protocol::format_reply(code, text);
  // Postfix counts every error reply toward smtpd_hard_error_limit; the 421s end the session.
  if (code >= 400 && code != 421) {
    ++errors_;
  }
}

void server_session::raw_reply(std::string_view bytes) { out_ += bytes; }

void server_session::close(bool send_close_notify) {
  if (phase_ == phase::closed) {
    return;
  }
  phase_ = phase::closed;
  after_.emplace_back(close_connection{send_close_notify});
}

void server_session::check_error_limit() {
  if (errors_ < max_errors) {
    return;
  }
  if (!reading_commands()) {
    return;
  }
  if (config_.faults.has(fault::drop_at_error_limit)) {
    close(tls_active_);
    return;
  }
  reply(421, fmt::format("4.7.0 {} Error: too many errors", config_.hostname));
  close(tls_active_);
}

effects server_session::flush() {
  effects out;
  out.reserve(before_.size() + 1 + after_.size());
  for (effect& e : before_) {
    out.push_back(std::move(e));
  }
  if (!out_.empty()) {
    out.emplace_back(write_bytes{std::move(out_)});
  }
  for (effect& e : after_) {
    out.push_back(std::move(e));
  }
  before_.clear();
  after_.clear();
  out_.clear();
  return out;
}

}  // namespace smtpsim::reference
