#pragma once
// SMTP replies (RFC 5321 §4.2): single- and multi-line, with enhanced status codes, parsed from
// a byte stream by reply_reader. Anomalies are recorded on the reply rather than rejected, so a
// conformance check can judge them; only lines that cannot be a reply line at all are errors.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/protocol/enhanced_status.hpp"
#include "simulator/protocol/line_framer.hpp"
#include "simulator/protocol/result.hpp"

namespace smtpsim::protocol {

// reply is one complete reply.
struct reply {
  int code = 0;                    // the code of the final line
  std::vector<std::string> lines;  // the text of each line after "ddd-"/"ddd " ("" if bare code)
  // raw holds the exact octets of the reply on the wire, at most reply_limits::max_reply_bytes.
  // Only when overlong_line is set does it differ: the skipped tail of an overlong line is missing.
  std::string raw;
  // wire_length counts every octet of the reply on the wire, skipped tails included.
  std::size_t wire_length = 0;

  // mixed_codes is set when a line carries a code different from the final line's
  // (RFC 5321 §4.2.1: the code MUST be the same on every line).
  bool mixed_codes = false;
  // esc is the enhanced status code at the start of the first line's text, if any.
  std::optional<enhanced_status> esc;
  // esc_on_every_line is true when every line's text starts with the same enhanced status code.
  bool esc_on_every_line = false;
  // esc_class_matches is true when esc is present and its class equals the code's first digit
  // (RFC 2034 §4; check c.parse.esc-mismatch records "250 5.1.1").
  bool esc_class_matches() const { return esc.has_value() && esc->cls == code_class(); }

  // Framing anomalies seen on any line of the reply.
  bool bare_lf = false;
  bool bare_cr = false;
  bool nul = false;
  bool overlong_line = false;  // a line exceeded the reader's line limit (text truncated)

  bool multiline() const { return lines.size() > 1; }
  int code_class() const { return code / 100; }
  // text joins the lines' texts with "\n".
  std::string text() const;
  friend bool operator==(const reply&, const reply&) = default;
};

// reply_limits bounds what a reply_reader accepts and keeps.
struct reply_limits {
  std::size_t max_line_length = 4096;  // lenient: RFC 5321 §4.5.3.1.5 says 512, we flag beyond
  std::size_t max_lines = 512;
  std::size_t max_reply_bytes = 256 * 1024;
};

// reply_error describes a malformed reply: the error and the offending line (its text, at most
// reply_limits::max_line_length - 2 octets).
struct reply_error {
  errc code = errc::ok;
  std::string line;
};

// reply_reader accumulates bytes and returns complete replies. Lines end at CRLF or, leniently, at
// a bare LF (flagged as reply::bare_lf: RFC 5321 §2.3.8 forbids it, clients must cope).
//
// Memory bound: the octets fed but not yet consumed by next(), plus one partial reply of at most
// max_reply_bytes. Feed what you read, then call next() until it returns errc::incomplete.
// Never throws on peer input.
class reply_reader {
 public:
  explicit reply_reader(reply_limits limits = {});

  void feed(std::string_view bytes);

  // next returns the next complete reply; errc::incomplete if more bytes are needed; or a
  // syntax error (reply_bad_code, reply_bad_separator, reply_too_many_lines, reply_too_large),
  // in which case last_error() holds the offending line and the reader has dropped the bad
  // line (or the partial reply) so that reading can continue with the next line:
  // - a line that is not a reply line (bad code or separator) is dropped together with the
  //   multi-line reply it interrupted, if any; the next line starts a new reply;
  // - a reply that exceeds max_lines or max_reply_bytes is dropped, and so are its remaining
  //   lines up to and including its final line ("ddd " or a bare code), so that its tail does
  //   not come out as a reply of its own.
  result<reply> next();

  const reply_error& last_error() const { return last_error_; }

  // dropped_bytes counts the wire octets thrown away since construction or reset(): bad lines,
  // the partial replies they broke, and lines skipped while resynchronising. Every octet fed is
  // in exactly one of: a reply returned (its wire_length), dropped_bytes(), buffered().
  std::size_t dropped_bytes() const { return dropped_; }

  // buffered / take_buffered: the octets received but not yet returned as part of a reply,
  // including the lines of an incomplete multi-line reply. buffered() counts skipped tails of
  // overlong lines too; take_buffered() returns the octets still held (as line_framer does) and
  // resets the reader.
  std::size_t buffered() const;
  std::string take_buffered();
  void reset();

 private:
  static void add_line(reply& r, const framed_line& line, int code, std::string_view text);
  errc fail(errc code, const framed_line& line);

  reply_limits limits_;
  line_framer framer_;
  std::optional<reply> partial_;  // an incomplete multi-line reply
  bool discarding_ = false;       // dropping the rest of a reply that exceeded a limit
  std::size_t dropped_ = 0;
  reply_error last_error_;
};

// format_reply serializes a reply: every line but the last as "code-text", the last as
// "code text" (or the bare code when the text is empty), each ending in CRLF. No lines gives the
// bare code. The string_view form splits `text` at "\n" (the inverse of reply::text()). The
// code is written as three digits; the text is written as given (no CR/LF checks: fake servers
// may want to send broken replies).
std::string format_reply(int code, const std::vector<std::string>& lines);
std::string format_reply(int code, std::string_view text);

}  // namespace smtpsim::protocol
