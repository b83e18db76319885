// scenario_loader_fuzzer: any text given to the scenario loader either parses into a scenario or
// is rejected with a config_error whose position lies inside the text; nothing else escapes and
// nothing hangs (the json_locator once spun forever on a stray '}' in an array).
// Input: the file's text.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/scenario_loader.hpp"

#include "fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto sc = smtpsim::harness::parse_scenario(text, "fuzz.json");
    SMTPSIM_FUZZ_CHECK(!sc.id.empty());
    SMTPSIM_FUZZ_CHECK(!sc.references.empty());
    SMTPSIM_FUZZ_CHECK(!sc.steps.empty() || !sc.rules.empty());
  } catch (const smtpsim::harness::config_error& e) {
    SMTPSIM_FUZZ_CHECK(e.where().line >= 1);
    SMTPSIM_FUZZ_CHECK(e.where().line <=
                       1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
  }
  return 0;
}
