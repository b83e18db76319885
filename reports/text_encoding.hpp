#pragma once
// Byte-to-text helpers shared by the report writers. Transcripts hold arbitrary octets (NUL,
// 8-bit, broken UTF-8), while JSON, XML and Markdown need well-formed UTF-8 text.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smtpsim::reports {

// decode_utf8 reads one well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF) at `pos` of `text`. It stores the code point in `code_point` and returns
// the sequence's length, or 0 when the bytes at `pos` are not a well-formed sequence.
std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t& code_point);

// is_valid_utf8 is true when all of `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

// to_valid_utf8 replaces every byte that does not belong to a well-formed sequence with U+FFFD,
// so that a peer's broken bytes in a free-text field cannot make a report unwritable.
std::string to_valid_utf8(std::string_view text);

// is_readable_text is true when `octets` can be shown as text without losing anything a reader
// would miss: well-formed UTF-8 with no control characters except CR, LF and TAB (so no NUL,
// no ESC, no DEL). The run JSON stores such bytes as "text" and everything else as "base64".
bool is_readable_text(std::string_view octets);

// base64_encode encodes `octets` with the RFC 4648 §4 alphabet and "=" padding. The reports
// layer has its own because it must not depend on OpenSSL.
std::string base64_encode(std::string_view octets);

// base64_decode decodes canonical RFC 4648 §4 base64 (padded, no whitespace, unused bits zero)
// and returns nullopt for anything else, so a corrupted run JSON is reported, not half-read.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace smtpsim::reports
