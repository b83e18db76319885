#include "simulator/script/scenario.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace smtpsim::script {

namespace {

constexpr std::array<std::string_view, 8> level_names = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT",
                                                         "MAY",  "DERIVED",  "IMPL",   "BCP"};

void add_unique(std::vector<std::string>& out, const std::string& name) {
  if (std::find(out.begin(), out.end(), name) == out.end()) {
    out.push_back(name);
  }
}

}  // namespace

std::string_view to_string(level l) { return level_names.at(static_cast<std::size_t>(l)); }

std::optional<level> parse_level(std::string_view text) {
  for (std::size_t i = 0; i < level_names.size(); ++i) {
    if (level_names[i] == text) {
      return static_cast<level>(i);
    }
  }
  return std::nullopt;
}

std::string_view to_string(sut_role r) { return r == sut_role::server ? "server" : "client"; }

std::string substitute(std::string_view text, const bindings& vars) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      if (close != std::string_view::npos) {
        const std::string_view name = text.substr(i + 2, close - i - 2);
        auto it = vars.find(name);
        if (it != vars.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i];
    ++i;
  }
  return out;
}

std::vector<std::string> placeholders(std::string_view text) {
  std::vector<std::string> names;
  std::size_t i = 0;
  while ((i = text.find("${", i)) != std::string_view::npos) {
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      break;
    }
    add_unique(names, std::string(text.substr(i + 2, close - i - 2)));
    i = close + 1;
  }
  return names;
}

std::string byte_template::expand(const bindings& vars) const {
  std::string out;
  for (const auto& p : parts) {
    switch (p.k) {
      case byte_part::kind::text:
        out += substitute(p.value, vars);
        break;
      case byte_part::kind::repeat: {
        const std::string unit = substitute(p.value, vars);
        out.reserve(out.size() + unit.size() * p.count);
        for (std::size_t n = 0; n < p.count; ++n) {
          out += unit;
        }
        break;
      }
      case byte_part::kind::octets:
        out += p.value;
        break;
      case byte_part::kind::bdat: {
        const std::string chunk = byte_template{p.chunk}.expand(vars);
        out += fmt::format("BDAT {}{}\r\n", chunk.size(), p.last ? " LAST" : "");
        out += chunk;
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> byte_template::variables() const {
  std::vector<std::string> names;
  for (const auto& p : parts) {
    if (p.k == byte_part::kind::octets) {
      continue;
    }
    if (p.k == byte_part::kind::bdat) {
      for (auto& n : byte_template{p.chunk}.variables()) {
        add_unique(names, n);
      }
      continue;
    }
    for (auto& n : placeholders(p.value)) {
      add_unique(names, n);
    }
  }
  return names;
}

bool byte_template::is_empty() const {
  return std::all_of(parts.begin(), parts.end(), [](const byte_part& p) {
    return p.k != byte_part::kind::bdat && (p.value.empty() || p.count == 0);
  });
}

tls_params tls_params::merged_over(const tls_params& base) const {
  tls_params out = *this;
  if (!out.sni) {
    out.sni = base.sni;
  }
  if (!out.min_version) {
    out.min_version = base.min_version;
  }
  if (!out.max_version) {
    out.max_version = base.max_version;
  }
  if (!out.client_cert) {
    out.client_cert = base.client_cert;
  }
  if (!out.ciphers) {
    out.ciphers = base.ciphers;
  }
  if (!out.cert_name) {
    out.cert_name = base.cert_name;
  }
  return out;
}

bool code_pattern::matches(int code) const {
  if (pattern.size() != 3 || code < 100 || code > 999) {
    return false;
  }
  const std::string digits = std::to_string(code);
  for (std::size_t i = 0; i < 3; ++i) {
    if (pattern[i] != 'x' && pattern[i] != digits[i]) {
      return false;
    }
  }
  return true;
}

std::string_view to_string(match_kind k) {
  switch (k) {
    case match_kind::reply:
      return "reply";
    case match_kind::silence:
      return "silence";
    case match_kind::timeout:
      return "timeout";
    case match_kind::closed:
      return "closed";
    case match_kind::malformed:
      return "malformed";
    case match_kind::handshake_ok:
      return "handshake_ok";
    case match_kind::handshake_failed:
      return "handshake_failed";
    case match_kind::connected:
      return "connected";
    case match_kind::connect_failed:
      return "connect_failed";
    case match_kind::any:
      return "any";
    case match_kind::delivered:
      return "delivered";
    case match_kind::not_delivered:
      return "not_delivered";
  }
  return "any";
}

std::string matcher::describe() const {
  std::string out(to_string(kind));
  if (kind == match_kind::reply && !codes.empty()) {
    out += ' ';
    for (std::size_t i = 0; i < codes.size(); ++i) {
      out += (i ? "|" : "") + codes[i].pattern;
    }
  }
  if (kind == match_kind::closed && closed != closed_mode::any) {
    out += closed == closed_mode::clean ? " (clean TLS close)" : " (without TLS close_notify)";
  }
  if (multiline) {
    out += *multiline ? " multi-line" : " single-line";
  }
  for (const auto& e : has_extension) {
    out += " listing " + e;
  }
  for (const auto& e : lacks_extension) {
    out += " not listing " + e;
  }
  for (const auto& e : extension_with_params) {
    out += " listing " + e + " with parameters";
  }
  if (text_contains) {
    out += fmt::format(" text containing \"{}\"", *text_contains);
  }
  if (text_matches) {
    out += fmt::format(" text matching /{}/", *text_matches);
  }
  if (esc_class) {
    out += " with enhanced code " + *esc_class;
  }
  if (tls) {
    out += *tls ? " inside TLS" : " in plaintext";
  }
  if (peer_plaintext) {
    out += *peer_plaintext ? " (peer sent plaintext SMTP)" : " (peer did not send plaintext)";
  }
  if (cert_requested) {
    out += *cert_requested ? " with a CertificateRequest" : " without a CertificateRequest";
  }
  if (alert) {
    out += " with alert " + *alert;
  }
  const auto check = [&out](const std::optional<bool>& holds, std::string_view name) {
    if (holds) {
      out += fmt::format(" {}{}", *holds ? "" : "not ", name);
    }
  };
  check(chain_complete, "chain_complete");
  check(name_matches, "name_matches");
  check(cert_current, "cert_current");
  check(purpose_sslserver, "purpose_sslserver");
  check(sni_matches, "sni_matches");
  return out;
}

std::string outcome::describe() const {
  std::string out = match.describe();
  if (!v) {
    out += " -> continue";
  } else {
    out += fmt::format(" -> {}", to_string(*v));
    if (!reason.empty()) {
      out += ": " + reason;
    }
    if (!stop) {
      out += " (continue)";
    }
  }
  return out;
}

std::string_view to_string(step_kind k) {
  switch (k) {
    case step_kind::connect:
      return "connect";
    case step_kind::send:
      return "send";
    case step_kind::send_raw:
      return "send_raw";
    case step_kind::read_reply:
      return "read_reply";
    case step_kind::wait_silence:
      return "wait_silence";
    case step_kind::tls_handshake:
      return "tls_handshake";
    case step_kind::tls_shutdown:
      return "tls_shutdown";
    case step_kind::close:
      return "close";
    case step_kind::sleep:
      return "sleep";
    case step_kind::ehlo_diff:
      return "ehlo_diff";
    case step_kind::await_delivery:
      return "await_delivery";
    case step_kind::fuzz:
      return "fuzz";
  }
  return "?";
}

std::vector<std::vector<std::string>> scenario::listener_choices() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : steps) {
    if (s.kind == step_kind::connect) {
      out.push_back(s.listeners);
    }
  }
  return out;
}

std::vector<std::string> scenario::variables() const {
  std::vector<std::string> names;
  for (const auto& s : steps) {
    for (auto& n : s.bytes.variables()) {
      add_unique(names, n);
    }
    if (s.kind == step_kind::await_delivery) {
      for (auto& n : placeholders(s.token)) {
        add_unique(names, n);
      }
    }
    if (s.tls.sni) {
      for (auto& n : placeholders(*s.tls.sni)) {
        add_unique(names, n);
      }
    }
    if (s.tls.client_cert) {
      for (auto& n : placeholders(*s.tls.client_cert)) {
        add_unique(names, n);
      }
    }
  }
  return names;
}

std::vector<scenario_case> expand_cases(const scenario& s) {
  std::vector<scenario_case> out;
  if (s.variants.empty()) {
    out.push_back(scenario_case{&s, nullptr, s.id});
    return out;
  }
  for (const auto& v : s.variants) {
    out.push_back(scenario_case{&s, &v, s.id + "/" + v.name});
  }
  return out;
}

}  // namespace smtpsim::script
