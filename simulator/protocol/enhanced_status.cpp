#include "simulator/protocol/enhanced_status.hpp"

namespace smtpsim::protocol {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// parse_number reads 1*3DIGIT at `pos` (RFC 3463 §2: subject and detail are 1*3digit) and
// advances `pos`; a fourth digit makes the field invalid.
bool parse_number(std::string_view text, std::size_t& pos, int& out) {
  std::size_t start = pos;
  int value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (pos - start == 3) {
      return false;
    }
    value = value * 10 + (text[pos] - '0');
    ++pos;
  }
  if (pos == start) {
    return false;
  }
  out = value;
  return true;
}

}  // namespace

std::string enhanced_status::to_string() const {
  return std::to_string(cls) + '.' + std::to_string(subject) + '.' + std::to_string(detail);
}

std::optional<enhanced_status> parse_enhanced_status(std::string_view text, std::size_t* consumed) {
  // RFC 3463 §2 / RFC 2034 §4: class "." subject "." detail, class = "2" / "4" / "5".
  if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') {
    return std::nullopt;
  }
  enhanced_status status;
  status.cls = text[0] - '0';
  std::size_t pos = 2;
  if (!parse_number(text, pos, status.subject) || pos >= text.size() || text[pos] != '.') {
    return std::nullopt;
  }
  ++pos;
  if (!parse_number(text, pos, status.detail)) {
    return std::nullopt;
  }
  // RFC 2034 §4: the code is followed by SP and the text; we also accept the end of the text.
  if (pos < text.size() && text[pos] != ' ') {
    return std::nullopt;
  }
  if (consumed != nullptr) {
    *consumed = pos;
  }
  return status;
}

std::optional<enhanced_status> parse_enhanced_status_exact(std::string_view text) {
  std::size_t consumed = 0;
  auto status = parse_enhanced_status(text, &consumed);
  if (!status || consumed != text.size()) {
    return std::nullopt;
  }
  return status;
}

}  // namespace smtpsim::protocol
