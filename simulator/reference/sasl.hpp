#pragma once
// SASL helpers of the reference server that need a digest: CRAM-MD5 (RFC 2195). Kept apart from
// server_session so that the state machine includes no OpenSSL header.

#include <string>
#include <string_view>

namespace smtpsim::reference {

// cram_md5_digest returns HMAC-MD5(`secret`, `challenge`) as 32 lower-case hex digits, the
// digest a CRAM-MD5 client sends after its user name (RFC 2195 §2).
std::string cram_md5_digest(std::string_view secret, std::string_view challenge);

}  // namespace smtpsim::reference
