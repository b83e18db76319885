#include "simulator/protocol/address.hpp"

#include <cstdint>

#include "simulator/protocol/text.hpp"

namespace smtpsim::protocol {

namespace {

// RFC 5321 §4.5.3.1.1-3 size limits.
constexpr std::size_t max_local_part = 64;
constexpr std::size_t max_domain = 255;
constexpr std::size_t max_path = 256;

bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(unsigned char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// is_atext: RFC 5322 §3.2.3 atext, extended by UTF8-non-ascii when 8-bit is allowed
// (RFC 6531 §3.3).
bool is_atext(unsigned char c, bool allow_8bit) {
  if (is_let_dig(c)) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return allow_8bit && c >= 0x80;
  }
}

// is_qtext_smtp: qtextSMTP = %d32-33 / %d35-91 / %d93-126 (RFC 5321 §4.1.2).
bool is_qtext_smtp(unsigned char c, bool allow_8bit) {
  return (c >= 32 && c <= 126 && c != '"' && c != '\\') || (allow_8bit && c >= 0x80);
}

// is_dcontent: dcontent = %d33-90 / %d94-126 (RFC 5321 §4.1.3).
bool is_dcontent(unsigned char c) { return (c >= 33 && c <= 90) || (c >= 94 && c <= 126); }

// is_valid_utf8 checks well-formed UTF-8 (RFC 3629 §4): no overlong forms, no surrogates,
// nothing above U+10FFFF. RFC 6531 allows only well-formed UTF-8 in SMTPUTF8 addresses.
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      min = 0x10000;
    } else {
      return false;
    }
    std::uint32_t cp = c & (0x7Fu >> len);
    if (s.size() - i < len) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0u) != 0x80u) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// parser is a cursor over the text of one path.
class parser {
 public:
  parser(std::string_view s, bool allow_8bit) : s_(s), allow_8bit_(allow_8bit) {}

  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= s_.size(); }
  unsigned char peek() const { return at_end() ? 0 : static_cast<unsigned char>(s_[pos_]); }
  bool eat(char c) {
    if (!at_end() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view since(std::size_t start) const { return s_.substr(start, pos_ - start); }

  // sub_domain: Let-dig [Ldh-str], Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig; with 8-bit,
  // U-labels are taken as runs of UTF-8 octets (RFC 6531 §3.3).
  bool sub_domain() {
    const std::size_t start = pos_;
    while (!at_end() && (is_let_dig(peek()) || peek() == '-' || (allow_8bit_ && peek() >= 0x80))) {
      ++pos_;
    }
    if (pos_ == start || s_[start] == '-' || s_[pos_ - 1] == '-') {
      return false;
    }
    return true;
  }

  // domain: sub-domain *("." sub-domain).
  bool domain() {
    for (;;) {
      if (!sub_domain()) {
        return false;
      }
      if (!eat('.')) {
        return true;
      }
    }
  }

  // address_literal: "[" ... "]" with its content checked by is_valid_address_literal.
  bool address_literal() {
    const std::size_t start = pos_;
    if (!eat('[')) {
      return false;
    }
    while (!at_end() && peek() != ']') {
      ++pos_;
    }
    if (!eat(']')) {
      return false;
    }
    return is_valid_address_literal(since(start));
  }

  // dot_string: Atom *("." Atom), Atom = 1*atext.
  bool dot_string() {
    for (;;) {
      const std::size_t start = pos_;
      while (!at_end() && is_atext(peek(), allow_8bit_)) {
        ++pos_;
      }
      if (pos_ == start) {
        return false;
      }
      if (!eat('.')) {
        return true;
      }
    }
  }

  // quoted_string: DQUOTE *QcontentSMTP DQUOTE, QcontentSMTP = qtextSMTP / quoted-pairSMTP,
  // quoted-pairSMTP = "\" %d32-126.
  bool quoted_string() {
    if (!eat('"')) {
      return false;
    }
    for (;;) {
      if (at_end()) {
        return false;
      }
      const unsigned char c = peek();
      ++pos_;
      if (c == '"') {
        return true;
      }
      if (c == '\\') {
        if (at_end() || peek() < 32 || peek() > 126) {
          return false;
        }
        ++pos_;
      } else if (!is_qtext_smtp(c, allow_8bit_)) {
        return false;
      }
    }
  }

 private:
  std::string_view s_;
  bool allow_8bit_ = false;
  std::size_t pos_ = 0;
};

// parse_mailbox reads Local-part "@" ( Domain / address-literal ) into `box`.
bool parse_mailbox(parser& p, mailbox& box, const path_options& options, bool in_brackets) {
  std::size_t start = p.pos();
  if (p.peek() == '"') {
    if (!p.quoted_string()) {
      return false;
    }
    box.quoted_local_part = true;
  } else if (!p.dot_string()) {
    return false;
  }
  box.local_part = std::string(p.since(start));
  if (!p.eat('@')) {
    // RFC 5321 §4.1.1.3: "<Postmaster>" is a valid recipient without a domain.
    return options.allow_postmaster && in_brackets && !box.quoted_local_part &&
           iequals(box.local_part, "postmaster") && p.peek() == '>';
  }
  start = p.pos();
  if (p.peek() == '[') {
    if (!p.address_literal()) {
      return false;
    }
    box.address_literal = true;
  } else if (!p.domain()) {
    return false;
  }
  box.domain = std::string(p.since(start));
  return true;
}

result<path> parse_path_at(std::string_view text, std::size_t* consumed, path_options options) {
  path out;
  parser p(text, options.allow_8bit);
  const bool in_brackets = p.eat('<');
  if (!in_brackets && !options.allow_no_brackets) {
    return errc::path_syntax;
  }
  if (in_brackets && p.eat('>')) {
    if (!options.allow_null) {
      return errc::path_not_null;
    }
    out.null = true;
  } else {
    // A-d-l ":" (RFC 5321 §4.1.2): source routes, obsolete but still legal to send.
    if (in_brackets && p.peek() == '@') {
      for (;;) {
        if (!p.eat('@')) {
          return errc::path_syntax;
        }
        const std::size_t start = p.pos();
        if (!p.domain()) {
          return errc::path_syntax;
        }
        out.source_route.emplace_back(p.since(start));
        if (!p.eat(',')) {
          break;
        }
      }
      if (!p.eat(':')) {
        return errc::path_syntax;
      }
    }
    if (!parse_mailbox(p, out.box, options, in_brackets)) {
      return errc::path_syntax;
    }
    if (in_brackets) {
      if (!p.eat('>')) {
        return errc::path_syntax;
      }
    } else {
      out.brackets_missing = true;
      if (!p.at_end() && p.peek() != ' ') {
        return errc::path_syntax;
      }
    }
  }
  const std::size_t length = p.pos();
  const std::string_view used = text.substr(0, length);
  for (char c : used) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      out.eight_bit = true;
      break;
    }
  }
  if (out.eight_bit && !is_valid_utf8(used)) {
    return errc::path_syntax;
  }
  out.local_part_too_long = out.box.local_part.size() > max_local_part;
  out.domain_too_long = out.box.domain.size() > max_domain;
  out.path_too_long = length + (in_brackets ? 0 : 2) > max_path;
  if (consumed != nullptr) {
    *consumed = length;
  }
  return out;
}

// parse_ipv4: Snum 3("." Snum), Snum = 1*3DIGIT with a value of 0-255.
bool parse_ipv4(std::string_view s) {
  int fields = 0;
  std::size_t i = 0;
  for (;;) {
    const std::size_t start = i;
    int value = 0;
    while (i < s.size() && is_digit(static_cast<unsigned char>(s[i])) && i - start < 3) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) {
      return false;
    }
    ++fields;
    if (fields == 4) {
      return i == s.size();
    }
    if (i >= s.size() || s[i] != '.') {
      return false;
    }
    ++i;
  }
}

// parse_hex_groups reads IPv6-hex *(":" IPv6-hex) (or nothing if `s` is empty); the last item
// may be an IPv4 address when `allow_ipv4`. It counts the 16-bit groups.
bool parse_hex_groups(std::string_view s, bool allow_ipv4, int& groups, bool& ipv4) {
  groups = 0;
  ipv4 = false;
  if (s.empty()) {
    return true;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = s.find(':', start);
    const std::string_view item =
        s.substr(start, colon == std::string_view::npos ? colon : colon - start);
    if (colon == std::string_view::npos && allow_ipv4 && item.find('.') != std::string_view::npos) {
      ipv4 = true;
      return parse_ipv4(item);
    }
    if (item.empty() || item.size() > 4) {
      return false;
    }
    for (char c : item) {
      if (!is_hex(static_cast<unsigned char>(c))) {
        return false;
      }
    }
    ++groups;
    if (colon == std::string_view::npos) {
      return true;
    }
    start = colon + 1;
  }
}

// parse_ipv6 checks IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
// (RFC 5321 §4.1.3). Note the grammar's limits: "::" stands for at least two groups, so a
// compressed form holds at most 6 groups (4 before an IPv4 tail).
bool parse_ipv6(std::string_view s) {
  const std::size_t dc = s.find("::");
  int left_groups = 0;
  int right_groups = 0;
  bool left_v4 = false;
  bool right_v4 = false;
  if (dc == std::string_view::npos) {
    if (!parse_hex_groups(s, true, left_groups, left_v4)) {
      return false;
    }
    return left_v4 ? left_groups == 6 : left_groups == 8;
  }
  const std::string_view left = s.substr(0, dc);
  const std::string_view right = s.substr(dc + 2);
  if (right.find("::") != std::string_view::npos) {
    return false;
  }
  if (!parse_hex_groups(left, false, left_groups, left_v4) ||
      !parse_hex_groups(right, true, right_groups, right_v4)) {
    return false;
  }
  const int total = left_groups + right_groups;
  return right_v4 ? total <= 4 : total <= 6;
}

}  // namespace

std::string mailbox::to_string() const {
  if (domain.empty()) {
    return local_part;
  }
  return local_part + '@' + domain;
}

std::string path::to_string() const {
  if (null) {
    return "<>";
  }
  std::string out = "<";
  for (std::size_t i = 0; i < source_route.size(); ++i) {
    out += i == 0 ? "@" : ",@";
    out += source_route[i];
  }
  if (!source_route.empty()) {
    out += ':';
  }
  out += box.to_string();
  out += '>';
  return out;
}

result<path> parse_path(std::string_view text, path_options options) {
  std::size_t consumed = 0;
  auto out = parse_path_at(text, &consumed, options);
  if (out && consumed != text.size()) {
    return errc::path_syntax;
  }
  return out;
}

result<path> parse_path_prefix(std::string_view text, std::size_t* consumed, path_options options) {
  return parse_path_at(text, consumed, options);
}

bool is_valid_domain(std::string_view text) {
  parser p(text, false);
  return p.domain() && p.at_end();
}

bool is_valid_address_literal(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
    return false;
  }
  const std::string_view inner = text.substr(1, text.size() - 2);
  if (parse_ipv4(inner)) {
    return true;
  }
  // RFC 5321 §4.1.3: IPv6-address-literal = "IPv6:" IPv6-addr (ABNF strings are
  // case-insensitive).
  if (inner.size() >= 5 && iequals(inner.substr(0, 5), "IPv6:")) {
    return parse_ipv6(inner.substr(5));
  }
  // General-address-literal = Standardized-tag ":" 1*dcontent, Standardized-tag = Ldh-str.
  const std::size_t colon = inner.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == inner.size()) {
    return false;
  }
  const std::string_view tag = inner.substr(0, colon);
  for (char c : tag) {
    if (!is_let_dig(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  if (!is_let_dig(static_cast<unsigned char>(tag.back()))) {
    return false;
  }
  for (char c : inner.substr(colon + 1)) {
    if (!is_dcontent(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace smtpsim::protocol
