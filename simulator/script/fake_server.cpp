#include "simulator/script/fake_server.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "simulator/protocol/text.hpp"

namespace smtpsim::script {

namespace {

bool starts_with_code(std::string_view bytes, std::string_view code) {
  return bytes.substr(0, 3) == code;
}

bool ends_connection(std::string_view reply) {
  return starts_with_code(reply, "421") || starts_with_code(reply, "221");
}

// first_word splits "VERB rest" at the first space.
std::pair<std::string, std::string> split_verb(std::string_view line) {
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) {
    return {protocol::ascii_upper(line), std::string()};
  }
  return {protocol::ascii_upper(line.substr(0, sp)), std::string(line.substr(sp + 1))};
}

void append_bounded(std::string& to, std::string_view bytes, std::size_t bound) {
  if (to.size() < bound) {
    to.append(bytes.substr(0, bound - to.size()));
  }
}

}  // namespace

std::string_view to_string(server_cert c) {
  switch (c) {
    case server_cert::valid:
      return "valid";
    case server_cert::expired:
      return "expired";
    case server_cert::wrong_name:
      return "wrong-name";
    case server_cert::self_signed:
      return "self-signed";
    case server_cert::leaf_only:
      return "leaf-only";
    case server_cert::untrusted:
      return "untrusted";
    case server_cert::client_auth_only:
      return "client-auth-only";
    case server_cert::san_mismatch:
      return "san-mismatch";
  }
  return "valid";
}

std::optional<server_cert> parse_server_cert(std::string_view text) {
  for (auto c : {server_cert::valid, server_cert::expired, server_cert::wrong_name,
                 server_cert::self_signed, server_cert::leaf_only, server_cert::untrusted,
                 server_cert::client_auth_only, server_cert::san_mismatch}) {
    if (to_string(c) == text) {
      return c;
    }
  }
  return std::nullopt;
}

std::string_view to_string(tls_fault f) {
  switch (f) {
    case tls_fault::none:
      return "none";
    case tls_fault::close:
      return "close";
    case tls_fault::reset:
      return "reset";
    case tls_fault::plaintext:
      return "plaintext";
    case tls_fault::alert:
      return "alert";
  }
  return "none";
}

std::optional<tls_fault> parse_tls_fault(std::string_view text) {
  for (auto f : {tls_fault::none, tls_fault::close, tls_fault::reset, tls_fault::plaintext,
                 tls_fault::alert}) {
    if (to_string(f) == text) {
      return f;
    }
  }
  return std::nullopt;
}

fake_server_session::fake_server_session(fake_server_config config, std::uint32_t connection,
                                         transcript& log,
                                         std::chrono::steady_clock::time_point case_start)
    : config_(std::move(config)),
      connection_(connection),
      log_(&log),
      case_start_(case_start),
      framer_(protocol::framing_limits{.max_line_length = 4096, .lf_ends_line = true}) {
  record_.connection = connection;
  record_.wrapper = config_.wrapper;
}

std::chrono::microseconds fake_server_session::now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               case_start_);
}

server_effects fake_server_session::on_connect() {
  log_->add_event(now(), false, connection_, "client connected");
  if (config_.wrapper) {
    record_.tls_attempted = true;
    mode_ = mode::awaiting_tls;
    return {tls_effect{}};
  }
  std::string greeting = config_.greeting.empty()
                             ? fmt::format("220 {} ESMTP smtpsim\r\n", config_.hostname)
                             : config_.greeting;
  respond(std::move(greeting), config_.greeting_delay);
  return flush();
}

void fake_server_session::respond(std::string bytes, std::chrono::milliseconds delay) {
  if (delay.count() > 0) {
    // Everything answered so far goes out first; then the wait, then this reply.
    held_ = held_reply{std::move(bytes), false, false, unanswered_, delay};
    stop_ = true;
    return;
  }
  out_ += bytes;
}

server_effects fake_server_session::flush() {
  server_effects effects;
  if (!out_.empty()) {
    log_->add_bytes(now(), direction::sent, tls_, connection_, out_);
    effects.emplace_back(write_effect{std::move(out_)});
    out_.clear();
  }
  if (held_) {
    auto it = std::find_if(pending_.begin(), pending_.end(), [](const server_effect& e) {
      return std::holds_alternative<wait_effect>(e);
    });
    if (it == pending_.end()) {
      pending_.emplace_back(wait_effect{held_->delay});
    }
  }
  for (auto& e : pending_) {
    effects.push_back(std::move(e));
  }
  pending_.clear();
  return effects;
}

server_effects fake_server_session::on_data(std::string_view bytes) {
  if (closed_) {
    return {};
  }
  record_.bytes_received += bytes.size();
  log_->add_bytes(now(), direction::received, tls_, connection_, bytes);
  unanswered_.clear();  // every earlier reply was written before this read
  stop_ = false;
  consume(bytes, false);
  return flush();
}

server_effects fake_server_session::on_window(std::string_view bytes) {
  if (closed_) {
    return {};
  }
  if (!bytes.empty()) {
    record_.bytes_received += bytes.size();
    log_->add_bytes(now(), direction::received, tls_, connection_, bytes);
  }
  held_reply h = std::move(*held_);
  held_.reset();
  stop_ = false;
  // What arrived during the wait came before the held reply: record it first.
  if (h.then_tls) {
    // Plaintext after STARTTLS and before our 220 is never executed (RFC 3207 §4.2): record
    // it, answer nothing.
    framer_.feed(bytes);
    while (auto line = framer_.next()) {
      auto [verb, arg] = split_verb(line->text);
      client_command c{line->text,
                       verb,
                       arg,
                       tls_,
                       true,
                       "STARTTLS",
                       true,
                       segment_,
                       log_->entries().size() - 1,
                       line->wire_length,
                       false};
      record_.commands.push_back(std::move(c));
    }
    framer_.reset();
    ++segment_;
    log_->add_bytes(now(), direction::sent, tls_, connection_, h.bytes);
    record_.starttls_accepted = true;
    record_.tls_attempted = true;
    mode_ = mode::awaiting_tls;
    return {write_effect{std::move(h.bytes)}, tls_effect{}};
  }
  out_ += h.bytes;
  unanswered_.clear();
  if (h.then_close) {
    closed_ = true;
    mode_ = mode::closed;
    pending_.emplace_back(close_effect{});
    return flush();
  }
  // Lines that arrived with the held command, or during the wait, are answered now, in order;
  // they count as early (sent before the held reply).
  unanswered_ = h.verb.empty() ? "greeting" : h.verb;
  consume(bytes, true);
  return flush();
}

void fake_server_session::consume(std::string_view bytes, bool in_delay) {
  ++segment_;
  std::string fresh(bytes);  // octets not yet given to the framer or the data reader
  while (!stop_ && !closed_) {
    if (mode_ == mode::data) {
      std::string content = framer_.take_buffered() + fresh;
      fresh.clear();
      if (content.empty()) {
        break;
      }
      const std::size_t used = data_.feed(content);
      if (!data_.done()) {
        break;
      }
      finish_message();
      fresh = content.substr(used);
      continue;
    }
    if (!fresh.empty()) {
      framer_.feed(fresh);
      fresh.clear();
    }
    auto line = framer_.next();
    if (!line) {
      break;
    }
    handle_line(*line, in_delay);
  }
}

void fake_server_session::finish_message() {
  ++messages_;
  std::string reply =
      reply_for("END", fmt::format("250 2.0.0 Ok: queued as FAKE{}{}\r\n", connection_, messages_));
  // The message counts as accepted only when our reply to its end says so (2xx).
  if (!reply.empty() && reply[0] == '2') {
    record_.message_accepted = true;
    record_.message_in_tls = tls_;
  }
  append_bounded(record_.message, data_.message(), max_recorded_bytes);
  mode_ = mode::commands;
  unanswered_ = "DATA";
  data_.reset();
  out_ += reply;
  if (ends_connection(reply)) {
    closed_ = true;
    mode_ = mode::closed;
    pending_.emplace_back(close_effect{});
  }
}

void fake_server_session::handle_line(const protocol::framed_line& line, bool in_delay) {
  auto [verb, arg] = split_verb(line.text);
  client_command c;
  c.line = line.text;
  c.tls = tls_;
  c.in_delay = in_delay;
  c.segment = segment_ - 1;
  c.transcript = log_->entries().empty() ? 0 : log_->entries().size() - 1;
  c.wire_length = line.wire_length;
  if (!unanswered_.empty()) {
    c.early = true;
    c.early_after = unanswered_ == "greeting" ? std::string() : unanswered_;
  }
  if (mode_ == mode::sasl) {
    c.sasl_response = true;
    record_.commands.push_back(c);
    unanswered_ = "AUTH";
    if (line.text == "*") {
      mode_ = mode::commands;
      respond("501 5.7.0 Authentication aborted\r\n");
    } else if (--sasl_lines_left_ == 0) {
      mode_ = mode::commands;
      respond("235 2.7.0 Authentication successful\r\n");
    } else {
      respond("334 UGFzc3dvcmQ6\r\n");
    }
    return;
  }
  c.verb = verb;
  c.argument = arg;
  if (record_.commands.size() >= max_commands) {
    respond("421 4.7.0 fake.test Error: too many commands\r\n");
    closed_ = true;
    mode_ = mode::closed;
    pending_.emplace_back(close_effect{});
    return;
  }
  record_.commands.push_back(c);
  handle_command(record_.commands.back());
}

std::string fake_server_session::reply_for(std::string_view verb, std::string fallback) const {
  const std::string side = fmt::format("{}:{}", tls_ ? "tls" : "plain", verb);
  if (auto it = config_.replies.find(side); it != config_.replies.end()) {
    return it->second;
  }
  if (auto it = config_.replies.find(verb); it != config_.replies.end()) {
    return it->second;
  }
  return fallback;
}

bool fake_server_session::resets_after(std::string_view verb) const {
  const std::string side = fmt::format("{}:{}", tls_ ? "tls" : "plain", verb);
  return std::any_of(config_.reset_after.begin(), config_.reset_after.end(),
                     [&](const std::string& r) { return r == verb || r == side; });
}

std::string fake_server_session::ehlo_reply(std::string_view) const {
  if (tls_ && config_.ehlo_tls_reply) {
    return *config_.ehlo_tls_reply;
  }
  if (!tls_ && config_.ehlo_reply) {
    return *config_.ehlo_reply;
  }
  const auto& ext = tls_ ? config_.ehlo_tls : config_.ehlo;
  if (ext.empty()) {
    return fmt::format("250 {}\r\n", config_.hostname);
  }
  std::string out = fmt::format("250-{}\r\n", config_.hostname);
  for (std::size_t i = 0; i < ext.size(); ++i) {
    out += fmt::format("250{}{}\r\n", i + 1 == ext.size() ? ' ' : '-', ext[i]);
  }
  return out;
}

void fake_server_session::handle_command(client_command& c) {
  const std::string verb = c.verb;
  if (resets_after(verb)) {
    log_->add_event(now(), tls_, connection_,
                    fmt::format("resetting the connection after {}", verb));
    closed_ = true;
    mode_ = mode::closed;
    out_.clear();
    pending_.emplace_back(reset_effect{});
    return;
  }
  unanswered_ = verb;
  std::string reply;
  if (verb == "EHLO") {
    reply = reply_for("EHLO", ehlo_reply(c.argument));
    const auto delay = tls_ ? config_.ehlo_tls_delay : config_.ehlo_delay;
    if (delay.count() > 0 && !ends_connection(reply)) {
      respond(std::move(reply), delay);
      return;
    }
  } else if (verb == "HELO") {
    reply = reply_for("HELO", fmt::format("250 {}\r\n", config_.hostname));
  } else if (verb == "STARTTLS") {
    const auto& ext = tls_ ? config_.ehlo_tls : config_.ehlo;
    const bool advertised =
        std::any_of(ext.begin(), ext.end(),
                    [](const std::string& e) { return protocol::ascii_upper(e) == "STARTTLS"; }) ||
        (!tls_ && config_.ehlo_reply &&
         protocol::ascii_upper(*config_.ehlo_reply).find("STARTTLS") != std::string::npos);
    if (tls_) {
      reply = reply_for("STARTTLS", "554 5.5.1 Error: TLS already active\r\n");
    } else if (!c.argument.empty()) {
      reply = reply_for("STARTTLS", "501 5.5.4 Syntax: STARTTLS\r\n");
    } else if (!advertised && config_.replies.count("STARTTLS") == 0 &&
               config_.replies.count("plain:STARTTLS") == 0) {
      reply = "502 5.5.1 Error: command not implemented\r\n";
    } else {
      reply = reply_for("STARTTLS", config_.starttls_reply);
    }
    if (!tls_ && starts_with_code(reply, "220")) {
      // The rest of this read is plaintext sent before our 220: record it, never execute it.
      std::string rest = framer_.take_buffered();
      if (!rest.empty()) {
        framer_.feed(rest);
        while (auto line = framer_.next()) {
          auto [v, a] = split_verb(line->text);
          record_.commands.push_back(client_command{line->text, v, a, false, true, "STARTTLS",
                                                    c.in_delay, c.segment, c.transcript,
                                                    line->wire_length, false});
        }
        framer_.reset();
      }
      if (config_.starttls_delay.count() > 0) {
        held_ = held_reply{std::move(reply), true, false, "STARTTLS", config_.starttls_delay};
        stop_ = true;
        return;
      }
      out_ += reply;
      record_.starttls_accepted = true;
      record_.tls_attempted = true;
      mode_ = mode::awaiting_tls;
      stop_ = true;
      // flush() writes the 220 first; then the handshake.
      pending_.emplace_back(tls_effect{});
      return;
    }
  } else if (verb == "AUTH") {
    const auto [mech, ir] = split_verb(c.argument);
    reply = reply_for("AUTH", "");
    if (reply.empty()) {
      if (!ir.empty()) {
        if (mech == "LOGIN") {
          sasl_lines_left_ = 1;
          mode_ = mode::sasl;
          reply = "334 UGFzc3dvcmQ6\r\n";
        } else {
          reply = "235 2.7.0 Authentication successful\r\n";
        }
      } else if (mech == "LOGIN") {
        sasl_lines_left_ = 2;
        mode_ = mode::sasl;
        reply = config_.auth_challenge.empty() ? "334 VXNlcm5hbWU6\r\n"
                                               : fmt::format("334 {}\r\n", config_.auth_challenge);
      } else {
        sasl_lines_left_ = 1;
        mode_ = mode::sasl;
        reply = fmt::format("334 {}\r\n", config_.auth_challenge);
      }
    } else if (starts_with_code(reply, "334")) {
      sasl_lines_left_ = 1;
      mode_ = mode::sasl;
    }
  } else if (verb == "MAIL") {
    reply = reply_for("MAIL", "250 2.1.0 Ok\r\n");
  } else if (verb == "RCPT") {
    reply = reply_for("RCPT", "250 2.1.5 Ok\r\n");
  } else if (verb == "DATA") {
    reply = reply_for("DATA", "354 End data with <CR><LF>.<CR><LF>\r\n");
    if (starts_with_code(reply, "354")) {
      mode_ = mode::data;
      data_.reset();
    }
  } else if (verb == "RSET" || verb == "NOOP") {
    reply = reply_for(verb, "250 2.0.0 Ok\r\n");
  } else if (verb == "QUIT") {
    reply = reply_for("QUIT", "221 2.0.0 Bye\r\n");
  } else if (verb == "VRFY") {
    reply = reply_for("VRFY", "252 2.0.0 Send some mail, I'll try my best\r\n");
  } else if (verb.empty()) {
    reply = "500 5.5.2 Error: bad syntax\r\n";
  } else {
    reply = reply_for(verb, "502 5.5.2 Error: command not recognized\r\n");
  }
  out_ += reply;
  if (verb == "QUIT" || ends_connection(reply)) {
    closed_ = true;
    mode_ = mode::closed;
    pending_.emplace_back(close_effect{});
  }
}

server_effects fake_server_session::on_tls_established(const tls_facts& facts) {
  tls_ = true;
  record_.tls = facts;
  record_.tls_established = true;
  if (record_.after_220.empty()) {
    record_.after_220 = "tls";
  }
  if (!facts.peer_chain.empty()) {
    record_.client_cert_sent = true;
    record_.client_cert_sha256 = facts.peer_chain.front().sha256;
    record_.client_pubkey_sha256 = facts.peer_chain.front().pubkey_sha256;
  }
  log_->add_event(now(), true, connection_,
                  fmt::format("TLS established: {} {}{}", facts.version, facts.cipher,
                              record_.client_cert_sent ? ", client certificate received" : ""));
  mode_ = mode::commands;
  framer_.reset();
  unanswered_.clear();
  if (config_.wrapper) {
    std::string greeting = config_.greeting.empty()
                               ? fmt::format("220 {} ESMTP smtpsim\r\n", config_.hostname)
                               : config_.greeting;
    respond(std::move(greeting), config_.greeting_delay);
  }
  return flush();
}

server_effects fake_server_session::on_tls_failed(const tls_facts& facts,
                                                  std::string_view raw_plaintext) {
  record_.tls = facts;
  if (!raw_plaintext.empty()) {
    record_.after_220 = "plaintext";
    append_bounded(record_.after_220_bytes, raw_plaintext, max_recorded_bytes);
    log_->add_bytes(now(), direction::received, false, connection_, raw_plaintext);
    framer_.reset();
    framer_.feed(raw_plaintext);
    while (auto line = framer_.next()) {
      auto [v, a] = split_verb(line->text);
      record_.commands.push_back(client_command{line->text, v, a, false, false, "", false, segment_,
                                                log_->entries().size() - 1, line->wire_length,
                                                false});
    }
    log_->add_event(now(), false, connection_,
                    "the client sent plaintext where a TLS ClientHello was due; closing");
  } else {
    if (record_.after_220.empty()) {
      record_.after_220 = facts.error.find("timed out") != std::string::npos ||
                                  facts.error.find("closed") != std::string::npos
                              ? "nothing"
                              : "tls";
    }
    log_->add_event(now(), false, connection_,
                    fmt::format("TLS handshake failed: {}", facts.error));
  }
  closed_ = true;
  mode_ = mode::closed;
  return {close_effect{}};
}

server_effects fake_server_session::on_fault_done() {
  if (record_.after_220.empty()) {
    record_.after_220 = "tls";
  }
  log_->add_event(now(), false, connection_,
                  fmt::format("TLS fault carried out: {}", to_string(config_.tls.fault)));
  if (config_.tls.fault == tls_fault::plaintext) {
    mode_ = mode::commands;
    framer_.reset();
    unanswered_.clear();
    out_ += config_.tls.fault_bytes;
    if (ends_connection(config_.tls.fault_bytes)) {
      closed_ = true;
      mode_ = mode::closed;
      pending_.emplace_back(close_effect{});
    }
    return flush();
  }
  closed_ = true;
  mode_ = mode::closed;
  return {};
}

void fake_server_session::on_closed(bool clean) {
  if (!record_.client_closed) {
    record_.client_closed = true;
    record_.close_notify = clean;
    log_->add_event(now(), tls_, connection_,
                    clean ? "the client closed the connection after a TLS close_notify"
                          : "the client closed the connection");
  }
  closed_ = true;
  mode_ = mode::closed;
}

}  // namespace smtpsim::script
