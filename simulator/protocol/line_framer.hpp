#pragma once
// line_framer splits a byte stream into SMTP lines with the limits of RFC 5321 §4.5.3.1 and
// reports every framing anomaly explicitly: bare LF line ends, bare CR and NUL inside a line,
// 8-bit octets, and overlong lines. Memory is bounded: an incomplete line is kept only up to the
// limit; the rest of an overlong line is counted and skipped until its terminator.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpsim::protocol {

// framing_limits configures a line_framer.
struct framing_limits {
  // max_line_length is the longest line accepted, in octets including the CRLF.
  // RFC 5321 §4.5.3.1.4: command lines 512, §4.5.3.1.5: reply lines 512, §4.5.3.1.6: text 1000.
  std::size_t max_line_length = 512;
  // lf_ends_line, if true, makes a bare LF end a line (flagged as line_ending::lf). If false, a
  // bare LF stays in the line's text and is flagged as bare_lf_inside (RFC 5321 §2.3.8: other
  // terminators MUST NOT be recognised).
  bool lf_ends_line = true;
};

enum class line_ending : std::uint8_t {
  crlf,  // CR LF
  lf,    // a bare LF (only when framing_limits::lf_ends_line)
};

// framed_line is one line taken from the stream.
struct framed_line {
  // text is the line without its terminator. For an overlong line it holds the first
  // max_line_length - 2 octets only.
  std::string text;
  // wire_length counts every octet of the line on the wire, terminator included, also the
  // skipped tail of an overlong line.
  std::size_t wire_length = 0;
  line_ending ending = line_ending::crlf;
  bool overlong = false;        // longer than max_line_length; text is truncated
  bool bare_cr = false;         // a CR not followed by LF occurs inside the line
  bool bare_lf_inside = false;  // a bare LF occurs inside (only when !lf_ends_line)
  bool nul = false;             // a NUL octet occurs inside the line
  bool eight_bit = false;       // an octet >= 0x80 occurs inside the line

  bool has_anomaly() const {
    return ending != line_ending::crlf || overlong || bare_cr || bare_lf_inside || nul;
  }
  friend bool operator==(const framed_line&, const framed_line&) = default;
};

// line_framer turns received octets into framed_lines.
//
// Memory bound: the octets of complete lines not yet taken with next(), plus at most
// max_line_length + 1 octets of the incomplete last line. The tail of an overlong line is never
// stored: it is counted, scanned for anomalies and dropped until its terminator, so an overlong
// line comes out as ONE framed_line (check line.cmd-overlong-resync: its tail must never be
// taken as a new command). Feeding the same octets in one chunk or one octet at a time gives
// identical lines. Never throws on peer input (only std::bad_alloc can escape).
class line_framer {
 public:
  explicit line_framer(framing_limits limits = {});

  // feed appends bytes received from the peer.
  void feed(std::string_view bytes);

  // next returns the next complete line, or nullopt when no complete line is buffered.
  std::optional<framed_line> next();

  // buffered returns how many received octets are not yet returned as lines, counting the
  // skipped tail of an overlong line too (so the wire_length of every line returned plus
  // buffered() always equals the number of octets fed).
  std::size_t buffered() const;

  // take_buffered removes and returns the received octets not yet returned as lines, e.g. the
  // plaintext a server must discard when it starts TLS (RFC 3207 §4.2). The skipped part of an
  // overlong line is not included (it is gone). The framer is then reset: an overlong line in
  // progress is forgotten as well.
  std::string take_buffered();

  // reset forgets everything buffered.
  void reset();

  const framing_limits& limits() const { return limits_; }

 private:
  // overlong_record describes an overlong line whose tail was skipped. Its first keep_ octets
  // (the text) stay in buf_ at `start`, with no terminator after them.
  struct overlong_record {
    std::size_t start = 0;  // offset of the line's retained text in buf_
    std::size_t kept = 0;   // octets of text retained in buf_
    framed_line line;       // flags, ending and wire_length; text is filled in by next()
    bool prev_cr = false;   // the last octet seen was a CR (it may start the CRLF)
  };

  void start_skipping(std::string_view rest_of_tail);
  std::size_t skip(std::string_view bytes);
  void compact();

  framing_limits limits_;
  std::size_t keep_ = 0;        // max_line_length - 2: the text kept of an overlong line
  std::string buf_;             // raw octets of complete lines not yet taken + the current line
  std::size_t pos_ = 0;         // start of the first line not yet taken
  std::size_t tail_start_ = 0;  // start of the current (incomplete) line
  std::size_t dropped_ = 0;     // skipped octets of overlong lines not yet returned
  bool skipping_ = false;       // inside the tail of an overlong line (pending_)
  overlong_record pending_;     // the overlong line being skipped
  std::vector<overlong_record> overlong_;  // complete overlong lines not yet taken, in order
  std::size_t overlong_head_ = 0;          // first record of overlong_ not yet taken
};

}  // namespace smtpsim::protocol
