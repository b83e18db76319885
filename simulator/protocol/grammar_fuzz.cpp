#include "simulator/protocol/grammar_fuzz.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "simulator/protocol/text.hpp"

namespace smtpsim::protocol {

namespace {

constexpr std::string_view letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// atext of RFC 5322 plus the specials a path parser must survive.
constexpr std::string_view local_chars =
    "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.\"\\()<>[]:;@, ";
constexpr std::string_view printable_ascii =
    " !\"#$%&'()*+,-./"
    "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

constexpr std::array<std::string_view, 16> known_verbs = {
    "EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP", "VRFY", "EXPN",
    "HELP", "ETRN", "AUTH", "QUIT", "TURN", "SEND", "SAML", "XCLIENT"};

constexpr std::array<std::string_view, 12> param_keywords = {
    "SIZE",  "BODY", "SMTPUTF8",   "RET",         "ENVID",   "NOTIFY",
    "ORCPT", "AUTH", "REQUIRETLS", "MT-PRIORITY", "HOLDFOR", "BY"};

// utf8_pieces: valid sequences of every length, then broken ones (overlong, lone continuation,
// truncated, surrogate, beyond U+10FFFF).
constexpr std::array<std::string_view, 11> utf8_samples = {
    "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xd0\x96\xd0\xb8", "\xef\xbb\xbf", "\xc0\xaf",
    "\x80",     "\xe2\x82",     "\xed\xa0\x80",     "\xf4\x90\x80\x80", "\xfe\xff"};

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

grammar_fuzzer::grammar_fuzzer(std::uint64_t seed, std::vector<std::string> corpus,
                               std::size_t max_line)
    : seed_(seed),
      state_(mix(seed + 0x9e3779b97f4a7c15ULL)),
      corpus_(std::move(corpus)),
      max_line_(max_line == 0 ? 1 : max_line) {}

std::uint64_t grammar_fuzzer::next_u64() {
  // splitmix64: a fixed, portable sequence for a given seed.
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix(state_);
}

std::size_t grammar_fuzzer::below(std::size_t n) {
  return n == 0 ? 0 : static_cast<std::size_t>(next_u64() % n);
}

bool grammar_fuzzer::chance(unsigned percent) { return below(100) < percent; }

char grammar_fuzzer::pick(std::string_view from) { return from[below(from.size())]; }

std::string grammar_fuzzer::text(std::size_t min, std::size_t max, std::string_view alphabet) {
  const std::size_t n = min + below(max - min + 1);
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(pick(alphabet));
  }
  return out;
}

std::string grammar_fuzzer::utf8_piece() {
  return std::string(utf8_samples[below(utf8_samples.size())]);
}

std::string grammar_fuzzer::verb() {
  std::string v;
  switch (below(10)) {
    case 0:
    case 1:
      v = text(1, 12, chance(80) ? letters : printable_ascii);  // an unknown verb
      break;
    default:
      v = known_verbs[below(known_verbs.size())];
      break;
  }
  if (chance(30)) {  // verbs are case-insensitive (RFC 5321 §2.4)
    for (auto& c : v) {
      if (chance(50)) {
        c = static_cast<char>(c ^ 0x20);
      }
    }
  }
  return v;
}

std::string grammar_fuzzer::domain() {
  switch (below(8)) {
    case 0:
      return "[127.0.0.1]";
    case 1:
      return "[IPv6:" + text(1, 40, "0123456789abcdef:.") + "]";
    case 2: {
      std::string label = text(1, 20, alnum);
      return label + "." + utf8_piece() + ".test";
    }
    case 3: {
      std::string label = text(0, 70, alnum);
      return label + "-." + text(0, 5, "-.") + "test";
    }
    case 4:
      return "";
    case 5:
      return text(1, 200, "abcdefghijklmnopqrstuvwxyz0123456789-.[]:");
    default:
      return text(1, 20, "abcdefghijklmnopqrstuvwxyz") + ".test";
  }
}

std::string grammar_fuzzer::path() {
  std::string local;
  switch (below(6)) {
    case 0:
      local = "\"" + text(0, 30, local_chars) + "\"";
      break;
    case 1:
      local = text(60, 70, "abcdefghijklmnopqrstuvwxyz");  // around the 64-octet limit
      break;
    case 2:
      local = text(1, 10, alnum);
      local += utf8_piece();
      break;
    default:
      local = text(1, 16, "abcdefghijklmnopqrstuvwxyz0123456789.+-_%!");
      break;
  }
  std::string p;
  switch (below(8)) {
    case 0:
      return "<>";
    case 1: {  // a source route
      const std::string hop1 = domain();
      const std::string hop2 = domain();
      p = "<@" + hop1 + ",@" + hop2 + ":" + local + "@" + domain() + ">";
      break;
    }
    case 2:
      p = local + "@" + domain();  // no angle brackets
      break;
    case 3:
      p = "<" + local + ">";  // no domain
      break;
    case 4:
      p = "<" + local + "@" + domain();  // unbalanced
      break;
    default:
      p = "<" + local + "@" + domain() + ">";
      break;
  }
  return p;
}

std::string grammar_fuzzer::params(std::size_t budget) {
  std::string out;
  const std::size_t count = below(4);
  for (std::size_t i = 0; i < count && out.size() < budget; ++i) {
    std::string key = std::string(param_keywords[below(param_keywords.size())]);
    std::string value;
    switch (below(8)) {
      case 0:
        value = text(1, 25, "0123456789");
        break;
      case 1:
        value = text(0, 20, "0123456789ABCDEF+=-;,");
        break;
      case 2:
        value = "rfc822;" + text(1, 20, local_chars);
        value += "@" + domain();
        break;
      case 3:
        key = text(1, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789");
        value = utf8_piece();
        value += text(0, 10, alnum);
        break;
      case 4:
        key.clear();  // a parameter that is only a value, or a bare '='
        value = text(0, 8, "=<>@:; ");
        break;
      default:
        value = text(0, 12, alnum);
        break;
    }
    out += ' ' + key;
    if (!value.empty() || chance(30)) {
      out += '=' + value;
    }
  }
  if (chance(15) && out.size() < budget) {
    // A very long parameter: fill the rest of the line.
    out += " " + text(1, 12, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "=";
    const std::size_t room = budget > out.size() ? budget - out.size() : 0;
    out += text(room / 2, room, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=");
  }
  return out;
}

std::string grammar_fuzzer::from_grammar() {
  const std::size_t budget = max_line_ > 40 ? max_line_ - 40 : max_line_;
  switch (below(20)) {
    case 0:
    case 1:
    case 2: {
      // Every random choice is its own statement: the operands of + are unsequenced, and the
      // sequence must not depend on the compiler's evaluation order.
      std::string line = chance(50) ? "EHLO" : "HELO";
      line += chance(90) ? " " : "";
      return line + domain();
    }
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9: {
      const bool mail = below(7) < 4;
      std::string line = mail ? "MAIL FROM:" : "RCPT TO:";
      line += chance(90) ? "" : " ";
      line += path();
      return line + params(budget);
    }
    case 10: {
      std::string line = "AUTH ";
      line += chance(50) ? std::string("PLAIN") : text(1, 20, alnum);
      if (chance(50)) {
        line +=
            " " + text(0, 60, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=*");
      }
      return line;
    }
    case 11:
      return "";  // an empty line
    case 12:
      return chance(10) ? "QUIT" : "NOOP " + text(0, 30, printable_ascii);
    default: {
      std::string line = verb();
      if (chance(70)) {
        line += chance(80) ? " " : text(2, 6, " \t");
        line += text(0, 40, printable_ascii);
      }
      if (chance(20)) {
        line += params(budget);
      }
      return line;
    }
  }
}

void grammar_fuzzer::mutate(std::string& line) {
  const std::size_t at = below(line.size() + 1);
  switch (below(10)) {
    case 0:
    case 1:
      line.insert(at, 1, '\r');  // a lone CR
      break;
    case 2:
    case 3:
      line.insert(at, text(1, 4, "\x80\x9f\xa0\xc0\xc1\xe0\xf5\xff\xfe\xbf"));  // high-bit octets
      break;
    case 4:
    case 5:
      line.insert(at, utf8_piece());
      break;
    case 6:
      if (!line.empty()) {  // delete a range
        const std::size_t from = std::min(at, line.size() - 1);
        line.erase(from, 1 + below(std::min<std::size_t>(line.size() - from, 20)));
      }
      break;
    case 7:
      if (!line.empty()) {  // duplicate a range
        const std::size_t from = below(line.size());
        const std::size_t n = 1 + below(std::min<std::size_t>(line.size() - from, 40));
        line.insert(at, line.substr(from, n));
      }
      break;
    case 8:
      line.insert(at, text(1, 8, " \t"));
      break;
    default:
      if (!corpus_.empty()) {  // splice: our head, another seed's tail
        const std::string& other = corpus_[below(corpus_.size())];
        line = line.substr(0, at) + other.substr(below(other.size() + 1));
      } else if (!line.empty()) {
        const std::size_t i = below(line.size());
        line[i] = pick(printable_ascii);
      }
      break;
  }
}

std::string grammar_fuzzer::finish(std::string line) const {
  std::replace(line.begin(), line.end(), '\n', ' ');
  if (line.size() > max_line_) {
    line.resize(max_line_);
  }
  line = sendable_verb(std::move(line));
  if (line.size() > max_line_) {
    line.resize(max_line_);
  }
  return line;
}

std::string grammar_fuzzer::next() {
  std::string line;
  const bool from_corpus = !corpus_.empty() && chance(35);
  line = from_corpus ? corpus_[below(corpus_.size())] : from_grammar();
  const std::size_t mutations = from_corpus ? below(4) : (chance(50) ? 1 + below(2) : 0);
  for (std::size_t i = 0; i < mutations; ++i) {
    mutate(line);
  }
  return finish(std::move(line));
}

std::vector<std::string> corpus_lines(const std::vector<std::string>& byte_strings,
                                      std::size_t max_line) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& bytes : byte_strings) {
    std::size_t start = 0;
    while (start < bytes.size()) {
      std::size_t end = bytes.find('\n', start);
      if (end == std::string::npos) {
        end = bytes.size();
      }
      std::string line = bytes.substr(start, end - start);
      start = end + 1;
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line.empty() || line.size() > max_line) {
        continue;
      }
      line = sendable_verb(std::move(line));
      if (line.size() <= max_line && seen.insert(line).second) {
        out.push_back(std::move(line));
      }
    }
  }
  return out;
}

std::string sendable_verb(std::string line) {
  std::size_t start = 0;
  while (start < line.size() && blank(line[start])) {
    ++start;
  }
  std::size_t end = start;
  while (end < line.size() && !blank(line[end])) {
    ++end;
  }
  const std::string_view word(line.data() + start, end - start);
  if (iequals(word, "DATA") || iequals(word, "BDAT") || iequals(word, "STARTTLS")) {
    line.insert(start, 1, 'X');
  }
  return line;
}

}  // namespace smtpsim::protocol
