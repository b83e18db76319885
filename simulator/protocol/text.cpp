#include "simulator/protocol/text.hpp"

#include <algorithm>
#include <array>

namespace smtpsim::protocol {

namespace {

bool same_octet(char x, char y) { return ascii_upper(x) == ascii_upper(y); }

}  // namespace

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return ascii_upper(c); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_octet);
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool icontains(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), same_octet) !=
         haystack.end();
}

std::string printable(std::string_view bytes, std::size_t max) {
  static constexpr std::array<char, 16> hex{'0', '1', '2', '3', '4', '5', '6', '7',
                                            '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out;
  const std::string_view shown = bytes.substr(0, max);
  out.reserve(shown.size());
  for (const char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex.at(c >> 4U);
      out += hex.at(c & 0x0fU);
    } else {
      out += ch;
    }
  }
  if (bytes.size() > shown.size()) {
    out += "... (" + std::to_string(bytes.size()) + " octets)";
  }
  return out;
}

}  // namespace smtpsim::protocol
