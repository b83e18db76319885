// path_fuzzer: must not crash, throw or read out of bounds for any text and options. parse_path
// returns a path or path_syntax / path_not_null; a parsed path prints (to_string) as text that
// parses back to the same path; its domain passes is_valid_domain / is_valid_address_literal;
// 8-bit octets appear only when allowed; the size flags match the RFC 5321 §4.5.3.1 limits;
// parse_path_prefix stops exactly where a whole-text parse of that prefix succeeds.
// Input: octet 0 chooses the path_options, the rest is the text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "simulator/protocol/address.hpp"

#include "fuzz/fuzz_target.hpp"

using namespace smtpsim::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const path_options options{.allow_null = (data[0] & 1) != 0,
                             .allow_8bit = (data[0] & 2) != 0,
                             .allow_no_brackets = (data[0] & 4) != 0,
                             .allow_postmaster = (data[0] & 8) != 0};
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  std::size_t consumed = 0;
  auto prefix = parse_path_prefix(text, &consumed, options);
  if (prefix) {
    SMTPSIM_FUZZ_CHECK(consumed <= text.size());
    auto again = parse_path(text.substr(0, consumed), options);
    SMTPSIM_FUZZ_CHECK(again.has_value() && *again == *prefix);
  }

  auto parsed = parse_path(text, options);
  if (!parsed) {
    SMTPSIM_FUZZ_CHECK(parsed.error() == errc::path_syntax ||
                       parsed.error() == errc::path_not_null);
    SMTPSIM_FUZZ_CHECK(parsed.error() != errc::path_not_null || !options.allow_null);
    return 0;
  }
  const path& p = *parsed;
  SMTPSIM_FUZZ_CHECK(prefix.has_value() && consumed == text.size());
  SMTPSIM_FUZZ_CHECK(!p.null || options.allow_null);
  SMTPSIM_FUZZ_CHECK(!p.brackets_missing || options.allow_no_brackets);
  SMTPSIM_FUZZ_CHECK(!p.eight_bit || options.allow_8bit);
  if (!options.allow_8bit) {
    for (char c : text) {
      SMTPSIM_FUZZ_CHECK(static_cast<unsigned char>(c) < 0x80);
    }
  }
  SMTPSIM_FUZZ_CHECK(p.local_part_too_long == (p.box.local_part.size() > 64));
  SMTPSIM_FUZZ_CHECK(p.domain_too_long == (p.box.domain.size() > 255));
  SMTPSIM_FUZZ_CHECK(p.path_too_long == (p.to_string().size() > 256));
  if (!p.null) {
    SMTPSIM_FUZZ_CHECK(!p.box.local_part.empty());
    if (p.box.address_literal) {
      SMTPSIM_FUZZ_CHECK(is_valid_address_literal(p.box.domain));
    } else if (!p.eight_bit && !p.box.domain.empty()) {
      SMTPSIM_FUZZ_CHECK(is_valid_domain(p.box.domain));
    }
    SMTPSIM_FUZZ_CHECK(!p.box.domain.empty() || options.allow_postmaster);
    for (const std::string& hop : p.source_route) {
      SMTPSIM_FUZZ_CHECK(p.eight_bit || is_valid_domain(hop));
    }
  }

  // Round trip: the bracketed form parses back to the same path (only brackets_missing differs).
  const std::string printed = p.to_string();
  auto back = parse_path(printed, options);
  SMTPSIM_FUZZ_CHECK(back.has_value());
  path expected = p;
  expected.brackets_missing = false;
  SMTPSIM_FUZZ_CHECK(*back == expected);
  SMTPSIM_FUZZ_CHECK(p.brackets_missing || printed == text);
  return 0;
}
