#pragma once
// Enhanced status codes (RFC 3463 §2, RFC 2034 §4): class "." subject "." detail.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smtpsim::protocol {

struct enhanced_status {
  int cls = 0;      // 2, 4 or 5
  int subject = 0;  // 0-999: 1*3digit (RFC 3463 §2), so "5.07.1" is legal and reads as 5.7.1
  int detail = 0;   // 0-999: 1*3digit

  std::string to_string() const;  // "5.7.0"
  friend bool operator==(const enhanced_status&, const enhanced_status&) = default;
};

// parse_enhanced_status parses an enhanced status code at the start of `text` (the reply text
// after "ddd " / "ddd-"). It returns nullopt when `text` does not start with a well-formed code
// followed by SP or the end of the text. On success, *consumed (if given) is set to the number of
// octets of the code, not counting the following SP. Reads at most 11 octets of `text`; never
// throws or allocates.
std::optional<enhanced_status> parse_enhanced_status(std::string_view text,
                                                     std::size_t* consumed = nullptr);

// parse_enhanced_status_exact parses "5.7.0"-style text exactly (the whole string), e.g. a
// scenario's expected code; nullopt if anything else is present.
std::optional<enhanced_status> parse_enhanced_status_exact(std::string_view text);

}  // namespace smtpsim::protocol
