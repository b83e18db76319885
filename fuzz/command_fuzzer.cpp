// command_fuzzer: must not crash, throw or read out of bounds for any command line. parse_command
// returns a command or command_empty / command_syntax (command_empty only for an empty line);
// serialize_command of a parsed command ends in CRLF and parses back to the same fields (all but
// the unparsed `argument`, whose spacing may be normalised); paths and AUTH fields are
// well-formed.
// Input: the command line without its CRLF.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "simulator/protocol/command.hpp"

#include "fuzz/fuzz_target.hpp"

using namespace smtpsim::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_command(line);
  if (!parsed) {
    SMTPSIM_FUZZ_CHECK(parsed.error() == errc::command_syntax ||
                       parsed.error() == errc::command_empty);
    SMTPSIM_FUZZ_CHECK((parsed.error() == errc::command_empty) == line.empty());
    return 0;
  }
  const command& c = *parsed;
  SMTPSIM_FUZZ_CHECK(c.verb_text.size() <= line.size());
  SMTPSIM_FUZZ_CHECK(c.cmd == verb::unknown || c.verb_text.size() == to_string(c.cmd).size());
  SMTPSIM_FUZZ_CHECK(c.address.has_value() == (c.cmd == verb::mail || c.cmd == verb::rcpt));
  SMTPSIM_FUZZ_CHECK(!c.address || c.cmd == verb::mail || !c.address->null);
  SMTPSIM_FUZZ_CHECK((c.cmd == verb::auth) == !c.mechanism.empty());
  for (char ch : c.mechanism) {
    SMTPSIM_FUZZ_CHECK(!(ch >= 'a' && ch <= 'z'));
  }
  SMTPSIM_FUZZ_CHECK(c.cmd != verb::ehlo || !c.domain.empty());

  const std::string wire = serialize_command(c);
  SMTPSIM_FUZZ_CHECK(wire.size() >= 2 && wire.substr(wire.size() - 2) == "\r\n");
  auto back = parse_command(std::string_view(wire).substr(0, wire.size() - 2));
  SMTPSIM_FUZZ_CHECK(back.has_value());
  command x = c;
  command y = *back;
  x.argument.clear();
  y.argument.clear();
  SMTPSIM_FUZZ_CHECK(x == y);
  // Serialising is stable after one round.
  SMTPSIM_FUZZ_CHECK(serialize_command(*back) == wire);

  if (c.cmd != verb::unknown) {
    const command made = make_command(c.cmd, c.argument);
    SMTPSIM_FUZZ_CHECK(made.cmd == c.cmd);
  }
  return 0;
}
