// reply_reader_fuzzer: must not crash, throw or read out of bounds for any input and limits.
// Every call of next() gives a reply, errc::incomplete, or one of the reply errors; one chunk and
// one octet at a time (inputs up to 512 octets; longer ones in random 1-64 octet pieces) give the
// same sequence; every octet is in a reply, dropped_bytes() or
// buffered(); each reply respects the limits, its raw octets are exactly the input octets at its
// position (when no line was overlong), its code is 200-599, and format_reply of its lines reads
// back the same. Input: octet 0 chooses the limits, the rest is the stream.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/protocol/reply.hpp"

#include "fuzz/fuzz_target.hpp"

namespace {

using namespace smtpsim::protocol;

// outcome is what one call of next() gave, and where the reply started in the input.
struct outcome {
  errc error = errc::ok;
  reply value;
  std::size_t offset = 0;
};

// next_outcome calls next() once; false when it needs more input. It checks that errors are
// reply errors and that `returned` + dropped_bytes() locates each reply in the input.
bool next_outcome(reply_reader& reader, std::size_t& returned, outcome& out) {
  auto r = reader.next();
  if (r.error() == errc::incomplete) {
    return false;
  }
  out.error = r.error();
  if (!r) {
    SMTPSIM_FUZZ_CHECK(
        r.error() == errc::reply_bad_code || r.error() == errc::reply_bad_separator ||
        r.error() == errc::reply_too_many_lines || r.error() == errc::reply_too_large);
    SMTPSIM_FUZZ_CHECK(reader.last_error().code == r.error());
    return true;
  }
  // Everything dropped so far lies before this reply.
  out.offset = returned + reader.dropped_bytes();
  out.value = std::move(r).value();
  returned += out.value.wire_length;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  reply_limits limits;
  if ((data[0] & 1) != 0) {
    limits = {.max_line_length = 8u + data[0] % 64u,
              .max_lines = 1u + (data[0] >> 4) % 8u,
              .max_reply_bytes = 16u + data[0] * 2u};
  }
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  std::vector<outcome> whole;
  reply_reader a(limits);
  a.feed(input);
  std::size_t returned = 0;
  for (outcome o; next_outcome(a, returned, o); o = outcome{}) {
    whole.push_back(std::move(o));
  }

  // One octet at a time (or in small pieces) gives the same sequence (compared on the fly, to keep
  // the target fast).
  reply_reader b(limits);
  std::size_t returned_bytewise = 0;
  std::size_t next = 0;
  smtpsim::fuzz::feed_in_pieces(input, [&](std::string_view piece) {
    b.feed(piece);
    for (outcome o; next_outcome(b, returned_bytewise, o); o = outcome{}) {
      SMTPSIM_FUZZ_CHECK(next < whole.size() && o.error == whole[next].error &&
                         o.value == whole[next].value && o.offset == whole[next].offset);
      ++next;
    }
  });
  SMTPSIM_FUZZ_CHECK(next == whole.size());

  for (const outcome& o : whole) {
    if (o.error != errc::ok) {
      continue;
    }
    const reply& r = o.value;
    SMTPSIM_FUZZ_CHECK(r.code >= 200 && r.code <= 599);
    SMTPSIM_FUZZ_CHECK(!r.lines.empty() && r.lines.size() <= limits.max_lines);
    SMTPSIM_FUZZ_CHECK(r.wire_length <= limits.max_reply_bytes);
    SMTPSIM_FUZZ_CHECK(r.raw.size() <= r.wire_length);
    SMTPSIM_FUZZ_CHECK(r.overlong_line || r.raw.size() == r.wire_length);
    SMTPSIM_FUZZ_CHECK(o.offset + r.wire_length <= input.size());
    SMTPSIM_FUZZ_CHECK(r.overlong_line || input.substr(o.offset, r.raw.size()) == r.raw);
    SMTPSIM_FUZZ_CHECK(!r.esc || r.esc->cls == 2 || r.esc->cls == 4 || r.esc->cls == 5);
    SMTPSIM_FUZZ_CHECK(!r.esc_on_every_line || r.esc);

    if (!r.mixed_codes && !r.overlong_line) {
      // Lines may gain one octet (LF -> CRLF), so read back with room for it.
      reply_reader again({.max_line_length = limits.max_line_length + 1,
                          .max_lines = limits.max_lines,
                          .max_reply_bytes = 2 * limits.max_reply_bytes});
      const std::string wire = format_reply(r.code, r.lines);
      again.feed(wire);
      auto back = again.next();
      SMTPSIM_FUZZ_CHECK(back.has_value());
      SMTPSIM_FUZZ_CHECK(back->code == r.code);
      SMTPSIM_FUZZ_CHECK(back->lines == r.lines);
      SMTPSIM_FUZZ_CHECK(back->esc == r.esc);
      SMTPSIM_FUZZ_CHECK(back->raw == wire);
      SMTPSIM_FUZZ_CHECK(again.buffered() == 0);
    }
  }
  SMTPSIM_FUZZ_CHECK(returned + a.dropped_bytes() + a.buffered() == input.size());

  const std::size_t held = a.buffered();
  const std::string rest = a.take_buffered();
  SMTPSIM_FUZZ_CHECK(rest.size() <= held);
  SMTPSIM_FUZZ_CHECK(a.buffered() == 0);
  return 0;
}
