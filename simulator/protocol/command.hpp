#pragma once
// SMTP commands (RFC 5321 §4.1.1, RFC 3207 §4, RFC 4954 §4): parse a command line received from
// a client, and serialize commands to send. Verbs are case-insensitive (RFC 5321 §2.4).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulator/protocol/address.hpp"
#include "simulator/protocol/result.hpp"

namespace smtpsim::protocol {

enum class verb : std::uint8_t {
  ehlo,
  helo,
  starttls,
  auth,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  unknown,
};

std::string_view to_string(verb v);  // upper-case wire name; "" for unknown

// esmtp_param is one ESMTP parameter of MAIL or RCPT: keyword ["=" value].
struct esmtp_param {
  std::string keyword;
  std::optional<std::string> value;
  friend bool operator==(const esmtp_param&, const esmtp_param&) = default;
};

struct command {
  verb cmd = verb::unknown;
  std::string verb_text;  // the verb as received, case preserved
  std::string argument;   // everything after the verb and its separating SP, unparsed

  // MAIL / RCPT: the path and its ESMTP parameters.
  std::optional<path> address;
  std::vector<esmtp_param> params;
  bool space_after_colon = false;  // "MAIL FROM: <a@b>" (not RFC syntax, widely accepted)

  // AUTH: the mechanism (upper-cased) and the initial response, if given. The initial response
  // is the base64 text as sent, except RFC 4954 §4's "=" (an empty response), which is stored as
  // "" (and serialize_command writes "" back as "=").
  std::string mechanism;
  std::optional<std::string> initial_response;

  // EHLO / HELO: the domain or address literal argument (its first word; not validated, see
  // is_valid_domain / is_valid_address_literal: RFC 5321 §4.1.4 lets servers accept any name).
  std::string domain;

  // BDAT (RFC 3030 §2): the chunk size and whether the end marker LAST was given.
  std::optional<std::uint64_t> chunk_size;
  bool last_chunk = false;

  // find_param returns the ESMTP parameter named `keyword` (case-insensitive) or nullptr.
  const esmtp_param* find_param(std::string_view keyword) const;
  friend bool operator==(const command&, const command&) = default;
};

// parse_command parses one command line (without its CRLF).
// An unknown verb is not an error: it yields verb::unknown with verb_text set.
// Errors: command_empty (empty line); command_syntax (a known verb whose arguments do not parse:
// MAIL without "FROM:", a bad path, AUTH without a mechanism, EHLO without a domain...).
// A STARTTLS/DATA/RSET/QUIT with an argument is returned with `argument` set; the caller decides
// how to reply (RFC 3207 §4: STARTTLS with parameters gets 501).
// Details: the verb ends at the first SP; MAIL/RCPT paths are parsed with allow_8bit (flagged
// on the path, so the caller can apply its SMTPUTF8 state) and allow_no_brackets (flagged as
// path::brackets_missing); ESMTP parameters are separated by one or more SP. Never throws on
// peer input; allocates at most a few times the size of `line`.
result<command> parse_command(std::string_view line);

// serialize_command renders a command line, CRLF included: the verb (verb_text, or the upper-case
// name when verb_text is empty), then SP and the argument if there is one. The argument is built
// from the parsed fields for MAIL/RCPT (when `address` is set), AUTH (when `mechanism` is set) and
// BDAT (when `chunk_size` is set), and is `argument` verbatim otherwise. So
// parse_command(serialize_command(c)) yields the same fields as c.
std::string serialize_command(const command& c);

// make_command builds a command from a verb and its argument text (e.g. verb::mail,
// "FROM:<a@b.test>"); the argument is parsed as parse_command would. If it does not parse, the
// command keeps the text as `argument` (with the parsed fields empty), so a fake client can still
// send it on purpose.
command make_command(verb v, std::string_view argument = {});

}  // namespace smtpsim::protocol
