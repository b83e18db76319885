#include "simulator/reference/client_session.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "simulator/protocol/command.hpp"
#include "simulator/protocol/data.hpp"
#include "simulator/protocol/text.hpp"

#include "simulator/tls/base64.hpp"

namespace smtpsim::reference::client {
namespace {

using protocol::reply;
using protocol::verb;

constexpr std::array<std::string_view, 5> policy_names{"none", "may", "encrypt", "verify",
                                                       "secure"};

// max_described is the most reply text quoted in a message.
constexpr std::size_t max_described = 200;

using protocol::iequals;

// describe renders a reply as "<code> <first line>" for messages.
std::string describe(const reply& r) {
  const std::string_view text = r.lines.empty() ? std::string_view() : r.lines.front();
  return text.empty() ? fmt::format("{:03}", r.code)
                      : fmt::format("{:03} {}", r.code, protocol::printable(text, max_described));
}

std::string command_line(verb v, std::string_view argument) {
  return protocol::serialize_command(protocol::make_command(v, argument));
}

// offers_mechanism: the AUTH line of the EHLO lists `mech` (case-insensitive).
bool offers_mechanism(const protocol::ehlo_info& ehlo, std::string_view mech) {
  const protocol::ehlo_extension* auth = ehlo.find("AUTH");
  if (auth == nullptr) {
    return false;
  }
  return std::any_of(auth->params.begin(), auth->params.end(),
                     [mech](const std::string& p) { return iequals(p, mech); });
}

}  // namespace

std::string_view to_string(tls_policy p) { return policy_names.at(static_cast<std::size_t>(p)); }

std::optional<tls_policy> parse_tls_policy(std::string_view name) {
  for (std::size_t i = 0; i < policy_names.size(); ++i) {
    if (iequals(name, policy_names.at(i))) {
      return static_cast<tls_policy>(i);
    }
  }
  return std::nullopt;
}

std::string normalize_line_ends(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32 + 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

client_session::client_session(client_config config) : config_(std::move(config)) {}

std::optional<int> client_session::exit_status() const { return final_status_; }

bool client_session::requires_tls() const {
  return is_mandatory(config_.policy) && !has(client_fault::plaintext_fallback);
}

std::string_view client_session::waiting_for() const {
  switch (phase_) {
    case phase::idle:
      return "the connection";
    case phase::handshake:
      return "the TLS handshake";
    case phase::greeting:
      return "the greeting";
    case phase::ehlo:
      return "the reply to EHLO";
    case phase::helo:
      return "the reply to HELO";
    case phase::starttls:
    case phase::nested:
      return "the reply to STARTTLS";
    case phase::auth:
      return "the reply to AUTH";
    case phase::transaction:
      return "the reply to MAIL/RCPT/DATA";
    case phase::content:
      return "the reply to the end of data";
    case phase::quitting:
      return "the reply to QUIT";
    case phase::done:
      break;
  }
  return "nothing";
}

client_effects client_session::take() {
  client_effects out;
  out.swap(out_);
  return out;
}

void client_session::reset_connection_state() {
  reader_.reset();
  tls_active_ = false;
  cert_trusted_ = false;
  ehlo_.reset();
  authenticated_ = false;
  nested_tried_ = false;
  keep_buffer_once_ = false;
  quit_after_greeting_.reset();
  pipelined_ = false;
  pending_.clear();
  rcpt_sent_ = 0;
  rcpt_answered_ = 0;
  mail_sent_ = false;
  mail_reply_.reset();
  rcpt_refused_.clear();
  rcpt_accepted_ = 0;
  data_sent_ = false;
  data_reply_.reset();
  abandon_reason_.reset();
}

// ---------------------------------------------------------------------------------------------
// Events

client_effects client_session::on_connected() {
  if (phase_ != phase::idle) {
    return {};
  }
  reset_connection_state();
  if (config_.wrapper && !retried_) {
    // RFC 8314 §3.3: the ClientHello is the first thing sent; no 220 is awaited.
    phase_ = phase::handshake;
    emit(start_tls{});
  } else {
    phase_ = phase::greeting;
  }
  return take();
}

client_effects client_session::on_bytes(std::string_view bytes) {
  if (phase_ == phase::done || phase_ == phase::idle) {
    return {};
  }
  reader_.feed(bytes);
  pump();
  return take();
}

client_effects client_session::on_tls_established(const tls_result& result) {
  if (phase_ != phase::handshake) {
    return {};
  }
  tls_active_ = true;
  authenticated_ = false;  // the server forgets a plaintext AUTH too (RFC 3207 §4.2)
  const bool verified = result.chain_ok && result.name_ok;
  cert_trusted_ = verified || has(client_fault::accepts_any_cert);
  log(fmt::format("TLS established: {} {}; certificate {}{}", result.version, result.cipher,
                  verified ? "verified" : "NOT verified",
                  verified || result.detail.empty() ? std::string() : " (" + result.detail + ")"));
  std::optional<std::string> inadequate;
  if (checks_certificate(config_.policy) && !verified && !has(client_fault::accepts_any_cert)) {
    inadequate = fmt::format("TLS is required with a verified certificate (policy {}), but {}",
                             to_string(config_.policy),
                             result.detail.empty()
                                 ? "the server certificate did not verify"
                                 : "the server certificate did not verify: " + result.detail);
  }
  if (config_.wrapper) {
    // Wrapper mode greets inside TLS; with an inadequate certificate we QUIT after the greeting.
    quit_after_greeting_ = std::move(inadequate);
    phase_ = phase::greeting;
    pump();
    return take();
  }
  if (inadequate) {
    // RFC 3207 §4.1: a client that finds the negotiated security inadequate SHOULD send QUIT
    // right after the handshake (checks.md c.broken.quit-when-inadequate).
    quit(exit_not_delivered, std::move(*inadequate));
    return take();
  }
  if (has(client_fault::no_ehlo_after_tls)) {
    // Fault: keep the plaintext EHLO's capabilities and skip the EHLO inside TLS.
    after_ehlo();
    return take();
  }
  ehlo_.reset();  // RFC 3207 §4.2: discard any knowledge obtained from the server
  send_ehlo();
  if (has(client_fault::reads_forged_replies)) {
    pump();  // Fault: the plaintext replies kept after the 220 now answer our EHLO.
  }
  return take();
}

client_effects client_session::on_tls_failed(std::string_view why) {
  if (phase_ != phase::handshake) {
    return {};
  }
  const std::string reason =
      fmt::format("TLS handshake failed: {}", protocol::printable(why, max_described));
  log(reason);
  if (config_.wrapper) {
    close_and_finish(exit_not_delivered, reason);
    return take();
  }
  if (!requires_tls() && config_.policy != tls_policy::none && !retried_) {
    // Opportunistic TLS: never reuse this connection in plaintext (RFC 3207 §4); reconnect once
    // and deliver without STARTTLS, as Postfix's `may` does (checks.md B8, Part C).
    emit(close_connection{false});
    retried_ = true;
    phase_ = phase::idle;
    log("reconnecting once to deliver in plaintext without STARTTLS");
    emit(reconnect_plaintext{});
    return take();
  }
  close_and_finish(exit_not_delivered, fmt::format("{}; TLS is required (policy {}): not delivered",
                                                   reason, to_string(config_.policy)));
  return take();
}

client_effects client_session::on_timeout() {
  if (phase_ == phase::done || phase_ == phase::idle) {
    return {};
  }
  if (phase_ == phase::quitting) {
    close_and_finish(status_, reason_);
  } else {
    close_and_finish(exit_not_delivered, fmt::format("timed out waiting for {}", waiting_for()));
  }
  return take();
}

client_effects client_session::on_closed(std::string_view why) {
  if (phase_ == phase::done || phase_ == phase::idle) {
    return {};
  }
  tls_active_ = false;  // no close_notify on a connection the server has closed
  if (phase_ == phase::quitting) {
    close_and_finish(status_, reason_);
  } else {
    close_and_finish(
        exit_not_delivered,
        fmt::format("the server closed the connection while we waited for {}{}", waiting_for(),
                    why.empty() ? "" : ": " + protocol::printable(why, max_described)));
  }
  return take();
}

// ---------------------------------------------------------------------------------------------
// Replies

void client_session::pump() {
  while (phase_ != phase::done && phase_ != phase::handshake && phase_ != phase::idle) {
    protocol::result<reply> r = reader_.next();
    if (r) {
      handle(*r);
      continue;
    }
    if (r.error() == protocol::errc::incomplete) {
      break;
    }
    const protocol::reply_error& error = reader_.last_error();
    if (phase_ == phase::quitting) {
      continue;  // we are leaving anyway
    }
    // RFC 5321 §4.2: a line that is not a reply (e.g. a first digit outside 2-5) is fatal.
    quit(exit_not_delivered, fmt::format("malformed reply while waiting for {}: {} in \"{}\"",
                                         waiting_for(), protocol::to_string(error.code),
                                         protocol::printable(error.line, max_described)));
  }
}

void client_session::handle(const reply& r) {
  if (phase_ == phase::quitting) {
    close_and_finish(status_, reason_);
    return;
  }
  if (r.code == 421) {
    // RFC 5321 §3.8: the server is closing the channel; the outcome is temporary.
    close_and_finish(exit_not_delivered,
                     fmt::format("server closing the channel (while we waited for {}): {}",
                                 waiting_for(), describe(r)));
    return;
  }
  if (r.mixed_codes) {
    // RFC 5321 §4.2.1: every line of a reply carries the same code (check
    // c.parse.mismatched-multiline).
    quit(exit_not_delivered,
         fmt::format("protocol error: a multi-line reply with different codes while waiting for "
                     "{} (final line {})",
                     waiting_for(), describe(r)));
    return;
  }
  switch (phase_) {
    case phase::greeting:
      on_greeting(r);
      break;
    case phase::ehlo:
      on_ehlo(r);
      break;
    case phase::helo:
      on_helo(r);
      break;
    case phase::starttls:
      on_starttls(r);
      break;
    case phase::nested:
      on_nested(r);
      break;
    case phase::auth:
      on_auth(r);
      break;
    case phase::transaction:
      on_transaction(r);
      break;
    case phase::content:
      on_content(r);
      break;
    case phase::idle:
    case phase::handshake:
    case phase::quitting:
    case phase::done:
      break;
  }
}

void client_session::on_greeting(const reply& r) {
  if (r.code_class() == 2) {
    if (quit_after_greeting_) {
      quit(exit_not_delivered, std::move(*quit_after_greeting_));
      return;
    }
    send_ehlo();
    return;
  }
  if (r.code_class() == 5) {
    // RFC 5321 §3.1: with a 554 greeting the client sends QUIT (check c.broken.554-greeting).
    quit(exit_not_delivered, fmt::format("the server refuses service: {}", describe(r)));
    return;
  }
  quit(exit_not_delivered, fmt::format("unexpected greeting: {}", describe(r)));
}

void client_session::send_ehlo() {
  std::string bytes = command_line(verb::ehlo, config_.helo_name);
  phase_ = phase::ehlo;
  write(std::move(bytes));
}

void client_session::on_ehlo(const reply& r) {
  if (r.code_class() == 2) {
    ehlo_ = protocol::parse_ehlo(r);
    after_ehlo();
    return;
  }
  if (r.code_class() == 5) {
    // RFC 5321 §3.2: fall back to HELO; but STARTTLS is impossible after HELO, so a client that
    // requires TLS gives up (check c.strip.ehlo-refused-helo).
    if (!tls_active_ && requires_tls()) {
      quit(exit_not_delivered,
           fmt::format("TLS is required (policy {}), but EHLO was refused ({}), so STARTTLS is "
                       "impossible",
                       to_string(config_.policy), describe(r)));
      return;
    }
    phase_ = phase::helo;
    write(command_line(verb::helo, config_.helo_name));
    return;
  }
  quit(exit_not_delivered, fmt::format("EHLO not accepted: {}", describe(r)));
}

void client_session::on_helo(const reply& r) {
  if (r.code_class() == 2) {
    ehlo_ = protocol::ehlo_info{};  // HELO: no service extensions
    after_ehlo();
    return;
  }
  quit(exit_not_delivered, fmt::format("HELO not accepted: {}", describe(r)));
}

void client_session::after_ehlo() {
  const protocol::ehlo_info ehlo = ehlo_.value_or(protocol::ehlo_info{});
  if (!tls_active_) {
    if (has(client_fault::auth_before_tls) && config_.has_credentials() && !authenticated_ &&
        start_auth()) {
      return;  // Fault: credentials in the clear; after the 235 we come back here.
    }
    const bool wants_tls = config_.policy != tls_policy::none && !config_.wrapper && !retried_;
    if (wants_tls) {
      if (ehlo.has("STARTTLS")) {
        std::string bytes = has(client_fault::starttls_argument) ? std::string("STARTTLS x\r\n")
                                                                 : command_line(verb::starttls, {});
        if (has(client_fault::starttls_ehlo_one_segment)) {
          bytes += command_line(verb::ehlo, config_.helo_name);  // Fault: no wait for the 220.
        }
        phase_ = phase::starttls;
        write(std::move(bytes));
        return;
      }
      if (requires_tls()) {
        // Postfix: "TLS is required, but was not offered by host" (check
        // c.strip.required-aborts).
        quit(exit_not_delivered,
             fmt::format("TLS is required (policy {}), but STARTTLS was not offered",
                         to_string(config_.policy)));
        return;
      }
      log("STARTTLS not offered: continuing in plaintext");
    }
    after_auth_decision();
    return;
  }
  if (has(client_fault::nested_starttls) && !nested_tried_ && ehlo.has("STARTTLS")) {
    // Fault: RFC 3207 §4.2 forbids this (check c.starttls.no-nested).
    nested_tried_ = true;
    phase_ = phase::nested;
    write(command_line(verb::starttls, {}));
    return;
  }
  if (config_.has_credentials() && !authenticated_) {
    if (!cert_trusted_ && !has(client_fault::plain_on_unverified_cert)) {
      // RFC 4954 §14: no AUTH PLAIN (nor any password mechanism) over an unverified session.
      log("not authenticating: the server certificate did not verify");
    } else if (start_auth()) {
      return;
    } else {
      log("not authenticating: the EHLO inside TLS offers no mechanism we support (PLAIN, "
          "LOGIN)");
    }
  }
  start_transaction();
}

void client_session::after_auth_decision() {
  // Plaintext: credentials are never sent here (RFC 4954 §9, check c.auth.never-pre-tls).
  if (config_.has_credentials() && !authenticated_) {
    log("not authenticating: no TLS");
  }
  start_transaction();
}

void client_session::on_starttls(const reply& r) {
  if (r.code_class() == 2) {
    // RFC 3207 §4.2: anything the server sent after its 220 is not part of the TLS session; it
    // may be an injected reply (CVE-2021-38371, CVE-2021-22947). Discard it.
    if (has(client_fault::reads_forged_replies)) {
      keep_buffer_once_ = true;
    } else {
      discard_unsolicited();
    }
    phase_ = phase::handshake;
    emit(start_tls{});
    return;
  }
  if (r.code_class() == 4 || r.code_class() == 5) {
    if (requires_tls()) {
      // Postfix: "TLS is required, but host ... refused to start TLS" (checks.md
      // c.strip.bad-starttls-reply, c.starttls.454-policy).
      quit(exit_not_delivered,
           fmt::format("TLS is required (policy {}), but the server refused STARTTLS: {}",
                       to_string(config_.policy), describe(r)));
      return;
    }
    // RFC 3207 §4: local policy. Opportunistic: continue in plaintext on this connection.
    log(fmt::format("STARTTLS refused ({}): continuing in plaintext", describe(r)));
    if (has(client_fault::starttls_ehlo_one_segment)) {
      phase_ = phase::ehlo;  // the EHLO we sent with STARTTLS is answered next
      return;
    }
    after_auth_decision();
    return;
  }
  quit(exit_not_delivered, fmt::format("unexpected reply to STARTTLS: {}", describe(r)));
}

void client_session::on_nested(const reply& r) {
  if (r.code_class() == 2) {
    close_and_finish(exit_not_delivered,
                     fmt::format("nested STARTTLS accepted ({}): giving up", describe(r)));
    return;
  }
  // Carry on as if it had not been sent.
  after_ehlo();
}

// ---------------------------------------------------------------------------------------------
// AUTH (RFC 4954)

bool client_session::start_auth() {
  const protocol::ehlo_info ehlo = ehlo_.value_or(protocol::ehlo_info{});
  if (offers_mechanism(ehlo, "PLAIN")) {
    std::string response;
    response += '\0';
    response += config_.auth_user;
    response += '\0';
    response += config_.auth_password;
    std::string line = "AUTH PLAIN " + tls::base64_encode(response) + "\r\n";
    phase_ = phase::auth;
    if (line.size() > max_auth_line) {
      // RFC 4954 §4: an initial response that would make the line too long is not sent; the
      // empty challenge path is used (check c.auth.ir-length).
      auth_step_ = auth_step::plain_challenge;
      write("AUTH PLAIN\r\n");
    } else {
      auth_step_ = auth_step::plain_sent;
      write(std::move(line));
    }
    return true;
  }
  if (offers_mechanism(ehlo, "LOGIN")) {
    phase_ = phase::auth;
    auth_step_ = auth_step::login_user;
    write("AUTH LOGIN\r\n");
    return true;
  }
  return false;
}

void client_session::on_auth(const reply& r) {
  if (r.code_class() == 2 && auth_step_ != auth_step::cancelled) {
    authenticated_ = true;
    log(fmt::format("authenticated as {}", config_.auth_user));
    if (!tls_active_) {
      after_ehlo();  // fault::auth_before_tls: now STARTTLS
    } else {
      start_transaction();
    }
    return;
  }
  if (r.code_class() == 3) {
    const std::string challenge = r.lines.empty() ? std::string() : r.lines.front();
    const bool valid = tls::base64_decode(challenge).has_value();
    switch (auth_step_) {
      case auth_step::plain_challenge:
        if (valid) {
          std::string response;
          response += '\0';
          response += config_.auth_user;
          response += '\0';
          response += config_.auth_password;
          auth_step_ = auth_step::plain_sent;
          write(tls::base64_encode(response) + "\r\n");
          return;
        }
        break;
      case auth_step::login_user:
        if (valid) {
          auth_step_ = auth_step::login_password;
          write(tls::base64_encode(config_.auth_user) + "\r\n");
          return;
        }
        break;
      case auth_step::login_password:
        if (valid) {
          auth_step_ = auth_step::login_sent;
          write(tls::base64_encode(config_.auth_password) + "\r\n");
          return;
        }
        break;
      case auth_step::plain_sent:
      case auth_step::login_sent:
        break;  // a challenge where none is due: cancel
      case auth_step::cancelled:
        quit(exit_not_delivered,
             fmt::format("AUTH: another challenge after cancel: {}", describe(r)));
        return;
    }
    // RFC 4954 §4: a challenge that cannot be decoded (or is not due) is cancelled with "*"
    // (check c.auth.cancel-bad-challenge).
    log(fmt::format("cancelling AUTH: unexpected or undecodable challenge {}", describe(r)));
    auth_step_ = auth_step::cancelled;
    write("*\r\n");
    return;
  }
  if (auth_step_ == auth_step::cancelled) {
    quit(exit_not_delivered,
         fmt::format("AUTH cancelled after a bad challenge (server said {})", describe(r)));
    return;
  }
  quit(exit_not_delivered, fmt::format("authentication failed: {}", describe(r)));
}

// ---------------------------------------------------------------------------------------------
// The transaction (RFC 5321 §3.3, RFC 2920)

void client_session::start_transaction() {
  const protocol::ehlo_info ehlo = ehlo_.value_or(protocol::ehlo_info{});
  // RFC 2920 §3: pipeline only when the current EHLO advertises PIPELINING.
  pipelined_ = ehlo.has("PIPELINING") || has(client_fault::pipelines_without_advert);
  pending_.clear();
  rcpt_sent_ = 0;
  rcpt_answered_ = 0;
  rcpt_accepted_ = 0;
  rcpt_refused_.clear();
  mail_reply_.reset();
  data_reply_.reset();
  data_sent_ = false;
  phase_ = phase::transaction;
  std::string bytes = command_line(verb::mail, "FROM:<" + config_.mail_from + ">");
  pending_.push_back(pending::mail);
  mail_sent_ = true;
  if (pipelined_) {
    // MAIL, every RCPT and DATA in one group; DATA is the last command of the group
    // (RFC 2920 §3.1).
    for (const std::string& rcpt : config_.rcpt_to) {
      bytes += command_line(verb::rcpt, "TO:<" + rcpt + ">");
      pending_.push_back(pending::rcpt);
      ++rcpt_sent_;
    }
    bytes += command_line(verb::data, {});
    pending_.push_back(pending::data);
    data_sent_ = true;
  }
  write(std::move(bytes));
}

void client_session::on_transaction(const reply& r) {
  if (pending_.empty()) {
    return;
  }
  const pending what = pending_.front();
  pending_.pop_front();
  switch (what) {
    case pending::mail:
      mail_reply_ = r;
      break;
    case pending::rcpt: {
      const std::string& rcpt = config_.rcpt_to.at(rcpt_answered_);
      ++rcpt_answered_;
      if (r.code_class() == 2) {
        ++rcpt_accepted_;
      } else {
        // Every reply is checked (RFC 2920 §3.1, check c.pipe.checks-each-status).
        rcpt_refused_.push_back(fmt::format("<{}>: {}", rcpt, describe(r)));
      }
      break;
    }
    case pending::data:
      data_reply_ = r;
      break;
  }
  if (pending_.empty()) {
    advance_transaction();
  }
}

void client_session::advance_transaction() {
  const bool mail_ok = mail_reply_ && mail_reply_->code_class() == 2;
  std::optional<std::string> failure;
  if (!mail_ok) {
    failure = fmt::format("MAIL FROM refused: {}", mail_reply_ ? describe(*mail_reply_) : "?");
  } else if (rcpt_sent_ < config_.rcpt_to.size()) {
    const std::string& rcpt = config_.rcpt_to.at(rcpt_sent_);
    ++rcpt_sent_;
    pending_.push_back(pending::rcpt);
    write(command_line(verb::rcpt, "TO:<" + rcpt + ">"));
    return;
  } else if (rcpt_accepted_ == 0) {
    failure = fmt::format("every recipient refused: {}", fmt::join(rcpt_refused_, "; "));
  } else if (!data_sent_) {
    data_sent_ = true;
    pending_.push_back(pending::data);
    write(command_line(verb::data, {}));
    return;
  }
  if (failure) {
    if (data_reply_ && data_reply_->code_class() == 3) {
      // Pipelined DATA accepted although nothing valid came before it: RFC 2920 §3.1, send a
      // lone "." so that no message is delivered.
      abandon_reason_ = std::move(failure);
      phase_ = phase::content;
      write(".\r\n");
      return;
    }
    quit(exit_not_delivered, std::move(*failure));
    return;
  }
  if (data_reply_ && data_reply_->code == 354) {
    send_content();
    return;
  }
  quit(exit_not_delivered,
       fmt::format("DATA refused: {}", data_reply_ ? describe(*data_reply_) : "?"));
}

void client_session::send_content() {
  // CRLF line ends only, and dot-stuffing (RFC 5321 §2.3.8, §4.5.2; checks.md B11). dot_stuff
  // appends the end of data.
  std::string bytes = protocol::dot_stuff(normalize_line_ends(config_.message));
  phase_ = phase::content;
  write(std::move(bytes));
}

void client_session::on_content(const reply& r) {
  if (abandon_reason_) {
    quit(exit_not_delivered, std::move(*abandon_reason_));
    return;
  }
  if (r.code_class() != 2) {
    quit(exit_not_delivered,
         fmt::format("message {} after DATA: {}", r.code_class() == 4 ? "deferred" : "refused",
                     describe(r)));
    return;
  }
  if (!rcpt_refused_.empty()) {
    quit(exit_not_delivered,
         fmt::format("message accepted for {} of {} recipients ({}); refused: {}", rcpt_accepted_,
                     config_.rcpt_to.size(), describe(r), fmt::join(rcpt_refused_, "; ")));
    return;
  }
  quit(exit_delivered,
       fmt::format("message accepted{}: {}", tls_active_ ? " over TLS" : "", describe(r)));
}

// ---------------------------------------------------------------------------------------------
// Output

void client_session::discard_unsolicited() {
  const std::size_t n = reader_.buffered();
  if (n > 0) {
    discarded_ += n;
    log(fmt::format("discarded {} unsolicited octets received before our command", n));
  }
  reader_.reset();
}

void client_session::write(std::string bytes) {
  // Anything still buffered arrived before this command was sent, so it cannot be its reply
  // (RFC 5321 §4.2; checks.md c.inject.*). Pipelined replies are all consumed before we write.
  if (keep_buffer_once_) {
    keep_buffer_once_ = false;  // fault::reads_forged_replies
  } else {
    discard_unsolicited();
  }
  emit(write_bytes{std::move(bytes)});
}

void client_session::quit(int status, std::string why) {
  status_ = status;
  reason_ = std::move(why);
  phase_ = phase::quitting;
  write(command_line(verb::quit, {}));
}

void client_session::close_and_finish(int status, std::string why) {
  // RFC 8314 §3.4: close_notify before the TCP close.
  emit(close_connection{tls_active_ && !has(client_fault::no_close_notify)});
  phase_ = phase::done;
  final_status_ = status;
  emit(finished{status, std::move(why)});
}

}  // namespace smtpsim::reference::client
