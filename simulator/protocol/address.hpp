#pragma once
// Paths and mailboxes (RFC 5321 §4.1.2, §4.5.3.1): Reverse-path, Forward-path, source routes,
// dot-string and quoted local parts, domains and address literals.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/protocol/result.hpp"

namespace smtpsim::protocol {

// mailbox is Local-part "@" ( Domain / address-literal ), RFC 5321 §4.1.2.
struct mailbox {
  std::string local_part;  // as on the wire: a dot-string, or a quoted string with its quotes
  std::string domain;      // a domain name or an address literal with its brackets; "" only for
                           // the special recipient "<Postmaster>" (RFC 5321 §4.1.1.3)
  bool quoted_local_part = false;
  bool address_literal = false;

  std::string to_string() const;  // local_part "@" domain (local_part alone if domain is "")
  friend bool operator==(const mailbox&, const mailbox&) = default;
};

// path is a Reverse-path or Forward-path (RFC 5321 §4.1.2).
struct path {
  bool null = false;                      // "<>"
  std::vector<std::string> source_route;  // A-d-l domains, without the '@' (RFC 5321 §4.1.2)
  mailbox box;

  // Size limits of RFC 5321 §4.5.3.1.1-3; exceeding them is recorded, not an error.
  bool local_part_too_long = false;  // > 64 octets
  bool domain_too_long = false;      // > 255 octets
  bool path_too_long = false;        // > 256 octets including the angle brackets

  // brackets_missing is set when a bare mailbox was accepted (path_options::allow_no_brackets).
  bool brackets_missing = false;
  // eight_bit is set when the path holds octets >= 0x80 (only with path_options::allow_8bit; a
  // server without SMTPUTF8 should refuse it, RFC 5321 §2.4, check line.8bit-in-command).
  bool eight_bit = false;

  std::string to_string() const;  // "<...>" as it would be sent (always with the brackets)
  friend bool operator==(const path&, const path&) = default;
};

struct path_options {
  bool allow_null = false;         // accept "<>" (a Reverse-path)
  bool allow_8bit = false;         // accept well-formed UTF-8 (SMTPUTF8, RFC 6531 §3.3)
  bool allow_no_brackets = false;  // accept a bare mailbox without "<>" (lenient servers do)
  bool allow_postmaster = false;   // accept "<Postmaster>" with no domain (RCPT, §4.1.1.3)
};

// parse_path parses a whole path with its angle brackets, e.g. "<@a.test:u@b.test>" or "<>".
// Errors: path_syntax, path_not_null. Size limits are flagged on the path, not errors. Never
// throws on peer input; allocates at most the size of `text`.
result<path> parse_path(std::string_view text, path_options options = {});

// parse_path_prefix parses a path at the start of `text` (e.g. the argument of MAIL FROM:, where
// ESMTP parameters follow) and sets *consumed to its length. A '>' inside a quoted local part
// does not end the path. A bare mailbox (allow_no_brackets) ends at SP or the end of `text`.
result<path> parse_path_prefix(std::string_view text, std::size_t* consumed,
                               path_options options = {});

// is_valid_domain checks Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]
// (RFC 5321 §4.1.2), ASCII only.
bool is_valid_domain(std::string_view text);
// is_valid_address_literal checks "[" (IPv4 / "IPv6:" IPv6 / General) "]" (RFC 5321 §4.1.3).
bool is_valid_address_literal(std::string_view text);

}  // namespace smtpsim::protocol
