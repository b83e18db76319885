#include "simulator/script/client_judge.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "simulator/protocol/text.hpp"

namespace smtpsim::script {

namespace {

using protocol::printable;

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string join(const std::vector<std::string>& list, std::string_view sep) {
  std::string out;
  for (const auto& s : list) {
    if (!out.empty()) {
      out += sep;
    }
    out += s;
  }
  return out;
}

bool command_matches(const client_condition& w, const client_command& c, bool after_delivery) {
  if (c.sasl_response != w.sasl.value_or(false)) {
    return false;
  }
  if (!w.line_not.empty() && contains(w.line_not, c.line)) {
    return false;
  }
  if (!w.sent.empty() && !contains(w.sent, c.verb) && !contains(w.sent, "")) {
    return false;
  }
  if (!w.line_prefix.empty()) {
    const std::string line = protocol::ascii_upper(c.line);
    if (std::none_of(w.line_prefix.begin(), w.line_prefix.end(), [&](const std::string& p) {
          return line.rfind(protocol::ascii_upper(p), 0) == 0;
        })) {
      return false;
    }
  }
  if (w.side && (*w.side == "tls") != c.tls) {
    return false;
  }
  if (w.early && *w.early != c.early) {
    return false;
  }
  if (!w.early_after.empty() && (!c.early || !contains(w.early_after, c.early_after))) {
    return false;
  }
  if (w.in_delay && *w.in_delay != c.in_delay) {
    return false;
  }
  if (w.with_argument && *w.with_argument == c.argument.empty()) {
    return false;
  }
  if (w.longer_than && c.wire_length <= *w.longer_than) {
    return false;
  }
  if (w.after_first_delivery && *w.after_first_delivery != after_delivery) {
    return false;
  }
  return true;
}

// match holds what made a condition true, for evidence.
struct match {
  bool ok = false;
  std::vector<std::string> observed;
  std::optional<std::size_t> transcript;
};

std::string first_tls_verb(const connection_record& r) {
  for (const auto& c : r.commands) {
    if (c.tls && !c.sasl_response) {
      return c.verb;
    }
  }
  return std::string();
}

match evaluate(const client_condition& w, const client_facts& f) {
  match m;
  m.ok = true;
  auto fail = [&m] {
    m.ok = false;
    return m;
  };
  if (w.connected && *w.connected != !f.connections.empty()) {
    return fail();
  }
  if (w.connected) {
    m.observed.push_back(f.connections.empty()
                             ? "the client never connected"
                             : fmt::format("{} connection(s)", f.connections.size()));
  }
  if (w.connections_at_least) {
    if (f.connections.size() < *w.connections_at_least) {
      return fail();
    }
    m.observed.push_back(fmt::format("{} connections", f.connections.size()));
  }
  if (w.exit_ok) {
    const bool ok = f.exited && f.exit_status && *f.exit_status == 0;
    if (ok != *w.exit_ok) {
      return fail();
    }
    m.observed.push_back(f.exit_status
                             ? fmt::format("the client exited with status {}", *f.exit_status)
                             : std::string("the client did not exit by itself"));
  }
  if (w.has_command_filter()) {
    bool found = false;
    for (const auto& conn : f.connections) {
      bool delivered_before = false;
      for (const auto& c : conn.commands) {
        if (command_matches(w, c, delivered_before)) {
          if (!found) {
            m.transcript = c.transcript;
          }
          found = true;
          if (m.observed.size() < 4) {
            m.observed.push_back(fmt::format(
                "connection {}: {}\"{}\"{}{}", conn.connection + 1,
                c.tls ? "[tls] " : "[plaintext] ", printable(c.line),
                c.early ? fmt::format(" (before the reply to {})", c.early_after.empty()
                                                                       ? std::string("the greeting")
                                                                       : c.early_after)
                        : std::string(),
                c.in_delay ? " (while a reply was held back)" : ""));
          }
        }
        if (c.verb == "DATA" && conn.message_accepted) {
          delivered_before = true;
        }
      }
    }
    if (!found) {
      return fail();
    }
  }
  auto any_connection = [&](auto pred, const char* what) {
    for (const auto& conn : f.connections) {
      if (pred(conn)) {
        m.observed.push_back(fmt::format("connection {}: {}", conn.connection + 1, what));
        return true;
      }
    }
    return false;
  };
  if (!w.first_in_tls_not.empty()) {
    bool hit = false;
    for (const auto& conn : f.connections) {
      const std::string v = first_tls_verb(conn);
      if (conn.tls_established && !v.empty() && !contains(w.first_in_tls_not, v)) {
        m.observed.push_back(fmt::format("connection {}: the first command inside TLS was {}",
                                         conn.connection + 1, v));
        hit = true;
        break;
      }
    }
    if (!hit) {
      return fail();
    }
  }
  if (w.after_220 &&
      !any_connection([&](const connection_record& c) { return c.after_220 == *w.after_220; },
                      "after our 220 to STARTTLS came this")) {
    return fail();
  }
  if (w.after_220 && *w.after_220 == "plaintext") {
    for (const auto& c : f.connections) {
      if (c.after_220 == "plaintext") {
        m.observed.push_back(fmt::format("plaintext where a ClientHello was due: \"{}\"",
                                         printable(c.after_220_bytes)));
        break;
      }
    }
  }
  if (w.handshake) {
    const std::string& h = *w.handshake;
    auto pred = [&](const connection_record& c) {
      if (h == "ok") {
        return c.tls_established;
      }
      if (h == "failed") {
        return c.tls_attempted && !c.tls_established;
      }
      return !c.tls_attempted;
    };
    if (h == "none") {
      // "none" holds when no connection attempted TLS.
      if (std::any_of(f.connections.begin(), f.connections.end(),
                      [](const connection_record& c) { return c.tls_attempted; })) {
        return fail();
      }
      m.observed.emplace_back("no TLS handshake was attempted");
    } else if (!any_connection(pred, h == "ok" ? "TLS established" : "TLS handshake failed")) {
      return fail();
    }
  }
  if (w.delivered) {
    bool any = false;
    for (const auto& c : f.connections) {
      if (c.message_accepted &&
          (!w.delivered_side || (*w.delivered_side == "tls") == c.message_in_tls)) {
        any = true;
        m.observed.push_back(fmt::format("connection {}: a message was sent {}", c.connection + 1,
                                         c.message_in_tls ? "inside TLS" : "in plaintext"));
        break;
      }
    }
    if (any != *w.delivered) {
      return fail();
    }
    if (!any) {
      m.observed.emplace_back("no message was sent");
    }
  }
  if (w.client_cert) {
    const bool any = std::any_of(f.connections.begin(), f.connections.end(),
                                 [](const connection_record& c) { return c.client_cert_sent; });
    if (any != *w.client_cert) {
      return fail();
    }
    m.observed.emplace_back(any ? "a client certificate was presented"
                                : "no client certificate was presented");
    for (const auto& c : f.connections) {
      if (c.client_cert_sent && !c.client_cert_fingerprints.empty()) {
        m.observed.push_back("its fingerprints: " + join(c.client_cert_fingerprints, "; "));
        break;
      }
    }
  }
  if (w.close_notify) {
    bool hit = false;
    for (const auto& c : f.connections) {
      if (c.tls_established && c.client_closed && c.close_notify == *w.close_notify) {
        m.observed.push_back(
            fmt::format("connection {}: the client closed TLS {}", c.connection + 1,
                        c.close_notify ? "with close_notify" : "without close_notify"));
        hit = true;
        break;
      }
    }
    if (!hit) {
      return fail();
    }
  }
  if (w.tls_wait_over) {
    bool hit = false;
    for (const auto& c : f.connections) {
      if (c.tls_wait && *c.tls_wait > *w.tls_wait_over) {
        m.observed.push_back(
            fmt::format("connection {}: the client's first TLS byte came after {} ms",
                        c.connection + 1, c.tls_wait->count()));
        hit = true;
        break;
      }
      if (c.tls_attempted && !c.tls_wait && c.after_220 == "nothing") {
        m.observed.push_back(
            fmt::format("connection {}: the client never started TLS", c.connection + 1));
        hit = true;
        break;
      }
    }
    if (!hit) {
      return fail();
    }
  }
  return m;
}

}  // namespace

bool client_condition::has_command_filter() const {
  return !sent.empty() || !line_prefix.empty() || side || early || !early_after.empty() ||
         in_delay || with_argument || longer_than || after_first_delivery || sasl ||
         !line_not.empty();
}

bool client_condition::observes_action() const {
  return has_command_filter() || (after_220 && *after_220 == "plaintext") ||
         (delivered && *delivered) || (client_cert && *client_cert) ||
         (handshake && *handshake != "none") || connections_at_least;
}

std::string describe(const client_condition& w) {
  std::vector<std::string> parts;
  if (w.has_command_filter()) {
    std::string s = "sent ";
    if (w.sasl && *w.sasl) {
      s += "a SASL response";
    } else {
      s += w.sent.empty() || contains(w.sent, "") ? std::string("a command") : join(w.sent, "|");
    }
    if (!w.line_not.empty()) {
      s += fmt::format(" other than \"{}\"", join(w.line_not, "\"|\""));
    }
    if (!w.line_prefix.empty()) {
      s += fmt::format(" starting \"{}\"", join(w.line_prefix, "\"|\""));
    }
    if (w.side) {
      s += *w.side == "tls" ? " inside TLS" : " in plaintext";
    }
    if (w.early && *w.early) {
      s += " before the previous reply";
    }
    if (!w.early_after.empty()) {
      s += fmt::format(" before the reply to {}", join(w.early_after, "|"));
    }
    if (w.in_delay && *w.in_delay) {
      s += " while a reply was held back";
    }
    if (w.with_argument) {
      s += *w.with_argument ? " with an argument" : " without an argument";
    }
    if (w.longer_than) {
      s += fmt::format(" longer than {} octets", *w.longer_than);
    }
    if (w.after_first_delivery && *w.after_first_delivery) {
      s += " after a message was accepted";
    }
    parts.push_back(s);
  }
  if (!w.first_in_tls_not.empty()) {
    parts.push_back(fmt::format("first command inside TLS not {}", join(w.first_in_tls_not, "|")));
  }
  if (w.after_220) {
    parts.push_back(fmt::format("{} after the 220 to STARTTLS", *w.after_220));
  }
  if (w.handshake) {
    parts.push_back(fmt::format("handshake {}", *w.handshake));
  }
  if (w.delivered) {
    parts.push_back(fmt::format("{}delivered{}", *w.delivered ? "" : "not ",
                                w.delivered_side ? " over " + *w.delivered_side : std::string()));
  }
  if (w.client_cert) {
    parts.emplace_back(*w.client_cert ? "client certificate presented" : "no client certificate");
  }
  if (w.connections_at_least) {
    parts.push_back(fmt::format("at least {} connections", *w.connections_at_least));
  }
  if (w.connected) {
    parts.emplace_back(*w.connected ? "connected" : "never connected");
  }
  if (w.close_notify) {
    parts.emplace_back(*w.close_notify ? "closed with close_notify"
                                       : "closed without close_notify");
  }
  if (w.tls_wait_over) {
    parts.push_back(fmt::format("first TLS byte later than {} ms", w.tls_wait_over->count()));
  }
  if (w.exit_ok) {
    parts.emplace_back(*w.exit_ok ? "client exited 0" : "client did not exit 0");
  }
  return parts.empty() ? std::string("always") : join(parts, ", ");
}

std::string summarize(const client_facts& f) {
  if (f.connections.empty()) {
    return "the client never connected";
  }
  std::string out;
  for (const auto& c : f.connections) {
    std::vector<std::string> verbs;
    for (const auto& cmd : c.commands) {
      if (!cmd.sasl_response && verbs.size() < 16) {
        verbs.push_back((cmd.tls ? "tls:" : "") +
                        (cmd.verb.empty() ? std::string("(empty)") : printable(cmd.verb)));
      }
    }
    if (!out.empty()) {
      out += "; ";
    }
    out += fmt::format(
        "connection {}: {}{}{}", c.connection + 1,
        verbs.empty() ? std::string("no commands") : join(verbs, " "),
        c.tls_established ? ", TLS established" : (c.tls_attempted ? ", TLS failed" : ""),
        c.message_accepted ? ", message accepted" : "");
  }
  return out;
}

judgment judge_client(const std::vector<client_rule>& rules, const client_rule& otherwise,
                      const client_facts& facts) {
  judgment j;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const client_rule& r = rules[i];
    if (!r.policies.empty() && !contains(r.policies, facts.policy)) {
      continue;
    }
    match m = evaluate(r.when, facts);
    if (!m.ok) {
      continue;
    }
    j.v = r.v;
    j.reason = r.reason;
    j.step = i;
    j.step_pointer = r.pointer;
    j.expected = fmt::format("rule {}: {} -> {}", i + 1, describe(r.when), to_string(r.v));
    j.observed = m.observed.empty() ? summarize(facts) : join(m.observed, "; ");
    if (m.transcript) {
      j.transcript_from = *m.transcript;
      j.transcript_to = *m.transcript + 1;
    }
    return j;
  }
  j.v = otherwise.v;
  j.reason = otherwise.reason;
  j.step = rules.size();
  j.step_pointer = otherwise.pointer;
  j.expected = "no rule applied";
  j.observed = summarize(facts);
  return j;
}

}  // namespace smtpsim::script
