#pragma once
// Paths and mailboxes (RFC 5321 §4.1.2, §4.5.3.1): Reverse-path, Forward-path, source routes,
// dot-string and quoted local parts, domains and address literals.

#include <string>
#include <string_view>
#include <vector>

#include "simulator/protocol/result.hpp"

namespace smtpsim::protocol {

struct mailbox {
  std::string local_part;  // as on the wire: a dot-string, or a quoted string with its quotes
  std::string domain;      // a domain name or an address literal with its brackets
  bool quoted_local_part = false;
  bool address_literal = false;

  std::string to_string() const;  // local_part "@" domain
};

struct path {
  bool null = false;                      // "<>"
  std::vector<std::string> source_route;  // A-d-l domains, without the '@' (RFC 5321 §4.1.2)
  mailbox box;

  // Size limits of RFC 5321 §4.5.3.1.1-3; exceeding them is recorded, not an error.
  bool local_part_too_long = false;  // > 64 octets
  bool domain_too_long = false;      // > 255 octets
  bool path_too_long = false;        // > 256 octets including the angle brackets

  std::string to_string() const;  // "<...>" as it would be sent
};

struct path_options {
  bool allow_null = false;     // accept "<>" (a Reverse-path)
  bool allow_8bit = false;     // accept UTF-8 octets (SMTPUTF8, RFC 6531)
  bool allow_no_brackets = false;  // accept a bare mailbox without "<>" (lenient servers do)
};

// parse_path parses a path with its angle brackets, e.g. "<@a.test:u@b.test>" or "<>".
// Errors: path_syntax, path_not_null.
result<path> parse_path(std::string_view text, path_options options = {});

// parse_domain checks a domain (sub-domain *("." sub-domain)) or an address literal.
bool is_valid_domain(std::string_view text);
bool is_valid_address_literal(std::string_view text);

}  // namespace smtpsim::protocol
