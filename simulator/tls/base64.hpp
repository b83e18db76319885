#pragma once
// Base64 (RFC 4648 §4) through OpenSSL, for SASL exchanges (RFC 4954 §4).

#include <optional>
#include <string>
#include <string_view>

namespace smtpsim::tls {

std::string base64_encode(std::string_view octets);
// base64_decode returns nullopt for anything that is not canonical base64 (a character outside
// the RFC 4648 §4 alphabet, whitespace included; bad padding; "=" in the middle; a length that is
// not a multiple of 4; non-zero bits after the last octet, RFC 4648 §3.5), as RFC 4954 §4
// requires a 501 for such responses. "" decodes to "".
// base64_encode never inserts line breaks.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace smtpsim::tls
