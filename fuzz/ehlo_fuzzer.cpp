// ehlo_fuzzer: must not crash, throw or read out of bounds for any EHLO reply. Each reply the
// reader returns gives an ehlo_info whose keywords are upper-case, non-empty, findable with has()
// and find(), at most one per line after the first; duplicate_keywords is set exactly when a
// keyword repeats; and format_ehlo of the parsed parts reads back to the same ehlo_info.
// Input: the reply stream (one or more replies).

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "simulator/protocol/ehlo.hpp"

#include "fuzz/fuzz_target.hpp"

using namespace smtpsim::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const reply_limits limits;
  reply_reader reader(limits);
  reader.feed(input);
  for (;;) {
    auto r = reader.next();
    if (r.error() == errc::incomplete) {
      break;
    }
    if (!r) {
      continue;
    }
    const ehlo_info info = parse_ehlo(*r);
    SMTPSIM_FUZZ_CHECK(info.extensions.size() < r->lines.size() || info.extensions.empty());
    std::set<std::string> seen;
    bool duplicates = false;
    for (const ehlo_extension& e : info.extensions) {
      SMTPSIM_FUZZ_CHECK(!e.keyword.empty());
      for (char c : e.keyword) {
        SMTPSIM_FUZZ_CHECK(!(c >= 'a' && c <= 'z') && c != ' ');
      }
      SMTPSIM_FUZZ_CHECK(info.has(e.keyword));
      SMTPSIM_FUZZ_CHECK(info.find(e.keyword) != nullptr);
      duplicates = duplicates || !seen.insert(e.keyword).second;
    }
    SMTPSIM_FUZZ_CHECK(duplicates == info.duplicate_keywords);
    SMTPSIM_FUZZ_CHECK(info.keywords().size() == info.extensions.size());
    SMTPSIM_FUZZ_CHECK(info.domain.find(' ') == std::string::npos);

    std::vector<std::string> lines;
    for (const ehlo_extension& e : info.extensions) {
      lines.push_back(e.line);
    }
    const std::string wire = format_ehlo(info.domain, info.greeting, lines);
    // Lines may gain one octet (LF -> CRLF); a first line with leading SP may lose some.
    reply_reader again({.max_line_length = limits.max_line_length + 1,
                        .max_lines = limits.max_lines,
                        .max_reply_bytes = 2 * limits.max_reply_bytes});
    again.feed(wire);
    auto back = again.next();
    SMTPSIM_FUZZ_CHECK(back.has_value());
    const ehlo_info reparsed = parse_ehlo(*back);
    if (!r->overlong_line) {
      SMTPSIM_FUZZ_CHECK(reparsed == info);
    }
  }
  return 0;
}
