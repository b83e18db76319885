#include "simulator/protocol/data.hpp"

namespace smtpsim::protocol {

namespace {

// is_plain is true for octets that take no part in line ends or look-alike sequences.
bool is_plain(unsigned char c) { return c != '\r' && c != '\n' && c != 0; }

// octet returns the k-th previous octet in a history word (k = 1: the newest).
unsigned char octet(std::uint64_t history, int k) {
  return static_cast<unsigned char>(history >> (8 * (k - 1)));
}

}  // namespace

data_reader::data_reader(data_limits limits) : limits_(limits) {}

errc data_reader::error() const {
  if (too_large_) {
    return errc::data_too_large;
  }
  return done_ ? errc::ok : errc::incomplete;
}

void data_reader::note(unsigned char c) {
  const std::uint64_t h = history_;
  const unsigned char p1 = octet(h, 1);
  const unsigned char p2 = octet(h, 2);
  const unsigned char p3 = octet(h, 3);
  const unsigned char p4 = octet(h, 4);
  const unsigned char p5 = octet(h, 5);
  data_anomalies& a = anomalies_;
  if (c == 0) {
    a.nul = true;
  }
  if (c == '\n') {
    if (p1 != '\r') {
      a.bare_lf = true;
    }
    if (p1 == '.') {
      a.lf_dot_lf = a.lf_dot_lf || p2 == '\n';
      a.cr_dot_lf = a.cr_dot_lf || p2 == '\r';
    }
    if (p1 == '\r' && p2 == '.') {
      a.lf_dot_crlf = a.lf_dot_crlf || (p3 == '\n' && p4 != '\r');
      a.cr_dot_crlf = a.cr_dot_crlf || p3 == '\r';
      a.nul_dot_line = a.nul_dot_line || (p3 == 0 && p4 == '\n' && p5 == '\r');
    }
    if (p1 == '\r' && p2 == '\r' && p3 == '.' && p4 == '\n' && p5 == '\r') {
      a.crlf_dot_cr_crlf = true;
    }
  } else if (p1 == '\r') {
    // The CR before c is bare; only now do we know it was not part of a CRLF.
    a.bare_cr = true;
    if (p2 == '.') {
      a.cr_dot_cr = a.cr_dot_cr || p3 == '\r';
      a.lf_dot_cr = a.lf_dot_cr || (p3 == '\n' && p4 != '\r');
    }
  }
  history_ = (h << 8) | c;
}

void data_reader::append(const char* p, std::size_t n) {
  const std::size_t room = limits_.max_message_bytes - message_.size();
  if (n > room) {
    too_large_ = true;
    n = room;
  }
  message_.append(p, n);
}

std::size_t data_reader::feed(std::string_view bytes) {
  if (done_) {
    return 0;
  }
  const char* data = bytes.data();
  const std::size_t size = bytes.size();
  std::size_t i = 0;
  while (i < size) {
    const char ch = data[i];
    const auto c = static_cast<unsigned char>(ch);
    switch (phase_) {
      case phase::line_start:
        if (c == '.') {
          // RFC 5321 §4.5.2: hold the dot back; it is either stuffing or the end line.
          note(c);
          phase_ = phase::dot;
          ++i;
          continue;
        }
        break;
      case phase::dot:
        if (c == '\r') {
          note(c);
          phase_ = phase::dot_cr;
          ++i;
          continue;
        }
        break;  // a stuffed dot: it is dropped
      case phase::dot_cr:
        if (c == '\n') {
          // ".\r\n" at the start of a line: the end of the data (RFC 5321 §4.1.1.4).
          note(c);
          ++i;
          done_ = true;
          wire_length_ += i;
          return i;
        }
        append("\r", 1);  // a stuffed dot followed by a bare CR: the CR is content
        break;
      case phase::mid_line:
        break;
    }
    // c is content in the middle of a line.
    const bool after_cr = octet(history_, 1) == '\r';
    note(c);
    phase_ = c == '\n' && after_cr ? phase::line_start : phase::mid_line;
    if (!is_plain(c) || phase_ != phase::mid_line) {
      append(&ch, 1);
      ++i;
      continue;
    }
    // Fast path: a run of plain octets needs no look-alike checks, and one plain octet in the
    // history breaks every look-alike pattern just as well as the whole run.
    std::size_t j = i + 1;
    while (j < size && is_plain(static_cast<unsigned char>(data[j]))) {
      ++j;
    }
    if (j > i + 1) {
      history_ = (history_ << 8) | static_cast<unsigned char>('x');
    }
    append(data + i, j - i);
    i = j;
  }
  wire_length_ += size;
  return size;
}

void data_reader::reset() {
  message_.clear();
  anomalies_ = data_anomalies{};
  phase_ = phase::line_start;
  history_ = 0x0D0A;
  wire_length_ = 0;
  done_ = false;
  too_large_ = false;
}

std::string dot_stuff(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 5);
  bool line_start = true;
  for (char c : body) {
    if (line_start && c == '.') {
      out += '.';  // RFC 5321 §4.5.2
    }
    out += c;
    line_start = c == '\n' || c == '\r';
  }
  if (!body.empty() && !body.ends_with("\r\n")) {
    out += "\r\n";
  }
  out += ".\r\n";
  return out;
}

}  // namespace smtpsim::protocol
