#include "simulator/script/client_runner.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <utility>

#include <fmt/format.h>

#include "simulator/protocol/text.hpp"

#include "simulator/script/validators.hpp"

namespace smtpsim::script {

namespace {

using protocol::printable;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// looks_like_smtp_reply tells whether octets a peer sent during a TLS handshake are SMTP text
// (e.g. a plaintext "220 ..." greeting on a wrapper port) rather than TLS records.
bool looks_like_smtp_reply(std::string_view bytes) {
  return bytes.size() >= 4 && std::isdigit(static_cast<unsigned char>(bytes[0])) &&
         std::isdigit(static_cast<unsigned char>(bytes[1])) &&
         std::isdigit(static_cast<unsigned char>(bytes[2])) &&
         (bytes[3] == ' ' || bytes[3] == '-' || bytes[3] == '\r');
}

bool esc_matches(const std::string& pattern, const std::optional<protocol::enhanced_status>& esc) {
  if (!esc) {
    return false;
  }
  const int parts[3] = {esc->cls, esc->subject, esc->detail};
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t dot = pattern.find('.', start);
    const std::string piece =
        pattern.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (piece != "x" && piece != std::to_string(parts[i])) {
      return false;
    }
    if (dot == std::string::npos) {
      return i == 2;
    }
    start = dot + 1;
  }
  return false;
}

bool reply_matches(const matcher& m, const protocol::reply& r) {
  if (!m.codes.empty() && std::none_of(m.codes.begin(), m.codes.end(),
                                       [&](const code_pattern& p) { return p.matches(r.code); })) {
    return false;
  }
  if (m.multiline && *m.multiline != r.multiline()) {
    return false;
  }
  if (m.text_contains && !protocol::icontains(r.text(), *m.text_contains)) {
    return false;
  }
  // The loader has compiled the same pattern with the same flags, so this does not throw.
  if (m.text_matches &&
      !std::regex_search(r.text(),
                         std::regex(*m.text_matches, std::regex::ECMAScript | std::regex::icase))) {
    return false;
  }
  if (m.esc_class && !esc_matches(*m.esc_class, r.esc)) {
    return false;
  }
  if (!m.has_extension.empty() || !m.lacks_extension.empty() || !m.extension_with_params.empty()) {
    const protocol::ehlo_info info = protocol::parse_ehlo(r);
    for (const auto& e : m.has_extension) {
      if (!info.has(e)) {
        return false;
      }
    }
    for (const auto& e : m.lacks_extension) {
      if (info.has(e)) {
        return false;
      }
    }
    for (const auto& e : m.extension_with_params) {
      const auto* ext = info.find(e);
      if (ext == nullptr || ext->params.empty()) {
        return false;
      }
    }
  }
  return true;
}

std::string describe_reply(const protocol::reply& r) {
  std::string first = r.lines.empty() ? "" : r.lines.front();
  std::string out = fmt::format("{} \"{}\"", r.code, printable(first, 80));
  if (r.multiline()) {
    out += fmt::format(" ({} lines)", r.lines.size());
  }
  return out;
}

// requirement_text explains a trait in a SKIP reason.
std::string requirement_text(const std::string& trait) {
  if (trait == "sink") {
    return "a delivery sink (the harness must see what the target delivers)";
  }
  if (trait == "public_mx") {
    return "a publicly referenced MX listener (trait public_mx)";
  }
  return "trait '" + trait + "'";
}

}  // namespace

std::chrono::milliseconds timeouts::of(phase p) const {
  switch (p) {
    case phase::connect:
      return connect;
    case phase::greeting:
      return greeting;
    case phase::reply:
      return reply;
    case phase::handshake:
      return handshake;
    case phase::data:
      return data;
    case phase::silence:
      return silence;
  }
  return reply;
}

std::string_view to_string(action::kind k) {
  switch (k) {
    case action::kind::connect:
      return "connect";
    case action::kind::write:
      return "write";
    case action::kind::read:
      return "read";
    case action::kind::tls_handshake:
      return "tls_handshake";
    case action::kind::tls_shutdown:
      return "tls_shutdown";
    case action::kind::close:
      return "close";
    case action::kind::sleep:
      return "sleep";
    case action::kind::await_delivery:
      return "await_delivery";
    case action::kind::done:
      return "done";
  }
  return "?";
}

std::string observation::describe() const {
  std::string where = tls ? "inside TLS" : "in plaintext";
  std::string out;
  switch (kind) {
    case match_kind::any:
      if (!error.empty()) {
        return error;
      }
      break;
    case match_kind::delivered: {
      out = fmt::format("{} message(s) carrying the token reached the sink", messages.size());
      for (const auto& m : messages) {
        const std::size_t header_end = m.find("\r\n\r\n");
        out += "; headers: " + printable(m.substr(0, header_end), 300);
      }
      return out;
    }
    case match_kind::not_delivered:
      return fmt::format("no message carrying the token reached the sink within {} ms",
                         elapsed.count());
    case match_kind::connected:
      return "connected";
    case match_kind::connect_failed:
      return "could not connect: " + error;
    case match_kind::handshake_ok:
      out = "TLS handshake completed";
      if (cert_requested) {
        out += "; the server sent a CertificateRequest";
      }
      for (const auto& problem : certs.problems) {
        out += "; " + problem;
      }
      return out;
    case match_kind::handshake_failed:
      out = "TLS handshake failed";
      if (!error.empty()) {
        out += ": " + error;
      }
      if (peer_plaintext) {
        out += " (the peer sent plaintext SMTP instead of TLS)";
      }
      return out;
    case match_kind::silence:
      return fmt::format("nothing arrived {} within {} ms", where, elapsed.count());
    case match_kind::timeout:
      out = fmt::format("no complete reply {} within {} ms", where, elapsed.count());
      break;
    case match_kind::closed:
      out =
          clean_close ? "the peer closed the connection cleanly" : "the peer closed the connection";
      if (tls && !clean_close) {
        out += " without a TLS close_notify";
      }
      if (!error.empty()) {
        out += " (" + error + ")";
      }
      if (!alert.empty()) {
        out += "; alert received: " + alert;
      }
      break;
    case match_kind::malformed:
      out = fmt::format("malformed reply line {}: \"{}\"", where, printable(malformed_line));
      break;
    case match_kind::reply:
      break;
  }
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!out.empty()) {
      out += "; ";
    }
    const std::string& to = i < answered.size() ? answered[i] : std::string();
    out += fmt::format("reply {} {}{}", describe_reply(replies[i]), where,
                       to.empty() ? std::string(" (unsolicited)") : " to " + to);
  }
  if (stray_bytes > 0) {
    out += fmt::format("; {} octets of an incomplete reply", stray_bytes);
  }
  if (!malformed_line.empty() && kind != match_kind::malformed) {
    out += fmt::format("; malformed line \"{}\"", printable(malformed_line));
  }
  return out.empty() ? "nothing" : out;
}

bool matches(const matcher& m, const observation& o) {
  if (m.tls && *m.tls != o.tls) {
    return false;
  }
  switch (m.kind) {
    case match_kind::any:
      return true;
    case match_kind::reply:
      return std::any_of(o.replies.begin(), o.replies.end(),
                         [&](const protocol::reply& r) { return reply_matches(m, r); });
    case match_kind::silence:
      return o.kind == match_kind::silence;
    case match_kind::timeout:
      return o.kind == match_kind::timeout || o.kind == match_kind::silence;
    case match_kind::closed:
      if (o.kind != match_kind::closed) {
        return false;
      }
      if (m.alert && *m.alert != o.alert) {
        return false;
      }
      return m.closed == closed_mode::any || (m.closed == closed_mode::clean) == o.clean_close;
    case match_kind::malformed:
      return o.kind == match_kind::malformed || !o.malformed_line.empty();
    case match_kind::handshake_failed:
      if (o.kind != match_kind::handshake_failed) {
        return false;
      }
      if (m.cert_requested && *m.cert_requested != o.cert_requested) {
        return false;
      }
      return (!m.peer_plaintext || *m.peer_plaintext == o.peer_plaintext) &&
             (!m.alert || *m.alert == o.alert);
    case match_kind::handshake_ok: {
      if (o.kind != match_kind::handshake_ok) {
        return false;
      }
      if (m.cert_requested && *m.cert_requested != o.cert_requested) {
        return false;
      }
      // A filter holds only on a check that was made: an unchecked one matches neither way.
      const auto holds = [](const std::optional<bool>& want, const std::optional<bool>& got) {
        return !want || (got && *got == *want);
      };
      return holds(m.chain_complete, o.certs.chain_complete) &&
             holds(m.name_matches, o.certs.name_matches) &&
             holds(m.cert_current, o.certs.cert_current) &&
             holds(m.purpose_sslserver, o.certs.purpose_sslserver) &&
             holds(m.sni_matches, o.certs.sni_matches);
    }
    case match_kind::delivered:
      if (o.kind != match_kind::delivered) {
        return false;
      }
      return !m.text_contains ||
             std::any_of(o.messages.begin(), o.messages.end(), [&](const std::string& msg) {
               return protocol::icontains(msg, *m.text_contains);
             });
    case match_kind::connected:
    case match_kind::connect_failed:
    case match_kind::not_delivered:
      return o.kind == m.kind;
  }
  return false;
}

client_runner::client_runner(const scenario_case& c, target_view target, timeouts limits)
    : case_(c), target_(std::move(target)), limits_(limits), steps_(c.sc->steps) {
  // A variant's own placeholder values win over the target's (docs/scenario-format.md §3.6).
  if (case_.var != nullptr) {
    for (const auto& [name, value] : case_.var->vars) {
      target_.vars.insert_or_assign(name, value);
    }
  }
}

std::chrono::microseconds client_runner::since_start(clock::time_point t) const {
  return duration_cast<microseconds>(t - start_);
}

std::chrono::milliseconds client_runner::remaining(clock::time_point now) const {
  const auto left = duration_cast<milliseconds>(step_deadline_ - now);
  return left.count() > 0 ? left : milliseconds(0);
}

void client_runner::log_event(std::string note) {
  out_.log.add_event(since_start(now_), tls_active_, connection_, std::move(note));
}

action client_runner::start(clock::time_point now) {
  start_ = now_ = now;
  const scenario& sc = *case_.sc;
  for (const auto& trait : sc.requires_traits) {
    if (target_.traits.find(trait) == target_.traits.end()) {
      return finish(verdict::skip, "the target does not declare " + requirement_text(trait));
    }
  }
  for (const auto& choice : sc.listener_choices()) {
    const bool any = std::any_of(choice.begin(), choice.end(), [&](const std::string& l) {
      return target_.listeners.find(l) != target_.listeners.end();
    });
    if (!any) {
      std::string names;
      for (const auto& l : choice) {
        names += (names.empty() ? "" : " or ") + l;
      }
      return finish(verdict::skip, "the target declares no " + names + " listener");
    }
  }
  for (const auto& var : sc.variables()) {
    if (target_.vars.find(var) == target_.vars.end()) {
      return finish(verdict::skip, "the target provides no value for ${" + var + "}");
    }
  }
  return advance();
}

action client_runner::advance() {
  while (!done_) {
    if (finishing_ || final_) {
      return close_then_done();
    }
    if (now_ - start_ > limits_.case_limit) {
      final_ = verdict::error;
      final_reason_ =
          fmt::format("the case exceeded its time limit of {} ms", limits_.case_limit.count());
      record_judgment(verdict::error, final_reason_, nullptr, observation{}, false);
      continue;
    }
    if (index_ >= steps_.size()) {
      finishing_ = true;
      continue;
    }
    action a = begin_step();
    if (a.k != action::kind::done || done_) {
      return a;
    }
    // begin_step concluded the step without I/O: go on with the next one.
  }
  return action{};
}

action client_runner::begin_step() {
  const step& s = steps_[index_];
  step_start_ = now_;
  step_transcript_start_ = out_.log.entries().size();
  obs_ = observation{};
  obs_.tls = tls_active_;
  bytes_this_step_ = 0;
  const milliseconds timeout = s.timeout.value_or(limits_.of(s.timeout_phase));
  step_deadline_ = now_ + timeout;

  switch (s.kind) {
    case step_kind::connect: {
      std::string chosen;
      for (const auto& l : s.listeners) {
        if (target_.listeners.find(l) != target_.listeners.end()) {
          chosen = l;
          break;
        }
      }
      last_listener_ = chosen;
      if (connected_) {
        reconnecting_ = true;
        waiting_ = wait::close;
        return action{action::kind::close, {}, {}, {}, {}};
      }
      waiting_ = wait::connect;
      return action{action::kind::connect, chosen, {}, timeout, {}};
    }
    case step_kind::send:
    case step_kind::send_raw: {
      if (!connected_) {
        obs_.kind = match_kind::closed;
        obs_.error = "no connection";
        conclude(obs_);
        return action{};
      }
      pending_write_ = s.bytes.expand(target_.vars);
      if (s.kind == step_kind::send) {
        pending_write_ += "\r\n";
      }
      waiting_ = wait::write;
      return action{action::kind::write, {}, pending_write_, limits_.reply, {}};
    }
    case step_kind::read_reply:
    case step_kind::wait_silence: {
      const std::size_t want = s.kind == step_kind::read_reply ? s.count : 0;
      if (drain_replies(obs_, want) && read_complete(obs_, want)) {
        obs_.kind = obs_.malformed_line.empty() ? match_kind::reply : match_kind::malformed;
        conclude(obs_);
        return action{};
      }
      if (!connected_ || peer_closed_) {
        obs_.kind = match_kind::closed;
        obs_.stray_bytes = reader_.buffered();
        if (!connected_) {
          obs_.error = "no connection";
        }
        conclude(obs_);
        return action{};
      }
      waiting_ = wait::read;
      return action{action::kind::read, {}, {}, remaining(now_), {}};
    }
    case step_kind::tls_handshake: {
      if (!connected_) {
        obs_.kind = match_kind::handshake_failed;
        obs_.error = "no connection";
        conclude(obs_);
        return action{};
      }
      // RFC 3207 §4.2: the client MUST discard knowledge obtained before TLS. Plaintext bytes
      // still buffered here arrived after the last reply we read; keep them as evidence.
      std::string left = reader_.take_buffered();
      if (!left.empty()) {
        log_event(fmt::format("discarded {} octets received in plaintext before the handshake: {}",
                              left.size(), printable(left)));
      }
      pending_verbs_.clear();
      in_data_ = false;
      sasl_pending_ = false;
      if (!greeted_) {
        pending_verbs_.emplace_back("(greeting)");
      }
      tls_params p = s.tls;
      if (case_.var != nullptr) {
        p = p.merged_over(case_.var->tls);
      }
      p = p.merged_over(target_.tls_defaults);
      if (p.sni) {
        p.sni = substitute(*p.sni, target_.vars);
      }
      if (p.client_cert) {
        p.client_cert = substitute(*p.client_cert, target_.vars);
      }
      // The certificate is checked against the target's name, not the SNI this step sends.
      p.cert_name = target_.tls_defaults.cert_name ? target_.tls_defaults.cert_name
                                                   : target_.tls_defaults.sni;
      waiting_ = wait::handshake;
      return action{action::kind::tls_handshake, {}, {}, timeout, std::move(p)};
    }
    case step_kind::tls_shutdown:
      if (!connected_ || !tls_active_) {
        ++index_;
        return action{};
      }
      waiting_ = wait::shutdown;
      return action{action::kind::tls_shutdown, {}, {}, milliseconds(1000), {}};
    case step_kind::close:
      if (!connected_) {
        ++index_;
        return action{};
      }
      waiting_ = wait::close;
      return action{action::kind::close, {}, {}, {}, {}};
    case step_kind::sleep:
      waiting_ = wait::sleep;
      return action{action::kind::sleep, {}, {}, timeout, {}};
    case step_kind::await_delivery:
      waiting_ = wait::delivery;
      return action{
          action::kind::await_delivery, {}, substitute(s.token, target_.vars), timeout, {}};
    case step_kind::fuzz:
      return fuzz_begin();
    case step_kind::ehlo_diff: {
      observation o;
      o.kind = match_kind::any;
      o.tls = tls_active_;
      if (ehlo_history_.size() < 2) {
        o.error = "fewer than two EHLO replies were recorded";
      } else {
        const auto before = ehlo_history_[ehlo_history_.size() - 2].keywords();
        const auto after = ehlo_history_.back().keywords();
        std::string added;
        std::string removed;
        for (const auto& k : after) {
          if (std::find(before.begin(), before.end(), k) == before.end()) {
            added += " " + k;
          }
        }
        for (const auto& k : before) {
          if (std::find(after.begin(), after.end(), k) == after.end()) {
            removed += " " + k;
          }
        }
        const auto* auth_before = ehlo_history_[ehlo_history_.size() - 2].find("AUTH");
        const auto* auth_after = ehlo_history_.back().find("AUTH");
        o.error =
            fmt::format("EHLO extensions added:{}; removed:{}; AUTH before: {}; after: {}",
                        added.empty() ? " none" : added, removed.empty() ? " none" : removed,
                        auth_before ? auth_before->line : "-", auth_after ? auth_after->line : "-");
      }
      conclude(o);
      return action{};
    }
  }
  return action{};
}

bool client_runner::read_complete(const observation& o, std::size_t want) {
  return want != 0 && (!o.malformed_line.empty() || o.replies.size() >= want);
}

bool client_runner::drain_replies(observation& o, std::size_t want) {
  bool got = false;
  while (true) {
    auto r = reader_.next();
    if (r.error() == protocol::errc::incomplete) {
      break;
    }
    if (!r) {
      o.malformed_line = reader_.last_error().line;
      if (o.malformed_line.empty()) {
        o.malformed_line = std::string(protocol::to_string(r.error()));
      }
      got = true;
      if (want != 0) {
        break;  // a malformed reply ends a read_reply
      }
      continue;
    }
    std::string answered;
    if (!pending_verbs_.empty()) {
      answered = pending_verbs_.front();
      pending_verbs_.pop_front();
    }
    greeted_ = true;
    const protocol::reply& rep = r.value();
    if (rep.code == 354) {
      in_data_ = true;
      pending_verbs_.clear();
    } else if (rep.code == 334) {
      sasl_pending_ = true;
    }
    if (answered == "EHLO" && rep.code == 250) {
      ehlo_history_.push_back(protocol::parse_ehlo(rep));
      ehlo_history_tls_.push_back(tls_active_);
    }
    o.replies.push_back(std::move(r).value());
    o.answered.push_back(std::move(answered));
    got = true;
    if (want != 0 && o.replies.size() >= want) {
      break;
    }
  }
  o.stray_bytes = reader_.buffered();
  return got;
}

void client_runner::note_sent(const std::string& bytes) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t end = bytes.find("\r\n", start);
    const bool complete = end != std::string::npos;
    const std::string line = bytes.substr(start, complete ? end - start : std::string::npos);
    start = complete ? end + 2 : bytes.size();
    if (in_data_) {
      if (line == ".") {
        in_data_ = false;
        pending_verbs_.emplace_back("(end of data)");
      }
      continue;
    }
    if (sasl_pending_) {
      sasl_pending_ = false;
      pending_verbs_.emplace_back("(SASL response)");
      continue;
    }
    const std::size_t sp = line.find(' ');
    pending_verbs_.push_back(protocol::ascii_upper(line.substr(0, sp)));
  }
}

action client_runner::resume(const io_result& r) {
  now_ = r.at;
  if (fuzz_) {
    return fuzz_resume(r);
  }
  const wait was = waiting_;
  waiting_ = wait::none;
  switch (was) {
    case wait::none:
      return advance();
    case wait::connect: {
      if (r.k == io_result::kind::ok) {
        connection_ = static_cast<std::uint32_t>(connections_opened_++);
        connected_ = true;
        tls_active_ = false;
        peer_closed_ = false;
        greeted_ = false;
        in_data_ = false;
        sasl_pending_ = false;
        reader_.reset();
        pending_verbs_.assign(1, "(greeting)");
        obs_.kind = match_kind::connected;
        log_event(fmt::format(
            "connected to {} {}",
            steps_[index_].listeners.empty() ? std::string() : steps_[index_].listeners.front(),
            r.note));
      } else {
        obs_.kind = match_kind::connect_failed;
        obs_.error = r.error.empty() ? "timed out" : r.error;
        log_event("connection failed: " + obs_.error);
      }
      conclude(obs_);
      return advance();
    }
    case wait::write: {
      if (r.k == io_result::kind::ok) {
        out_.log.add_bytes(since_start(now_), direction::sent, tls_active_, connection_,
                           pending_write_);
        note_sent(pending_write_);
        ++index_;
        return advance();
      }
      log_event("write failed: " + r.error);
      obs_.kind = match_kind::closed;
      obs_.error = r.error;
      peer_closed_ = true;
      conclude(obs_);
      return advance();
    }
    case wait::read: {
      const step& s = steps_[index_];
      const bool one = s.kind == step_kind::read_reply;
      const std::size_t want = one ? s.count : 0;
      if (r.k == io_result::kind::data) {
        out_.log.add_bytes(since_start(now_), direction::received, tls_active_, connection_,
                           r.data);
        bytes_this_step_ += r.data.size();
        reader_.feed(r.data);
        if (drain_replies(obs_, want) && read_complete(obs_, want)) {
          obs_.kind = obs_.malformed_line.empty() ? match_kind::reply : match_kind::malformed;
          conclude(obs_);
          return advance();
        }
        if (remaining(now_).count() > 0) {
          waiting_ = wait::read;
          return action{action::kind::read, {}, {}, remaining(now_), {}};
        }
      }
      if (r.k == io_result::kind::eof || r.k == io_result::kind::error) {
        peer_closed_ = true;
        obs_.kind = match_kind::closed;
        obs_.clean_close = r.k == io_result::kind::eof && r.clean_eof;
        obs_.error = r.k == io_result::kind::error ? r.error : std::string();
        obs_.alert = r.alert;
        obs_.stray_bytes = reader_.buffered();
        std::string how = obs_.clean_close ? (tls_active_ ? "after a TLS close_notify" : "")
                                           : (tls_active_ ? "without a TLS close_notify" : "");
        log_event(fmt::format("connection closed by the peer{}{}", how.empty() ? "" : " ", how) +
                  (obs_.error.empty() ? "" : ": " + obs_.error));
        conclude(obs_);
        return advance();
      }
      // The time is up (a timeout, or data that used the last of it).
      const bool nothing = bytes_this_step_ == 0 && obs_.replies.empty() &&
                           reader_.buffered() == 0 && obs_.malformed_line.empty();
      obs_.stray_bytes = reader_.buffered();
      if (nothing) {
        obs_.kind = match_kind::silence;
      } else if (!one && !obs_.replies.empty()) {
        obs_.kind = match_kind::reply;
      } else if (!obs_.malformed_line.empty()) {
        obs_.kind = match_kind::malformed;
      } else {
        obs_.kind = match_kind::timeout;
      }
      conclude(obs_);
      return advance();
    }
    case wait::handshake: {
      if (r.tls) {
        out_.tls.push_back(*r.tls);
        obs_.cert_requested = r.tls->client_cert_requested;
      }
      if (r.k == io_result::kind::ok) {
        tls_active_ = true;
        reader_.reset();
        obs_.kind = match_kind::handshake_ok;
        obs_.tls = true;
        const tls_facts* f = r.tls ? &*r.tls : nullptr;
        if (f != nullptr) {
          obs_.certs = f->checks;
        }
        std::string peer = f && !f->peer_chain.empty() ? f->peer_chain.front().subject : "none";
        log_event(fmt::format("TLS established: {} {}, peer certificate {}{}", f ? f->version : "?",
                              f ? f->cipher : "?", peer,
                              f && f->client_cert_sent ? ", client certificate sent" : ""));
      } else {
        obs_.kind = match_kind::handshake_failed;
        obs_.peer_plaintext = looks_like_smtp_reply(r.peer_bytes);
        obs_.alert = r.tls ? r.tls->alert_received : std::string();
        std::string why = r.k == io_result::kind::timeout ? "timed out" : r.error;
        if (r.tls && !r.tls->alert_received.empty()) {
          why += fmt::format(" (alert received: {})", r.tls->alert_received);
        }
        obs_.error = why;
        if (obs_.peer_plaintext) {
          out_.log.add_bytes(since_start(now_), direction::received, false, connection_,
                             r.peer_bytes);
        }
        log_event("TLS handshake failed: " + why);
        // A failed handshake leaves the connection unusable; the engine has closed it.
        connected_ = false;
        tls_active_ = false;
      }
      conclude(obs_);
      return advance();
    }
    case wait::shutdown:
      log_event("sent TLS close_notify");
      ++index_;
      return advance();
    case wait::close:
      if (connected_) {
        log_event("closed the connection");
      }
      connected_ = false;
      tls_active_ = false;
      if (reconnecting_) {
        reconnecting_ = false;
        return advance();  // re-runs the connect step, now unconnected
      }
      if (finishing_ || final_) {
        return close_then_done();
      }
      ++index_;
      return advance();
    case wait::sleep:
      ++index_;
      return advance();
    case wait::delivery:
      obs_.messages = r.messages;
      obs_.kind = r.messages.empty() ? match_kind::not_delivered : match_kind::delivered;
      log_event(r.messages.empty()
                    ? std::string("no message carrying the token reached the sink")
                    : fmt::format("the sink received {} message(s) carrying the token",
                                  r.messages.size()));
      conclude(obs_);
      return advance();
  }
  return advance();
}

outcome client_runner::default_outcome(const step& s, const observation& o) const {
  outcome d;
  d.stop = true;
  auto set = [&](verdict v, std::string reason) {
    d.v = v;
    d.reason = std::move(reason);
  };
  switch (o.kind) {
    case match_kind::connected:
    case match_kind::handshake_ok:
      d.stop = false;
      return d;
    case match_kind::connect_failed:
      set(verdict::error, "could not connect to the target: " + o.error);
      return d;
    case match_kind::delivered:
      d.stop = false;
      return d;
    case match_kind::not_delivered:
      set(verdict::error, "no message reached the sink, so the check could not be made");
      return d;
    case match_kind::handshake_failed:
      set(verdict::error, "the TLS handshake failed, so the check could not be made: " + o.error);
      return d;
    case match_kind::any:
      if (s.kind == step_kind::ehlo_diff) {
        set(verdict::info, o.error);
        d.stop = false;
      } else {
        d.stop = false;
      }
      return d;
    default:
      break;
  }
  if (s.kind == step_kind::send || s.kind == step_kind::send_raw) {
    set(verdict::error, "the connection was lost while sending: " + o.error);
    return d;
  }
  if (s.kind == step_kind::wait_silence) {
    switch (o.kind) {
      case match_kind::silence:
        d.stop = false;
        return d;
      case match_kind::closed:
        if (o.replies.empty()) {
          set(verdict::error, "the peer closed the connection during the silence window");
          return d;
        }
        break;
      default:
        break;
    }
    set(verdict::fail, "unsolicited bytes arrived: none were expected");
    return d;
  }
  // read_reply
  switch (o.kind) {
    case match_kind::reply:
      if (!o.replies.empty() && o.replies.front().code == 421) {
        set(verdict::error, "the server closed the session with 421 before the check was made");
        return d;
      }
      if (s.expect.empty()) {
        d.stop = false;
        return d;
      }
      set(verdict::fail, "the reply is not one the scenario allows");
      return d;
    case match_kind::silence:
    case match_kind::timeout:
      if (s.count > 1 && !o.replies.empty()) {
        set(verdict::error, fmt::format("only {} of {} replies within {} ms", o.replies.size(),
                                        s.count, o.elapsed.count()));
        return d;
      }
      set(verdict::error, fmt::format("no reply within {} ms", o.elapsed.count()));
      return d;
    case match_kind::closed:
      if (s.count > 1 && !o.replies.empty()) {
        set(verdict::error, fmt::format("the connection was closed after {} of {} replies",
                                        o.replies.size(), s.count));
        return d;
      }
      set(verdict::error, "the connection was closed before a reply arrived");
      return d;
    case match_kind::malformed:
      set(verdict::fail, "the server sent a malformed reply (RFC 5321 §4.2)");
      return d;
    default:
      set(verdict::error, "unexpected observation");
      return d;
  }
}

std::string client_runner::expected_text(const step& s) const {
  if (s.kind == step_kind::fuzz) {
    return "exactly one reply to each line, no close without a reply, then still a 220 greeting";
  }
  std::string out;
  for (const auto& oc : s.expect) {
    out += (out.empty() ? "" : "; ") + oc.describe();
  }
  if (s.otherwise) {
    out += (out.empty() ? "" : "; ") + ("otherwise -> " + s.otherwise->describe());
  }
  if (out.empty()) {
    out = "any reply";
  }
  return out;
}

void client_runner::record_judgment(verdict v, const std::string& reason, const outcome* taken,
                                    const observation& o, bool at_step) {
  judgment j;
  j.v = v;
  j.reason = reason;
  j.step = index_;
  if (at_step && index_ < steps_.size()) {
    const step& s = steps_[index_];
    j.step_pointer = taken != nullptr && !taken->pointer.empty() ? taken->pointer : s.pointer;
    j.expected = expected_text(s);
  }
  j.observed = at_step ? o.describe() : std::string();
  constexpr std::size_t context = 6;
  j.transcript_from = step_transcript_start_ > context ? step_transcript_start_ - context : 0;
  j.transcript_to = out_.log.entries().size();
  out_.judgments.push_back(std::move(j));
}

void client_runner::conclude(const observation& o) {
  const step& s = steps_[index_];
  observation seen = o;
  seen.elapsed = duration_cast<milliseconds>(now_ - step_start_);
  const outcome* taken = nullptr;
  for (const auto& oc : s.expect) {
    if (matches(oc.match, seen)) {
      taken = &oc;
      break;
    }
  }
  outcome fallback;
  if (taken == nullptr) {
    if (s.otherwise) {
      taken = &*s.otherwise;
    } else {
      fallback = default_outcome(s, seen);
      taken = &fallback;
    }
  }
  if (taken->v) {
    record_judgment(*taken->v, taken->reason, taken == &fallback ? nullptr : taken, seen);
    if (taken->stop) {
      final_ = *taken->v;
      final_reason_ = taken->reason;
      return;
    }
  }
  ++index_;
}

action client_runner::finish(verdict v, std::string reason) {
  final_ = v;
  final_reason_ = std::move(reason);
  record_judgment(v, final_reason_, nullptr, observation{}, false);
  return close_then_done();
}

action client_runner::close_then_done() {
  if (connected_) {
    waiting_ = wait::close;
    finishing_ = true;
    return action{action::kind::close, {}, {}, {}, {}};
  }
  done_ = true;
  // The verdict: the most severe judgment, or PASS when every step matched an allowed reaction.
  verdict v = verdict::pass;
  std::string reason = "every step matched a reaction the scenario allows";
  for (const auto& j : out_.judgments) {
    if (severity(j.v) > severity(v)) {
      v = j.v;
      reason = j.reason;
    }
  }
  if (v == verdict::pass && final_ && *final_ == verdict::pass && !final_reason_.empty()) {
    reason = final_reason_;
  }
  out_.final_verdict = v;
  out_.reason = reason;
  out_.duration = duration_cast<milliseconds>(now_ - start_);
  // The cross-cutting validators (checks.md §0, A14) judge the transcript on their own.
  out_.validated = validate_server_transcript(out_.log);
  return action{};
}

}  // namespace smtpsim::script
