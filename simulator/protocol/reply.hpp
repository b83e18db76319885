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
  std::string raw;                 // the exact octets of the reply on the wire (bounded)

  // mixed_codes is set when a line carries a code different from the final line's
  // (RFC 5321 §4.2.1: the code MUST be the same on every line).
  bool mixed_codes = false;
  // esc is the enhanced status code at the start of the first line's text, if any.
  std::optional<enhanced_status> esc;
  // esc_on_every_line is true when every line's text starts with the same enhanced status code.
  bool esc_on_every_line = false;

  // Framing anomalies seen on any line of the reply.
  bool bare_lf = false;
  bool bare_cr = false;
  bool nul = false;
  bool overlong_line = false;  // a line exceeded the reader's line limit (text truncated)

  bool multiline() const { return lines.size() > 1; }
  int code_class() const { return code / 100; }
  // text joins the lines' texts with "\n".
  std::string text() const;
};

struct reply_limits {
  std::size_t max_line_length = 4096;  // lenient: RFC 5321 §4.5.3.1.5 says 512, we flag beyond
  std::size_t max_lines = 512;
  std::size_t max_reply_bytes = 256 * 1024;
};

// reply_error describes a malformed reply: the error and the offending line (truncated).
struct reply_error {
  errc code = errc::ok;
  std::string line;
};

// reply_reader accumulates bytes and returns complete replies.
class reply_reader {
 public:
  explicit reply_reader(reply_limits limits = {});

  void feed(std::string_view bytes);

  // next returns the next complete reply; errc::incomplete if more bytes are needed; or a
  // syntax error (reply_bad_code, reply_bad_separator, reply_too_many_lines, reply_too_large),
  // in which case last_error() holds the offending line and the reader has dropped the bad
  // line (or the partial reply) so that reading can continue with the next line.
  result<reply> next();

  const reply_error& last_error() const { return last_error_; }

  // buffered / take_buffered: the octets received but not yet returned as part of a reply,
  // including the lines of an incomplete multi-line reply.
  std::size_t buffered() const;
  std::string take_buffered();
  void reset();

 private:
  reply_limits limits_;
  line_framer framer_;
  std::optional<reply> partial_;  // an incomplete multi-line reply
  std::size_t partial_bytes_ = 0;
  reply_error last_error_;
};

// format_reply serializes a reply: every line but the last as "code-text", the last as
// "code text" (or the bare code when the text is empty), each ending in CRLF.
std::string format_reply(int code, const std::vector<std::string>& lines);
std::string format_reply(int code, std::string_view text);

}  // namespace smtpsim::protocol
