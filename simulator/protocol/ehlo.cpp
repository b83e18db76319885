#include "simulator/protocol/ehlo.hpp"

#include <algorithm>
#include <array>

#include "simulator/protocol/text.hpp"

namespace smtpsim::protocol {

namespace {

// known_keywords are service extension keywords seen in EHLO replies (IANA "SMTP Service
// Extensions" registry plus common X- ones). A first line that is one of them, with no dot, is a
// keyword where the grammar wants a domain (check broken.srv-ehlo-grammar).
constexpr std::array<std::string_view, 27> known_keywords = {
    "8BITMIME",      "ATRN",       "AUTH",       "BINARYMIME", "BURL",        "CHECKPOINT",
    "CHUNKING",      "CONNEG",     "CONPERM",    "DELIVERBY",  "DSN",         "ENHANCEDSTATUSCODES",
    "ETRN",          "EXPN",       "HELP",       "LIMITS",     "MT-PRIORITY", "MTRK",
    "NO-SOLICITING", "PIPELINING", "REQUIRETLS", "RRVS",       "SIZE",        "SMTPUTF8",
    "STARTTLS",      "VRFY",       "XCLIENT",
};

bool looks_like_keyword(std::string_view word) {
  if (word.find('.') != std::string_view::npos) {
    return false;
  }
  // "AUTH=LOGIN" is the pre-RFC 4954 form of AUTH.
  const std::string_view base = word.substr(0, word.find('='));
  return std::any_of(known_keywords.begin(), known_keywords.end(),
                     [&](std::string_view k) { return iequals(base, k); });
}

// split_words splits at SP, skipping empty words.
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t end = std::min(s.find(' ', i), s.size());
    out.push_back(s.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

bool ehlo_info::has(std::string_view keyword) const { return find(keyword) != nullptr; }

const ehlo_extension* ehlo_info::find(std::string_view keyword) const {
  for (const ehlo_extension& e : extensions) {
    if (iequals(e.keyword, keyword)) {
      return &e;
    }
  }
  return nullptr;
}

std::vector<std::string> ehlo_info::keywords() const {
  std::vector<std::string> out;
  out.reserve(extensions.size());
  for (const ehlo_extension& e : extensions) {
    out.push_back(e.keyword);
  }
  return out;
}

ehlo_info parse_ehlo(const reply& r) {
  ehlo_info info;
  if (r.lines.empty()) {
    return info;
  }
  // ehlo-greet: the first line is Domain / address-literal [ SP ehlo-greet ].
  std::string_view first = r.lines.front();
  while (!first.empty() && first.front() == ' ') {
    first.remove_prefix(1);
  }
  const std::size_t sp = first.find(' ');
  info.domain = std::string(first.substr(0, sp));
  if (sp != std::string_view::npos) {
    info.greeting = std::string(first.substr(sp + 1));
  }
  info.first_line_is_keyword = looks_like_keyword(info.domain);

  // ehlo-line = ehlo-keyword *( SP ehlo-param ), one per following line.
  for (std::size_t i = 1; i < r.lines.size(); ++i) {
    const std::vector<std::string_view> words = split_words(r.lines[i]);
    if (words.empty()) {
      continue;
    }
    ehlo_extension ext;
    ext.keyword = ascii_upper(words.front());
    for (std::size_t k = 1; k < words.size(); ++k) {
      ext.params.emplace_back(words[k]);
    }
    ext.line = r.lines[i];
    if (info.has(ext.keyword)) {
      info.duplicate_keywords = true;
    }
    info.extensions.push_back(std::move(ext));
  }
  return info;
}

std::string format_ehlo(std::string_view domain, std::string_view greeting,
                        const std::vector<std::string>& extension_lines) {
  std::vector<std::string> lines;
  lines.reserve(extension_lines.size() + 1);
  std::string first(domain);
  if (!greeting.empty()) {
    first += ' ';
    first += greeting;
  }
  lines.push_back(std::move(first));
  lines.insert(lines.end(), extension_lines.begin(), extension_lines.end());
  return format_reply(250, lines);
}

}  // namespace smtpsim::protocol
