// line_framer_fuzzer: must not crash, throw or read out of bounds for any input, with either
// line-ending mode and any line limit. It must frame identically whether the input is fed in one
// chunk, one octet at a time (inputs up to 512 octets; longer ones in random 1-64 octet pieces) or
// in two parts; account for every octet (the wire_length of all
// lines plus buffered() equals the input size); give back each line's octets exactly (the text of
// an overlong line is the start of the line, and its tail never comes out as another line); and
// hold at most max_line_length octets of an incomplete line.
// Input: octet 0 chooses the limits, the rest is the stream.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/protocol/line_framer.hpp"

#include "fuzz/fuzz_target.hpp"

namespace {

using smtpsim::protocol::framed_line;
using smtpsim::protocol::framing_limits;
using smtpsim::protocol::line_ending;
using smtpsim::protocol::line_framer;

// expect_same takes every complete line from `framer` and checks it against `expected`, from
// index `next` on (comparing on the fly keeps the target fast: no second copy of the lines).
void expect_same(line_framer& framer, const std::vector<framed_line>& expected, std::size_t& next) {
  while (auto line = framer.next()) {
    SMTPSIM_FUZZ_CHECK(next < expected.size() && *line == expected[next]);
    ++next;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  constexpr std::size_t max_lengths[] = {0, 1, 2, 3, 5, 16, 64, 512, 1000, 4096};
  const framing_limits limits{.max_line_length = max_lengths[(data[0] >> 1) % 10],
                              .lf_ends_line = (data[0] & 1) != 0};
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  std::vector<framed_line> whole;
  line_framer a(limits);
  a.feed(input);
  while (auto line = a.next()) {
    whole.push_back(std::move(*line));
  }

  line_framer b(limits);
  std::size_t next = 0;
  smtpsim::fuzz::feed_in_pieces(input, [&](std::string_view piece) {
    b.feed(piece);
    expect_same(b, whole, next);
  });
  SMTPSIM_FUZZ_CHECK(next == whole.size());
  SMTPSIM_FUZZ_CHECK(a.buffered() == b.buffered());

  line_framer c(limits);
  const std::size_t cut = input.size() / 2;
  next = 0;
  c.feed(input.substr(0, cut));
  expect_same(c, whole, next);
  c.feed(input.substr(cut));
  expect_same(c, whole, next);
  SMTPSIM_FUZZ_CHECK(next == whole.size());

  std::size_t offset = 0;
  for (const framed_line& line : whole) {
    const std::size_t terminator = line.ending == line_ending::crlf ? 2 : 1;
    SMTPSIM_FUZZ_CHECK(line.wire_length >= line.text.size() + terminator);
    SMTPSIM_FUZZ_CHECK(offset + line.wire_length <= input.size());
    const std::string_view wire = input.substr(offset, line.wire_length);
    SMTPSIM_FUZZ_CHECK(wire.substr(0, line.text.size()) == line.text);
    SMTPSIM_FUZZ_CHECK(wire.back() == '\n');
    SMTPSIM_FUZZ_CHECK((line.ending == line_ending::crlf) ==
                       (wire.size() >= 2 && wire[wire.size() - 2] == '\r'));
    SMTPSIM_FUZZ_CHECK(line.overlong == (line.wire_length > limits.max_line_length));
    if (!line.overlong) {
      SMTPSIM_FUZZ_CHECK(line.text.size() + terminator == line.wire_length);
    } else {
      SMTPSIM_FUZZ_CHECK(line.text.size() + 2 <= limits.max_line_length || line.text.empty());
    }
    SMTPSIM_FUZZ_CHECK(limits.lf_ends_line || line.ending == line_ending::crlf);
    SMTPSIM_FUZZ_CHECK(!line.bare_lf_inside || !limits.lf_ends_line);
    offset += line.wire_length;
  }
  SMTPSIM_FUZZ_CHECK(offset + a.buffered() == input.size());

  // What is still held is the start of the unfinished line, never more than the limit (+1 for
  // the octet that tells an overlong line).
  const std::string held = a.take_buffered();
  SMTPSIM_FUZZ_CHECK(held.size() <= limits.max_line_length + 1);
  SMTPSIM_FUZZ_CHECK(input.substr(offset, held.size()) == held);
  SMTPSIM_FUZZ_CHECK(a.buffered() == 0);
  SMTPSIM_FUZZ_CHECK(!a.next().has_value());
  return 0;
}
