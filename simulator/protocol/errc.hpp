#pragma once
// errc: every way bytes from a peer can be wrong or incomplete. Protocol code reports these;
// it never throws on peer input.

#include <string_view>
#include <system_error>

namespace smtpsim::protocol {

enum class errc {
  ok = 0,
  incomplete,  // more bytes are needed before anything can be returned

  // Line framing (RFC 5321 §2.3.8, §4.5.3.1).
  line_too_long,  // a line exceeded the configured limit; its tail was skipped

  // Replies (RFC 5321 §4.2).
  reply_bad_code,        // the line does not start with three digits, first digit 2-5
  reply_bad_separator,   // the fourth octet is neither SP nor '-' (and the line is not a bare code)
  reply_too_many_lines,  // a multi-line reply exceeded the line limit
  reply_too_large,       // a reply exceeded the byte limit

  // Commands (RFC 5321 §4.1).
  command_empty,   // an empty line
  command_syntax,  // a known verb with arguments that do not parse

  // Paths and addresses (RFC 5321 §4.1.2).
  path_syntax,
  path_not_null,  // "<>" where a null path is not allowed

  // Enhanced status codes (RFC 3463, RFC 2034).
  esc_syntax,

  // DATA content (RFC 5321 §4.1.1.4).
  data_too_large,
};

// to_string names the error in a few words, e.g. "line too long".
std::string_view to_string(errc e);

// protocol_category is the std::error_category of errc ("smtpsim.protocol").
const std::error_category& protocol_category();
std::error_code make_error_code(errc e);

}  // namespace smtpsim::protocol

template <>
struct std::is_error_code_enum<smtpsim::protocol::errc> : std::true_type {};
