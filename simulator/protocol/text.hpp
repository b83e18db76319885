#pragma once
// ASCII text helpers shared by the wire code, the script runner, the judges and the reference
// peers. SMTP verbs, keywords and domains compare case-insensitively in ASCII only (RFC 5321
// §2.4), so none of these look at the locale.

#include <cstddef>
#include <string>
#include <string_view>

namespace smtpsim::protocol {

// ascii_upper maps a-z to A-Z and keeps every other octet.
char ascii_upper(char c);
std::string ascii_upper(std::string_view s);

// iequals compares ASCII case-insensitively.
bool iequals(std::string_view a, std::string_view b);

// istarts_with tells whether s begins with prefix, ASCII case-insensitively.
bool istarts_with(std::string_view s, std::string_view prefix);

// icontains tells whether needle occurs in haystack, ASCII case-insensitively.
bool icontains(std::string_view haystack, std::string_view needle);

// printable renders peer octets for one-line evidence: CR and LF as \r and \n, every other
// control or non-ASCII octet as \xNN. At most max octets are rendered; a longer input ends in
// "... (N octets)", so the evidence stays bounded whatever the peer sent.
std::string printable(std::string_view bytes, std::size_t max = 120);

}  // namespace smtpsim::protocol
