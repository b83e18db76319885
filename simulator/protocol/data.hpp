#pragma once
// DATA content (RFC 5321 §4.1.1.4, §4.5.2): the end-of-data sequence "\r\n.\r\n", dot-stuffing,
// and the look-alike sequences used in SMTP smuggling (CVE-2023-51764/5/6), which a conformant
// receiver must NOT take as the end of data.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "simulator/protocol/result.hpp"

namespace smtpsim::protocol {

// data_limits bounds what a data_reader keeps.
struct data_limits {
  // max_message_bytes caps message() (RFC 5321 §4.5.3.1.7: at least 64K octets must be accepted;
  // servers announce their own limit with SIZE, RFC 1870).
  std::size_t max_message_bytes = 10 * 1024 * 1024;
};

// data_anomalies records look-alike end sequences and other oddities seen in the content (on the
// wire octets, before un-stuffing). None of them ends the data (RFC 5321 §2.3.8, §4.1.1.4); they
// are the inbound smuggling set of check group A12 (SEC Consult's scanner). The content is taken
// as if preceded by CRLF, so a look-alike at its very start is recorded too.
struct data_anomalies {
  bool lf_dot_lf = false;    // "\n.\n" (whatever precedes the first LF)
  bool lf_dot_crlf = false;  // "\n.\r\n" (the LF not preceded by CR)
  bool cr_dot_cr = false;    // "\r.\r" (CRs not part of CRLF)
  bool bare_lf = false;      // any LF not preceded by CR
  bool bare_cr = false;      // any CR not followed by LF
  bool nul = false;
  bool cr_dot_lf = false;         // "\r.\n"
  bool lf_dot_cr = false;         // "\n.\r", the LF not preceded by CR, the CR not followed by LF
  bool cr_dot_crlf = false;       // "\r.\r\n" (the first CR not followed by LF)
  bool nul_dot_line = false;      // "\r\n\0.\r\n": a line that is NUL "."
  bool crlf_dot_cr_crlf = false;  // "\r\n.\r\r\n" (check smuggle.extra-cr, INFO only)
  bool any() const {
    return lf_dot_lf || lf_dot_crlf || cr_dot_cr || bare_lf || bare_cr || nul || cr_dot_lf ||
           lf_dot_cr || cr_dot_crlf || nul_dot_line || crlf_dot_cr_crlf;
  }
  // end_look_alike is true when a sequence that a lenient receiver could take as the end of data
  // was seen (every field except the plain bare_lf / bare_cr / nul).
  bool end_look_alike() const {
    return lf_dot_lf || lf_dot_crlf || cr_dot_cr || cr_dot_lf || lf_dot_cr || cr_dot_crlf ||
           nul_dot_line || crlf_dot_cr_crlf;
  }
  friend bool operator==(const data_anomalies&, const data_anomalies&) = default;
};

// data_reader reads DATA content after the 354 reply, up to and including "\r\n.\r\n" (only that
// exact sequence, at the start of the content or after a CRLF, ends the data).
//
// A "." at the start of a line (after CRLF) is removed (RFC 5321 §4.5.2), except in the end
// line. Memory bound: message() holds at most max_message_bytes octets; beyond that the content
// is dropped but still scanned for the end. Never throws on peer input. Feeding the content in
// one chunk or one octet at a time gives the same result.
class data_reader {
 public:
  explicit data_reader(data_limits limits = {});

  // feed consumes bytes and returns how many were consumed: all of them while the data goes on,
  // or the count up to and including the end sequence once it is seen; the caller keeps the
  // rest (the next commands). After done(), feed consumes nothing.
  std::size_t feed(std::string_view bytes);

  bool done() const { return done_; }
  // too_large is set once the content exceeded the limit; content is then truncated but the
  // reader still looks for the end sequence. error() then returns errc::data_too_large.
  bool too_large() const { return too_large_; }
  // error returns errc::data_too_large after the limit was exceeded, errc::incomplete while the
  // end has not been seen, errc::ok otherwise.
  errc error() const;
  // message returns the content with dot-stuffing removed, without the end sequence; lines end
  // as they did on the wire (the CRLF before the final "." belongs to the last line).
  const std::string& message() const { return message_; }
  // wire_length counts the octets consumed so far, the end sequence included.
  std::size_t wire_length() const { return wire_length_; }
  const data_anomalies& anomalies() const { return anomalies_; }
  void reset();

 private:
  // phase is where the reader stands relative to the start of a line.
  enum class phase : std::uint8_t {
    mid_line,    // inside a line
    line_start,  // at the start of the content or after CRLF
    dot,         // after a "." at the start of a line (held back: stuffed or the end)
    dot_cr,      // after ".\r" at the start of a line
  };

  void note(unsigned char c);
  void append(const char* p, std::size_t n);

  data_limits limits_;
  std::string message_;
  data_anomalies anomalies_;
  phase phase_ = phase::line_start;
  // history_ holds the last wire octets, newest in the low byte; it starts as "\r\n" because the
  // content begins at the start of a line.
  std::uint64_t history_ = 0x0D0A;
  std::size_t wire_length_ = 0;
  bool done_ = false;
  bool too_large_ = false;
};

// dot_stuff prepares a message body for DATA: a "." at the start of a line becomes "..",
// and the result ends with CRLF "." CRLF (a CRLF is added if the body does not end with one).
// Bare LFs are left as they are. A "." after a bare LF or a bare CR is doubled too, so that a
// receiver that wrongly takes those as line ends still never sees an end-of-data line
// (CVE-2023-51764 class). data_reader gives the body back exactly when the body is empty or
// ends with CRLF, and its CR and LF octets only occur as CRLF.
std::string dot_stuff(std::string_view body);

}  // namespace smtpsim::protocol
