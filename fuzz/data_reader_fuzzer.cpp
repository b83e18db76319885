// data_reader_fuzzer: must not crash, throw or read out of bounds for any DATA content. The data
// ends exactly at the first "\r\n.\r\n" (or ".\r\n" at the very start) and nowhere else, whatever
// look-alike sequences come before; message() equals an independent un-stuffing of the content,
// cut at max_message_bytes, with too_large() set exactly when it was cut; one chunk and one octet
// at a time (inputs up to 512 octets; longer ones in random 1-64 octet pieces) agree. For the
// sender side, dot_stuff(input) always reads back to its full length, never contains a look-alike
// end sequence, and round-trips when the input's CR and LF octets only occur as CRLF. Input: octet
// 0 chooses the size limit, the rest is the content.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "simulator/protocol/data.hpp"

#include "fuzz/fuzz_target.hpp"

using namespace smtpsim::protocol;

namespace {

// expected_end is where the data must end (past ".\r\n"), or npos.
std::size_t expected_end(std::string_view in) {
  if (in.starts_with(".\r\n")) {
    return 3;
  }
  const std::size_t p = in.find("\r\n.\r\n");
  return p == std::string_view::npos ? p : p + 5;
}

// unstuff removes the dot at the start of each CRLF-delimited line (RFC 5321 §4.5.2).
std::string unstuff(std::string_view content) {
  std::string out;
  bool line_start = true;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (!(line_start && c == '.')) {
      out += c;
    }
    line_start = c == '\n' && i > 0 && content[i - 1] == '\r';
  }
  return out;
}

bool crlf_only(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) {
      return false;
    }
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const data_limits limits{.max_message_bytes = (data[0] & 1) != 0 ? data[0] / 2u : 1u << 20};
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  data_reader a(limits);
  const std::size_t consumed = a.feed(input);
  data_reader b(limits);
  std::size_t consumed_bytewise = 0;
  smtpsim::fuzz::feed_in_pieces(
      input, [&](std::string_view piece) { consumed_bytewise += b.feed(piece); });
  SMTPSIM_FUZZ_CHECK(consumed == consumed_bytewise);
  SMTPSIM_FUZZ_CHECK(a.done() == b.done() && a.too_large() == b.too_large());
  SMTPSIM_FUZZ_CHECK(a.message() == b.message() && a.anomalies() == b.anomalies());
  SMTPSIM_FUZZ_CHECK(a.message().size() <= limits.max_message_bytes);
  SMTPSIM_FUZZ_CHECK(a.wire_length() == consumed);

  const std::size_t end = expected_end(input);
  if (end == std::string_view::npos) {
    SMTPSIM_FUZZ_CHECK(!a.done() && consumed == input.size());
  } else {
    SMTPSIM_FUZZ_CHECK(a.done() && consumed == end);
    const std::string full = unstuff(input.substr(0, end - 3));
    SMTPSIM_FUZZ_CHECK(a.too_large() == (full.size() > limits.max_message_bytes));
    SMTPSIM_FUZZ_CHECK(a.message() == full.substr(0, limits.max_message_bytes));
    SMTPSIM_FUZZ_CHECK(a.error() == (a.too_large() ? errc::data_too_large : errc::ok));
  }

  const std::string stuffed = dot_stuff(input);
  data_reader c;
  SMTPSIM_FUZZ_CHECK(c.feed(stuffed) == stuffed.size());
  SMTPSIM_FUZZ_CHECK(c.done());
  const data_anomalies& s = c.anomalies();
  SMTPSIM_FUZZ_CHECK(!s.lf_dot_lf && !s.lf_dot_crlf && !s.cr_dot_cr && !s.cr_dot_lf &&
                     !s.lf_dot_cr && !s.cr_dot_crlf && !s.crlf_dot_cr_crlf);
  if (crlf_only(input) && (input.empty() || input.ends_with("\r\n"))) {
    SMTPSIM_FUZZ_CHECK(c.message() == input);
  }
  return 0;
}
