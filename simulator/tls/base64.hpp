#pragma once
// Base64 (RFC 4648 §4) through OpenSSL, for SASL exchanges (RFC 4954 §4).

#include <optional>
#include <string>
#include <string_view>

namespace smtpsim::tls {

std::string base64_encode(std::string_view octets);
// base64_decode returns nullopt for anything that is not canonical base64 (bad alphabet, bad
// padding, "=" in the middle), as RFC 4954 §4 requires a 501 for such responses.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace smtpsim::tls
