#include "simulator/script/validators.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "simulator/protocol/ehlo.hpp"
#include "simulator/protocol/reply.hpp"
#include "simulator/protocol/text.hpp"

namespace smtpsim::script {

namespace {

constexpr std::string_view no_reply_to_check = "no case's transcript held a reply to check";

constexpr std::array<validator_info, 4> validators = {{
    {one_reply_validator, "Every command gets exactly one reply", "MUST", "RFC 5321 §4.2",
     verdict::fail, no_reply_to_check},
    {multiline_validator, "Every line of a multi-line reply carries the same code", "MUST",
     "RFC 5321 §4.2.1", verdict::fail, no_reply_to_check},
    {esc_validator,
     "With ENHANCEDSTATUSCODES advertised, every 2xx/4xx/5xx reply carries class.subject.detail",
     "MUST", "RFC 2034 §3, §4", verdict::fail,
     "no case's EHLO reply advertised ENHANCEDSTATUSCODES before a reply to check"},
    {esc_tls_codes_validator,
     "TLS- and AUTH-related replies carry the enhanced status codes RFC 3207 and RFC 4954 give",
     "SHOULD", "RFC 3207 §4; RFC 4954 §4, §6", verdict::warn,
     "no case's transcript held a TLS- or AUTH-related reply (530, 454, 534, 535, 538, 500 to an "
     "overlong AUTH line) with an enhanced status code after ENHANCEDSTATUSCODES was advertised"},
}};

// The detail code each TLS- or AUTH-related reply should carry (esc.tls-codes).
struct tls_code {
  int code;
  std::string_view esc;
  std::string_view meaning;
  std::string_view reference;
};

constexpr std::array<tls_code, 6> tls_codes = {{
    {530, "5.7.0", "must issue STARTTLS first / authentication required",
     "RFC 3207 §4, RFC 4954 §6"},
    {454, "4.7.0", "TLS not available / temporary authentication failure",
     "RFC 3207 §4, RFC 4954 §6"},
    {538, "5.7.11", "encryption required for the requested authentication mechanism",
     "RFC 4954 §6"},
    {535, "5.7.8", "authentication credentials invalid", "RFC 4954 §6"},
    {534, "5.7.9", "authentication mechanism too weak", "RFC 4954 §6"},
    {500, "5.5.6", "authentication exchange line too long", "RFC 4954 §4, §6"},
}};

// RFC 4954 §4: 12288 octets are enough for any line of an AUTH exchange.
constexpr std::size_t auth_line_limit = 12288;

// expected_tls_code is the table row that governs a reply, or nullptr. 454 counts only as the
// answer to STARTTLS or inside an AUTH exchange (elsewhere it is an ordinary temporary failure),
// 500 only as the answer to an AUTH exchange line over the limit (elsewhere a syntax error).
const tls_code* expected_tls_code(int code, std::string_view answered, bool auth_exchange,
                                  std::size_t line_length) {
  if (code == 454 && answered != "STARTTLS" && !auth_exchange) {
    return nullptr;
  }
  if (code == 500 && !(auth_exchange && line_length > auth_line_limit)) {
    return nullptr;
  }
  const auto* it = std::find_if(tls_codes.begin(), tls_codes.end(),
                                [&](const tls_code& t) { return t.code == code; });
  return it == tls_codes.end() ? nullptr : &*it;
}

// Attributions of a reply that are not a command verb.
constexpr std::string_view greeting = "(greeting)";
constexpr std::string_view end_of_data = "(end of data)";
constexpr std::string_view incomplete_line = "(incomplete line)";
using protocol::printable;

constexpr std::string_view unsolicited_421 = "(unsolicited 421)";
constexpr std::string_view unknown = "?";  // the model could not attribute octets before it

// first_line is the first wire line of a reply without its line end.
std::string first_line(const protocol::reply& r) {
  std::string_view raw = r.raw;
  const std::size_t lf = raw.find('\n');
  if (lf != std::string_view::npos) {
    raw = raw.substr(0, lf);
  }
  if (!raw.empty() && raw.back() == '\r') {
    raw.remove_suffix(1);
  }
  return printable(raw);
}

// binary is true for octets no text protocol line holds (a TLS record, NUL...): a server may do
// anything with them, so the model stops counting.
bool binary(std::string_view bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f;
  });
}

// dot_line tells whether a DATA line (without its CRLF) ends the data: "." for a strict server;
// a lenient one also takes "." followed by CRs (checks.md A12 smuggle.extra-cr: WARN, not FAIL).
bool dot_line(std::string_view line, bool lenient) {
  if (line.empty() || line.front() != '.') {
    return false;
  }
  if (!lenient) {
    return line.size() == 1;
  }
  return std::all_of(line.begin() + 1, line.end(), [](char c) { return c == '\r'; });
}

// One event on a connection, in transcript order.
struct event {
  enum class kind : std::uint8_t { sent, reply, malformed, tls_start };
  kind k = kind::sent;
  std::string_view bytes;  // sent
  std::size_t reply = 0;   // reply: index into connection::replies
};

struct located_reply {
  protocol::reply r;
  std::size_t entry = 0;
  std::size_t offset = 0;
  bool tls = false;
};

struct connection {
  std::uint32_t id = 0;
  std::vector<event> events;
  std::vector<located_reply> replies;
};

enum class violation_kind : std::uint8_t { unsolicited, reply_after_421 };

struct violation {
  std::size_t reply = 0;
  violation_kind k = violation_kind::unsolicited;
  std::size_t commands = 0;  // commands counted (greeting included) on this side before it
  std::size_t replies = 0;   // replies attributed on this side before it
};

// command_model counts the commands a server reads from the client's octets and matches the
// replies against them. `lenient` also ends command lines at a bare LF and DATA at "." + CRs.
class command_model {
 public:
  command_model(bool lenient, std::size_t replies)
      : lenient_(lenient), attribution_(replies), lengths_(replies) {
    outstanding_.push_back(pending{std::string(greeting), 0});
    ++commands_;
  }

  void on_sent(std::string_view bytes) {
    buf_.append(bytes);
    parse();
  }

  void on_malformed() { uncertain_ = true; }

  void on_tls_start() {
    outstanding_.clear();
    commands_ = 0;
    replies_ = 0;
    if (!greeted_) {
      outstanding_.push_back(pending{std::string(greeting), 0});
      ++commands_;
    }
    buf_.clear();
    pos_ = 0;
    data_ = false;
    blocked_ = false;
    bdat_skip_ = 0;
    partial_answered_ = false;
    uncertain_ = false;
    pending_421_.reset();
  }

  void on_reply(std::size_t index, int code) {
    if (uncertain_) {
      attribution_[index] = std::string(unknown);
      return;
    }
    checked_ = true;
    if (pending_421_) {
      violations_.push_back(
          violation{*pending_421_, violation_kind::reply_after_421, commands_, replies_});
      pending_421_.reset();
    }
    if (outstanding_.empty()) {
      // An incomplete line may have been taken as a command (a server that flushes a full
      // buffer with "500 line too long", or that ends lines at some other octet).
      if (!data_ && !blocked_ && bdat_skip_ == 0 && pos_ < buf_.size() && !partial_answered_) {
        partial_answered_ = true;
        attribution_[index] = std::string(incomplete_line);
        uncertain_ = binary(std::string_view(buf_).substr(pos_));
        greeted_ = true;
        ++replies_;
        return;
      }
      if (code == 421) {  // RFC 5321 §3.8: the server may close with 421 at any time
        pending_421_ = index;
        attribution_[index] = std::string(unsolicited_421);
        return;
      }
      violations_.push_back(violation{index, violation_kind::unsolicited, commands_, replies_});
      return;
    }
    pending answered = std::move(outstanding_.front());
    outstanding_.pop_front();
    greeted_ = true;
    ++replies_;
    if (answered.verb == "DATA") {
      blocked_ = false;
      data_ = code == 354;
    } else if (code == 354) {
      data_ = true;
    }
    attribution_[index] = std::move(answered.verb);
    lengths_[index] = answered.length;
    parse();
  }

  bool checked() const { return checked_; }
  const std::vector<violation>& violations() const { return violations_; }
  const std::vector<std::string>& attribution() const { return attribution_; }
  // lengths: per reply, the length of the command line it answers (without the line end).
  const std::vector<std::size_t>& lengths() const { return lengths_; }

 private:
  void parse() {
    while (!uncertain_ && !blocked_) {
      if (bdat_skip_ > 0) {
        const std::size_t n = std::min(bdat_skip_, buf_.size() - pos_);
        pos_ += n;
        bdat_skip_ -= n;
        if (bdat_skip_ > 0) {
          break;
        }
        continue;
      }
      const std::size_t end = lenient_ && !data_ ? buf_.find('\n', pos_) : buf_.find("\r\n", pos_);
      if (end == std::string::npos) {
        break;
      }
      std::string_view line = std::string_view(buf_).substr(pos_, end - pos_);
      pos_ = end + (lenient_ && !data_ ? 1 : 2);
      if (data_) {
        if (dot_line(line, lenient_)) {
          data_ = false;
          outstanding_.push_back(pending{std::string(end_of_data), 0});
          ++commands_;
        }
        continue;
      }
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);  // lenient: CRLF found as LF
      }
      if (partial_answered_) {
        partial_answered_ = false;  // the line was answered while incomplete
        continue;
      }
      const std::size_t length = line.size();
      const std::size_t sp = line.find(' ');
      std::string verb = protocol::ascii_upper(line.substr(0, sp));
      ++commands_;
      if (verb == "DATA") {
        blocked_ = true;  // what follows is data or commands: the reply decides
      } else if (verb == "BDAT" && sp != std::string_view::npos) {
        // RFC 3030 §2: the chunk is the next <size> octets, whatever they hold.
        std::string_view rest = line.substr(sp + 1);
        std::size_t size = 0;
        std::size_t digits = 0;
        while (digits < rest.size() && digits < 18 &&
               std::isdigit(static_cast<unsigned char>(rest[digits])) != 0) {
          size = size * 10 + static_cast<std::size_t>(rest[digits] - '0');
          ++digits;
        }
        bdat_skip_ = digits > 0 ? size : 0;
      }
      outstanding_.push_back(pending{std::move(verb), length});
    }
    if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }

  bool lenient_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool data_ = false;
  bool blocked_ = false;
  std::size_t bdat_skip_ = 0;
  bool partial_answered_ = false;
  bool greeted_ = false;
  bool uncertain_ = false;
  bool checked_ = false;
  std::optional<std::size_t> pending_421_;
  struct pending {
    std::string verb;        // what the reply will answer: a verb, or one of the names above
    std::size_t length = 0;  // of the command line
  };
  std::deque<pending> outstanding_;
  std::size_t commands_ = 0;
  std::size_t replies_ = 0;
  std::vector<std::string> attribution_;
  std::vector<std::size_t> lengths_;
  std::vector<violation> violations_;
};

bool tls_established_event(const transcript_entry& e) {
  return e.dir == direction::event && e.note.starts_with("TLS established");
}

std::vector<connection> split_connections(const transcript& t) {
  std::vector<connection> out;
  std::map<std::uint32_t, std::size_t> index;
  struct side {
    bool tls = false;
    protocol::reply_reader reader;
    std::size_t fed = 0;
    std::vector<std::pair<std::size_t, std::size_t>> starts;  // (stream offset, entry)
  };
  std::map<std::uint32_t, side> sides;
  const auto& entries = t.entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const transcript_entry& e = entries[i];
    auto [it, added] = index.try_emplace(e.connection, out.size());
    if (added) {
      out.push_back(connection{e.connection, {}, {}});
    }
    connection& c = out[it->second];
    side& s = sides[e.connection];
    const bool bytes = e.dir != direction::event;
    if ((bytes || tls_established_event(e)) && e.tls != s.tls) {
      s.tls = e.tls;
      s.reader.reset();
      s.fed = 0;
      s.starts.clear();
      c.events.push_back(event{event::kind::tls_start, {}, 0});
    }
    if (e.dir == direction::sent) {
      c.events.push_back(event{event::kind::sent, e.bytes, 0});
      continue;
    }
    if (e.dir != direction::received) {
      continue;
    }
    s.starts.emplace_back(s.fed, i);
    s.fed += e.bytes.size();
    s.reader.feed(e.bytes);
    while (true) {
      auto r = s.reader.next();
      if (r.error() == protocol::errc::incomplete) {
        break;
      }
      if (!r) {
        c.events.push_back(event{event::kind::malformed, {}, 0});
        continue;
      }
      const std::size_t end = s.fed - s.reader.buffered();
      const std::size_t start = end >= r.value().wire_length ? end - r.value().wire_length : 0;
      auto at = std::upper_bound(
          s.starts.begin(), s.starts.end(), start,
          [](std::size_t v, const std::pair<std::size_t, std::size_t>& p) { return v < p.first; });
      const auto& where = at == s.starts.begin() ? s.starts.front() : *(at - 1);
      c.events.push_back(event{event::kind::reply, {}, c.replies.size()});
      c.replies.push_back(
          located_reply{std::move(r).value(), where.second, start - where.first, s.tls});
    }
  }
  return out;
}

finding make_finding(std::string_view validator, const located_reply& lr, std::string reason,
                     verdict v = verdict::fail) {
  return finding{std::string(validator), v, lr.entry, lr.offset, first_line(lr.r),
                 std::move(reason)};
}

bool exempt_from_esc(std::string_view a) { return a == greeting || a == "EHLO" || a == "HELO"; }

struct connection_result {
  bool replies_checked = false;
  bool multiline_checked = false;
  bool esc_checked = false;
  bool tls_codes_checked = false;
};

connection_result validate_connection(const connection& c, std::vector<finding>& findings) {
  connection_result result;
  std::array<command_model, 2> models = {command_model(false, c.replies.size()),
                                         command_model(true, c.replies.size())};
  for (const event& ev : c.events) {
    for (auto& m : models) {
      switch (ev.k) {
        case event::kind::sent:
          m.on_sent(ev.bytes);
          break;
        case event::kind::reply:
          m.on_reply(ev.reply, c.replies[ev.reply].r.code);
          break;
        case event::kind::malformed:
          m.on_malformed();
          break;
        case event::kind::tls_start:
          m.on_tls_start();
          break;
      }
    }
  }
  // The most charitable reading: a model without violations, else the one whose first violation
  // comes latest (the strict one on a tie).
  const command_model* chosen = &models[0];
  auto first = [](const command_model& m) {
    return m.violations().empty() ? static_cast<std::size_t>(-1) : m.violations().front().reply;
  };
  if (first(models[1]) > first(models[0])) {
    chosen = &models[1];
  }
  result.replies_checked = models[0].checked() || models[1].checked();
  result.multiline_checked = !c.replies.empty();

  // One reply per command: the first violation of the connection, with a count of the others.
  if (!chosen->violations().empty()) {
    const violation& v = chosen->violations().front();
    const located_reply& lr = c.replies[v.reply];
    std::string reason;
    if (v.k == violation_kind::reply_after_421) {
      reason = fmt::format(
          "connection {}: the server sent 421 with no command outstanding and then went on "
          "replying; an unsolicited 421 must be followed by the close (RFC 5321 §3.8, §4.2)",
          c.id);
    } else if (v.commands == 0) {
      reason = fmt::format(
          "connection {}: reply {} arrived inside TLS before any command was sent there: it "
          "answers a command from before the handshake, which RFC 3207 §4.2 has the server "
          "discard, so it is an unsolicited reply (RFC 5321 §4.2: every command MUST generate "
          "exactly one reply)",
          c.id, lr.r.code);
    } else {
      reason = fmt::format(
          "connection {}: reply {} arrived with no command outstanding: the server had answered "
          "all {} command(s) counted {} (greeting included), so this is a second or unsolicited "
          "reply (RFC 5321 §4.2: every command MUST generate exactly one reply)",
          c.id, lr.r.code, v.commands, lr.tls ? "inside TLS" : "in plaintext");
    }
    if (chosen->violations().size() > 1) {
      reason += fmt::format("; {} more such repl{} followed on this connection",
                            chosen->violations().size() - 1,
                            chosen->violations().size() == 2 ? "y" : "ies");
    }
    findings.push_back(make_finding(one_reply_validator, lr, std::move(reason)));
  }

  // Multi-line replies: the reply reader flags mixed codes.
  for (const auto& lr : c.replies) {
    if (lr.r.mixed_codes) {
      findings.push_back(make_finding(
          multiline_validator, lr,
          fmt::format("connection {}: the lines of a {}-line reply carry different codes (the last "
                      "says {}); RFC 5321 §4.2.1: the code MUST be the same on every line",
                      c.id, lr.r.lines.size(), lr.r.code)));
    }
  }

  // ESC: per connection and TLS side, governed by the last successful EHLO reply.
  bool esc_on = false;
  int previous_code = 0;  // of the reply before, on this TLS side: 334 means an AUTH exchange
  for (const event& ev : c.events) {
    if (ev.k == event::kind::tls_start) {
      esc_on = false;
      previous_code = 0;
      continue;
    }
    if (ev.k != event::kind::reply) {
      continue;
    }
    const located_reply& lr = c.replies[ev.reply];
    const protocol::reply& r = lr.r;
    const std::string& a = chosen->attribution()[ev.reply];
    const bool auth_exchange = a == "AUTH" || previous_code == 334;
    previous_code = r.code;
    if (a == "EHLO" && r.code == 250) {
      esc_on = protocol::parse_ehlo(r).has("ENHANCEDSTATUSCODES");
      continue;
    }
    if (a == "HELO" && r.code == 250) {
      esc_on = false;  // HELO starts a session without extensions
      continue;
    }
    // A reply any reading attributes to the greeting, HELO or EHLO is exempt; so are replies the
    // model could not attribute (the one-reply validator reports the unsolicited ones).
    if (std::any_of(
            models.begin(), models.end(),
            [&](const command_model& m) { return exempt_from_esc(m.attribution()[ev.reply]); }) ||
        a.empty() || a == unknown || !esc_on) {
      continue;
    }
    result.esc_checked = true;
    const int cls = r.code_class();
    std::string why;
    if (cls == 3) {
      if (r.esc) {
        why = fmt::format(
            "a {} reply carries the enhanced status code {}, which 3xx replies do not "
            "have (RFC 2034 §4)",
            r.code, r.esc->to_string());
      }
    } else if (cls == 2 || cls == 4 || cls == 5) {
      if (!r.esc) {
        why = fmt::format(
            "a {} reply (to {}) has no enhanced status code although the EHLO reply "
            "advertised ENHANCEDSTATUSCODES (RFC 2034 §3)",
            r.code, a);
      } else if (!r.esc_class_matches()) {
        why = fmt::format(
            "the enhanced status code {} of a {} reply has another class than the "
            "reply's first digit (RFC 2034 §4)",
            r.esc->to_string(), r.code);
      } else if (r.multiline() && !r.esc_on_every_line) {
        why = fmt::format(
            "a {}-line {} reply does not carry {} on every line (RFC 2034 §4: the "
            "same status code must appear at the beginning of each line)",
            r.lines.size(), r.code, r.esc->to_string());
      }
    }
    if (!why.empty()) {
      findings.push_back(
          make_finding(esc_validator, lr, fmt::format("connection {}: {}", c.id, why)));
      continue;
    }
    // esc.tls-codes: a well-formed code of the right class, checked against the RFCs' table.
    const tls_code* want =
        r.esc ? expected_tls_code(r.code, a, auth_exchange, chosen->lengths()[ev.reply]) : nullptr;
    if (want == nullptr) {
      continue;
    }
    result.tls_codes_checked = true;
    const std::string got = r.esc->to_string();
    if (got != want->esc) {
      findings.push_back(make_finding(
          esc_tls_codes_validator, lr,
          fmt::format(
              "connection {}: a {} reply (to {}) carries {}; the code for it is {} ({}; {})", c.id,
              r.code, a != "AUTH" && auth_exchange ? "an AUTH exchange line" : a, got, want->esc,
              want->meaning, want->reference),
          verdict::warn));
    }
  }
  return result;
}

}  // namespace

std::span<const validator_info> server_validators() { return validators; }

validation validate_server_transcript(const transcript& t) {
  validation out;
  bool replies = false;
  bool multiline = false;
  bool esc = false;
  bool tls_codes_seen = false;
  for (const connection& c : split_connections(t)) {
    const connection_result r = validate_connection(c, out.findings);
    replies = replies || r.replies_checked;
    multiline = multiline || r.multiline_checked;
    esc = esc || r.esc_checked;
    tls_codes_seen = tls_codes_seen || r.tls_codes_checked;
  }
  if (replies) {
    out.checked.emplace_back(one_reply_validator);
  }
  if (multiline) {
    out.checked.emplace_back(multiline_validator);
  }
  if (esc) {
    out.checked.emplace_back(esc_validator);
  }
  if (tls_codes_seen) {
    out.checked.emplace_back(esc_tls_codes_validator);
  }
  std::stable_sort(out.findings.begin(), out.findings.end(),
                   [](const finding& a, const finding& b) { return a.entry < b.entry; });
  return out;
}

}  // namespace smtpsim::script
