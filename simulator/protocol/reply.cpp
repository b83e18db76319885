#include "simulator/protocol/reply.hpp"

#include <utility>

namespace smtpsim::protocol {

namespace {

// reply_line is one line of a reply, split by parse_reply_line.
struct reply_line {
  errc error = errc::ok;
  int code = 0;
  bool is_final = false;  // "ddd SP text" or a bare "ddd" (RFC 5321 §4.2)
  std::string_view text;  // after "ddd-" / "ddd "
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// parse_reply_line splits a reply line (RFC 5321 §4.2: Reply-code [ SP textstring ] CRLF for the
// last line, Reply-code "-" [ textstring ] CRLF before it). The first digit must be 2-5; the
// others are any digit, so unknown codes such as 299 are kept for the caller to judge by their
// first digit (check c.parse.unknown-code).
reply_line parse_reply_line(std::string_view t) {
  reply_line out;
  if (t.size() < 3 || t[0] < '2' || t[0] > '5' || !is_digit(t[1]) || !is_digit(t[2])) {
    out.error = errc::reply_bad_code;
    return out;
  }
  out.code = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
  if (t.size() == 3) {
    // RFC 5321 §4.2: the text is optional; "clients MUST be prepared for it to be omitted".
    out.is_final = true;
    return out;
  }
  if (t[3] != ' ' && t[3] != '-') {
    out.error = errc::reply_bad_separator;
    return out;
  }
  out.is_final = t[3] == ' ';
  out.text = t.substr(4);
  return out;
}

void append_code(std::string& out, int code) {
  if (code < 0 || code > 999) {
    code = 0;
  }
  out += static_cast<char>('0' + code / 100);
  out += static_cast<char>('0' + code / 10 % 10);
  out += static_cast<char>('0' + code % 10);
}

}  // namespace

std::string reply::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
    }
    out += lines[i];
  }
  return out;
}

reply_reader::reply_reader(reply_limits limits)
    : limits_(limits),
      framer_(framing_limits{.max_line_length = limits.max_line_length, .lf_ends_line = true}) {}

void reply_reader::feed(std::string_view bytes) { framer_.feed(bytes); }

void reply_reader::add_line(reply& r, const framed_line& line, int code, std::string_view text) {
  // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code. If the codes are
  // not all equal, some line differs from the one before it.
  if (!r.lines.empty() && code != r.code) {
    r.mixed_codes = true;
  }
  r.code = code;
  r.lines.emplace_back(text);
  r.raw += line.text;
  r.raw += line.ending == line_ending::crlf ? "\r\n" : "\n";
  r.wire_length += line.wire_length;
  r.bare_lf = r.bare_lf || line.ending == line_ending::lf || line.bare_lf_inside;
  r.bare_cr = r.bare_cr || line.bare_cr;
  r.nul = r.nul || line.nul;
  r.overlong_line = r.overlong_line || line.overlong;
}

errc reply_reader::fail(errc code, const framed_line& line) {
  last_error_.code = code;
  last_error_.line = line.text;
  dropped_ += line.wire_length;
  if (partial_) {
    dropped_ += partial_->wire_length;
    partial_.reset();
  }
  return code;
}

result<reply> reply_reader::next() {
  while (auto line = framer_.next()) {
    const reply_line parsed = parse_reply_line(line->text);
    if (discarding_) {
      // Resynchronise after an oversized reply: drop its lines through its final line.
      dropped_ += line->wire_length;
      if (parsed.error == errc::ok && parsed.is_final) {
        discarding_ = false;
      }
      continue;
    }
    if (parsed.error != errc::ok) {
      return fail(parsed.error, *line);
    }
    const std::size_t lines_before = partial_ ? partial_->lines.size() : 0;
    const std::size_t bytes_before = partial_ ? partial_->wire_length : 0;
    if (lines_before + 1 > limits_.max_lines) {
      discarding_ = !parsed.is_final;
      return fail(errc::reply_too_many_lines, *line);
    }
    if (bytes_before + line->wire_length > limits_.max_reply_bytes) {
      discarding_ = !parsed.is_final;
      return fail(errc::reply_too_large, *line);
    }
    reply& r = partial_ ? *partial_ : partial_.emplace();
    add_line(r, *line, parsed.code, parsed.text);
    if (!parsed.is_final) {
      continue;
    }
    // RFC 2034 §4 / RFC 3463: the enhanced code follows the reply code on the first line and,
    // for a multi-line reply, should be repeated on every line (check esc.prefix-all-replies).
    r.esc = parse_enhanced_status(r.lines.front());
    if (r.esc) {
      r.esc_on_every_line = true;
      for (std::size_t i = 1; i < r.lines.size(); ++i) {
        if (parse_enhanced_status(r.lines[i]) != r.esc) {
          r.esc_on_every_line = false;
          break;
        }
      }
    }
    reply done = std::move(r);
    partial_.reset();
    return done;
  }
  return errc::incomplete;
}

std::size_t reply_reader::buffered() const {
  return (partial_ ? partial_->wire_length : 0) + framer_.buffered();
}

std::string reply_reader::take_buffered() {
  std::string out = partial_ ? std::move(partial_->raw) : std::string();
  out += framer_.take_buffered();
  reset();
  return out;
}

void reply_reader::reset() {
  framer_.reset();
  partial_.reset();
  discarding_ = false;
  dropped_ = 0;
  last_error_ = reply_error{};
}

std::string format_reply(int code, const std::vector<std::string>& lines) {
  std::string out;
  if (lines.empty()) {
    append_code(out, code);
    out += "\r\n";
    return out;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    append_code(out, code);
    const bool last = i + 1 == lines.size();
    if (!last) {
      out += '-';
    } else if (!lines[i].empty()) {
      out += ' ';
    }
    out += lines[i];
    out += "\r\n";
  }
  return out;
}

std::string format_reply(int code, std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = text.find('\n', start);
    lines.emplace_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
  return format_reply(code, lines);
}

}  // namespace smtpsim::protocol
