#pragma once
// DATA content (RFC 5321 §4.1.1.4, §4.5.2): the end-of-data sequence "\r\n.\r\n", dot-stuffing,
// and the look-alike sequences used in SMTP smuggling (CVE-2023-51764/5/6), which a conformant
// receiver must NOT take as the end of data.

#include <cstddef>
#include <string>
#include <string_view>

#include "simulator/protocol/result.hpp"

namespace smtpsim::protocol {

struct data_limits {
  std::size_t max_message_bytes = 10 * 1024 * 1024;
};

// data_anomalies records look-alike end sequences and other oddities seen in the content.
struct data_anomalies {
  bool lf_dot_lf = false;     // "\n.\n"
  bool lf_dot_crlf = false;   // "\n.\r\n" (the LF not preceded by CR)
  bool cr_dot_cr = false;     // "\r.\r" (CRs not part of CRLF)
  bool bare_lf = false;       // any LF not preceded by CR
  bool bare_cr = false;       // any CR not followed by LF
  bool nul = false;
  bool any() const { return lf_dot_lf || lf_dot_crlf || cr_dot_cr || bare_lf || bare_cr || nul; }
};

// data_reader reads DATA content after the 354 reply, up to and including "\r\n.\r\n" (only that
// exact sequence, at the start of the content or after a CRLF, ends the data).
class data_reader {
 public:
  explicit data_reader(data_limits limits = {});

  // feed consumes bytes and returns how many were consumed: all of them while the data goes on,
  // or the count up to and including the end sequence once it is seen; the caller keeps the
  // rest (the next commands).
  std::size_t feed(std::string_view bytes);

  bool done() const { return done_; }
  // too_large is set once the content exceeded the limit; content is then truncated but the
  // reader still looks for the end sequence.
  bool too_large() const { return too_large_; }
  // message returns the content with dot-stuffing removed, without the end sequence; lines end
  // as they did on the wire.
  const std::string& message() const { return message_; }
  const data_anomalies& anomalies() const { return anomalies_; }
  void reset();

 private:
  data_limits limits_;
  std::string message_;
  data_anomalies anomalies_;
  int state_ = 0;  // position in the end-sequence / line-start state machine
  bool done_ = false;
  bool too_large_ = false;
  char prev_ = '\n';
};

// dot_stuff prepares a message body for DATA: a "." at the start of a line becomes "..",
// and the result ends with CRLF "." CRLF. Bare LFs are left as they are.
std::string dot_stuff(std::string_view body);

}  // namespace smtpsim::protocol
