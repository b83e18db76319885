#include "reports/text_encoding.hpp"

#include <array>
#include <cstdint>

namespace smtpsim::reports {

namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr bool is_continuation(unsigned char c) { return (c & 0xC0U) == 0x80U; }

// base64_values maps an alphabet character to its 6-bit value, and everything else to 0xFF.
constexpr std::array<std::uint8_t, 256> make_base64_values() {
  std::array<std::uint8_t, 256> values{};
  for (auto& v : values) {
    v = 0xFF;
  }
  for (std::size_t i = 0; i < base64_alphabet.size(); ++i) {
    values[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return values;
}

constexpr std::array<std::uint8_t, 256> base64_values = make_base64_values();

}  // namespace

std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t& code_point) {
  if (pos >= text.size()) {
    return 0;
  }
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if (lead < 0x80U) {
    code_point = lead;
    return 1;
  }
  if (lead >= 0xC2U && lead <= 0xDFU) {
    length = 2;
    value = lead & 0x1FU;
    minimum = 0x80;
  } else if (lead >= 0xE0U && lead <= 0xEFU) {
    length = 3;
    value = lead & 0x0FU;
    minimum = 0x800;
  } else if (lead >= 0xF0U && lead <= 0xF4U) {
    length = 4;
    value = lead & 0x07U;
    minimum = 0x10000;
  } else {
    // 0x80-0xC1 (continuation bytes, overlong two-byte leads) and 0xF5-0xFF never start a
    // sequence.
    return 0;
  }
  if (text.size() - pos < length) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto c = static_cast<unsigned char>(text[pos + i]);
    if (!is_continuation(c)) {
      return 0;
    }
    value = (value << 6U) | (c & 0x3FU);
  }
  // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8 (RFC 3629 §3).
  if (value < minimum || (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF) {
    return 0;
  }
  code_point = value;
  return length;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    const std::size_t n = decode_utf8(text, pos, cp);
    if (n == 0) {
      return false;
    }
    pos += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    const std::size_t n = decode_utf8(text, pos, cp);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++pos;
    } else {
      out.append(text.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

bool is_readable_text(std::string_view octets) {
  for (const char ch : octets) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20U && c != '\r' && c != '\n' && c != '\t') || c == 0x7FU) {
      return false;
    }
  }
  return is_valid_utf8(octets);
}

std::string base64_encode(std::string_view octets) {
  std::string out;
  out.reserve((octets.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= octets.size(); i += 3) {
    const std::uint32_t group =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(octets[i])) << 16U) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(octets[i + 1])) << 8U) |
        static_cast<unsigned char>(octets[i + 2]);
    out += base64_alphabet[(group >> 18U) & 0x3FU];
    out += base64_alphabet[(group >> 12U) & 0x3FU];
    out += base64_alphabet[(group >> 6U) & 0x3FU];
    out += base64_alphabet[group & 0x3FU];
  }
  const std::size_t rest = octets.size() - i;
  if (rest > 0) {
    std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(octets[i])) << 16U;
    if (rest == 2) {
      group |= static_cast<std::uint32_t>(static_cast<unsigned char>(octets[i + 1])) << 8U;
    }
    out += base64_alphabet[(group >> 18U) & 0x3FU];
    out += base64_alphabet[(group >> 12U) & 0x3FU];
    out += rest == 2 ? base64_alphabet[(group >> 6U) & 0x3FU] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    // Padding may only end the last group: "xx==" or "xxx=".
    std::size_t padding = 0;
    if (last && text[i + 3] == '=') {
      padding = text[i + 2] == '=' ? 2 : 1;
    }
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      std::uint32_t value = 0;
      if (k >= 4 - padding) {
        value = 0;
      } else {
        value = base64_values[static_cast<unsigned char>(text[i + k])];
        if (value == 0xFFU) {
          return std::nullopt;
        }
      }
      group = (group << 6U) | value;
    }
    out += static_cast<char>((group >> 16U) & 0xFFU);
    if (padding < 2) {
      out += static_cast<char>((group >> 8U) & 0xFFU);
    }
    if (padding < 1) {
      out += static_cast<char>(group & 0xFFU);
    }
    // Canonical encodings leave the bits under the padding zero (RFC 4648 §3.5).
    if ((padding == 1 && (group & 0xFFU) != 0) || (padding == 2 && (group & 0xFFFFU) != 0)) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace smtpsim::reports
