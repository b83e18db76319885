#include "simulator/tls/base64.hpp"

#include <array>
#include <cstddef>
#include <stdexcept>

#include <openssl/evp.h>

namespace smtpsim::tls {

namespace {

// chunk sizes keep every EVP_*Block call far below INT_MAX and are whole base64 quanta
// (3 octets in, 4 characters out).
constexpr std::size_t encode_chunk = 3 * 1024;
constexpr std::size_t decode_chunk = 4 * 1024;

// sextet_of returns the 6-bit value of a base64 alphabet character (RFC 4648 §4), or -1.
int sextet_of(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// padding_of checks `text` character by character and returns its number of '=' (0-2), or -1
// when it is not canonical base64. EVP_DecodeBlock alone is too lenient for RFC 4954 §4: it skips
// leading and trailing whitespace and does not check the unused bits of the last quantum.
int padding_of(std::string_view text) {
  if (text.size() % 4 != 0) {
    return -1;
  }
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  }
  const std::size_t data_len = text.size() - padding;
  for (std::size_t i = 0; i < data_len; ++i) {
    if (sextet_of(text[i]) < 0) {
      return -1;  // outside the alphabet, or '=' before the end
    }
  }
  // Canonical encoding (RFC 4648 §3.5): the bits of the last data character that pad the final
  // octet are zero. Otherwise two different texts would decode to the same octets.
  if (padding == 1 && (sextet_of(text[data_len - 1]) & 0x03) != 0) {
    return -1;
  }
  if (padding == 2 && (sextet_of(text[data_len - 1]) & 0x0F) != 0) {
    return -1;
  }
  return static_cast<int>(padding);
}

}  // namespace

std::string base64_encode(std::string_view octets) {
  std::string out;
  out.reserve((octets.size() + 2) / 3 * 4);
  std::array<unsigned char, encode_chunk / 3 * 4 + 1> buf{};  // +1: EVP_EncodeBlock adds a NUL
  for (std::size_t pos = 0; pos < octets.size(); pos += encode_chunk) {
    const std::string_view part = octets.substr(pos, encode_chunk);
    const int n = EVP_EncodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(part.data()),
                                  static_cast<int>(part.size()));
    if (n < 0) {
      throw std::runtime_error("EVP_EncodeBlock failed");
    }
    out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  const int padding = padding_of(text);
  if (padding < 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::array<unsigned char, decode_chunk / 4 * 3> buf{};
  for (std::size_t pos = 0; pos < text.size(); pos += decode_chunk) {
    const std::string_view part = text.substr(pos, decode_chunk);
    const int n = EVP_DecodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(part.data()),
                                  static_cast<int>(part.size()));
    if (n < 0) {
      return std::nullopt;  // cannot happen after padding_of; kept as a second line of defence
    }
    out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
  }
  // EVP_DecodeBlock counts each '=' as a zero octet.
  out.resize(out.size() - static_cast<std::size_t>(padding));
  return out;
}

}  // namespace smtpsim::tls
