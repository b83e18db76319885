#include "simulator/protocol/command.hpp"

#include <array>
#include <charconv>

#include "simulator/protocol/text.hpp"

namespace smtpsim::protocol {

namespace {

// max_sasl_mechanism is the longest SASL mechanism name (RFC 4422 §3.1: 1*20 characters).
constexpr std::size_t max_sasl_mechanism = 20;
// max_chunk_digits bounds BDAT's chunk-size so that it fits in 64 bits.
constexpr std::size_t max_chunk_digits = 18;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr std::array<verb, 14> known_verbs = {
    verb::ehlo, verb::helo, verb::starttls, verb::auth, verb::mail, verb::rcpt, verb::data,
    verb::bdat, verb::rset, verb::noop,     verb::quit, verb::vrfy, verb::expn, verb::help,
};

verb lookup_verb(std::string_view text) {
  for (verb v : known_verbs) {
    if (iequals(text, to_string(v))) {
      return v;
    }
  }
  return verb::unknown;
}

// parse_esmtp_param reads esmtp-param = esmtp-keyword ["=" esmtp-value] (RFC 5321 §4.1.2):
// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), esmtp-value = 1*(%d33-60 / %d62-126),
// plus UTF-8 in values (RFC 6531 §3.3).
bool parse_esmtp_param(std::string_view token, esmtp_param& out) {
  const std::size_t eq = token.find('=');
  const std::string_view keyword = token.substr(0, eq);
  if (keyword.empty() || !is_alnum(keyword.front())) {
    return false;
  }
  for (char c : keyword) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  out.keyword = std::string(keyword);
  out.value.reset();
  if (eq == std::string_view::npos) {
    return true;
  }
  const std::string_view value = token.substr(eq + 1);
  if (value.empty()) {
    return false;
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (!((u >= 33 && u <= 60) || (u >= 62 && u <= 126) || u >= 0x80)) {
      return false;
    }
  }
  out.value = std::string(value);
  return true;
}

// parse_mail_rcpt parses "FROM:" / "TO:" [SP...] path *(SP esmtp-param) (RFC 5321 §4.1.1.2-3).
bool parse_mail_rcpt(command& c, std::string_view prefix, path_options options) {
  std::string_view arg = c.argument;
  if (!istarts_with(arg, prefix)) {
    return false;
  }
  arg.remove_prefix(prefix.size());
  while (!arg.empty() && arg.front() == ' ') {
    c.space_after_colon = true;
    arg.remove_prefix(1);
  }
  std::size_t consumed = 0;
  auto parsed = parse_path_prefix(arg, &consumed, options);
  if (!parsed) {
    return false;
  }
  c.address = std::move(parsed).value();
  arg.remove_prefix(consumed);
  while (!arg.empty()) {
    if (arg.front() != ' ') {
      return false;  // e.g. "<a@b.test>x"
    }
    while (!arg.empty() && arg.front() == ' ') {
      arg.remove_prefix(1);
    }
    if (arg.empty()) {
      break;
    }
    const std::size_t end = arg.find(' ');
    esmtp_param param;
    if (!parse_esmtp_param(arg.substr(0, end), param)) {
      return false;
    }
    c.params.push_back(std::move(param));
    arg.remove_prefix(end == std::string_view::npos ? arg.size() : end);
  }
  return true;
}

bool is_base64_char(char c) { return is_alnum(c) || c == '+' || c == '/'; }

// is_base64 checks RFC 4954 §4's base64: groups of four characters, "=" padding only at the end.
bool is_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) {
    return false;
  }
  std::size_t padding = 0;
  while (padding < 2 && padding < s.size() && s[s.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (std::size_t i = 0; i + padding < s.size(); ++i) {
    if (!is_base64_char(s[i])) {
      return false;
    }
  }
  return true;
}

// parse_auth parses "AUTH" SP sasl-mech [SP initial-response] (RFC 4954 §4).
bool parse_auth(command& c) {
  std::string_view arg = c.argument;
  const std::size_t sp = arg.find(' ');
  const std::string_view mechanism = arg.substr(0, sp);
  if (mechanism.empty() || mechanism.size() > max_sasl_mechanism) {
    return false;
  }
  for (char ch : mechanism) {
    if (!is_alnum(ch) && ch != '-' && ch != '_') {
      return false;
    }
  }
  c.mechanism.clear();
  for (char ch : mechanism) {
    c.mechanism += ascii_upper(ch);
  }
  if (sp == std::string_view::npos) {
    return true;
  }
  const std::string_view response = arg.substr(sp + 1);
  if (response == "=") {
    c.initial_response = std::string();
    return true;
  }
  if (!is_base64(response)) {
    return false;  // RFC 4954 §4: a server MUST reject a response it cannot decode with 501
  }
  c.initial_response = std::string(response);
  return true;
}

// parse_bdat parses "BDAT" SP chunk-size [SP end-marker] (RFC 3030 §2).
bool parse_bdat(command& c) {
  std::string_view arg = c.argument;
  const std::size_t sp = arg.find(' ');
  const std::string_view size = arg.substr(0, sp);
  if (size.empty() || size.size() > max_chunk_digits) {
    return false;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), value);
  if (ec != std::errc() || end != size.data() + size.size()) {
    return false;
  }
  c.chunk_size = value;
  if (sp == std::string_view::npos) {
    return true;
  }
  if (!iequals(arg.substr(sp + 1), "LAST")) {
    return false;
  }
  c.last_chunk = true;
  return true;
}

}  // namespace

std::string_view to_string(verb v) {
  switch (v) {
    case verb::ehlo:
      return "EHLO";
    case verb::helo:
      return "HELO";
    case verb::starttls:
      return "STARTTLS";
    case verb::auth:
      return "AUTH";
    case verb::mail:
      return "MAIL";
    case verb::rcpt:
      return "RCPT";
    case verb::data:
      return "DATA";
    case verb::bdat:
      return "BDAT";
    case verb::rset:
      return "RSET";
    case verb::noop:
      return "NOOP";
    case verb::quit:
      return "QUIT";
    case verb::vrfy:
      return "VRFY";
    case verb::expn:
      return "EXPN";
    case verb::help:
      return "HELP";
    case verb::unknown:
      return "";
  }
  return "";
}

const esmtp_param* command::find_param(std::string_view keyword) const {
  for (const esmtp_param& p : params) {
    if (iequals(p.keyword, keyword)) {
      return &p;
    }
  }
  return nullptr;
}

result<command> parse_command(std::string_view line) {
  if (line.empty()) {
    return errc::command_empty;
  }
  command c;
  const std::size_t sp = line.find(' ');
  c.verb_text = std::string(line.substr(0, sp));
  if (sp != std::string_view::npos) {
    c.argument = std::string(line.substr(sp + 1));
  }
  // RFC 5321 §2.4: verbs are case-insensitive.
  c.cmd = lookup_verb(c.verb_text);

  bool ok = true;
  switch (c.cmd) {
    case verb::ehlo:
    case verb::helo: {
      std::string_view arg = c.argument;
      while (!arg.empty() && arg.front() == ' ') {
        arg.remove_prefix(1);
      }
      c.domain = std::string(arg.substr(0, arg.find(' ')));
      ok = !c.domain.empty();
      break;
    }
    case verb::mail:
      ok = parse_mail_rcpt(
          c, "FROM:", {.allow_null = true, .allow_8bit = true, .allow_no_brackets = true});
      break;
    case verb::rcpt:
      ok = parse_mail_rcpt(
          c, "TO:", {.allow_8bit = true, .allow_no_brackets = true, .allow_postmaster = true});
      break;
    case verb::auth:
      ok = parse_auth(c);
      break;
    case verb::bdat:
      ok = parse_bdat(c);
      break;
    case verb::vrfy:
    case verb::expn:
      ok = !c.argument.empty();  // RFC 5321 §4.1.1.6-7: the String argument is required
      break;
    default:
      break;
  }
  if (!ok) {
    return errc::command_syntax;
  }
  return c;
}

std::string serialize_command(const command& c) {
  std::string out = c.verb_text.empty() ? std::string(to_string(c.cmd)) : c.verb_text;
  std::string arg;
  if ((c.cmd == verb::mail || c.cmd == verb::rcpt) && c.address) {
    arg = c.cmd == verb::mail ? "FROM:" : "TO:";
    if (c.space_after_colon) {
      arg += ' ';
    }
    arg += c.address->brackets_missing ? c.address->box.to_string() : c.address->to_string();
    for (const esmtp_param& p : c.params) {
      arg += ' ';
      arg += p.keyword;
      if (p.value) {
        arg += '=';
        arg += *p.value;
      }
    }
  } else if (c.cmd == verb::auth && !c.mechanism.empty()) {
    arg = c.mechanism;
    if (c.initial_response) {
      arg += ' ';
      arg += c.initial_response->empty() ? "=" : *c.initial_response;
    }
  } else if (c.cmd == verb::bdat && c.chunk_size) {
    arg = std::to_string(*c.chunk_size);
    if (c.last_chunk) {
      arg += " LAST";
    }
  } else {
    arg = c.argument;
  }
  // A line that began with SP has an empty verb: keep the SP so that it parses back the same.
  if (!arg.empty() || out.empty()) {
    out += ' ';
    out += arg;
  }
  out += "\r\n";
  return out;
}

command make_command(verb v, std::string_view argument) {
  std::string line(to_string(v));
  if (!argument.empty()) {
    line += ' ';
    line += argument;
  }
  auto parsed = parse_command(line);
  if (parsed) {
    return std::move(parsed).value();
  }
  command c;
  c.cmd = v;
  c.verb_text = std::string(to_string(v));
  c.argument = std::string(argument);
  return c;
}

}  // namespace smtpsim::protocol
