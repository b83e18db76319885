#pragma once
// Case verdicts (architecture.md "Verdicts and exit codes").

#include <cstdint>
#include <optional>
#include <string_view>

namespace smtpsim::script {

enum class verdict : std::uint8_t {
  pass,   // the expectation was met
  fail,   // a MUST (or the profile's rule) was broken
  warn,   // a SHOULD was broken
  info,   // recorded, not judged
  skip,   // a precondition was not met; the reason says which
  error,  // the harness could not decide (unreachable, timeout before the check)
  xfail,  // a failure listed in the baseline
  xpass,  // a baseline-listed failure that passed
};

// to_string gives the upper-case name used in reports: "PASS", "FAIL", ...
std::string_view to_string(verdict v);
// parse_verdict accepts the upper- or lower-case name.
std::optional<verdict> parse_verdict(std::string_view text);

// severity orders verdicts for combining several judgments of one case: the case takes the
// most severe one. fail > error > warn > info > skip > pass (xfail/xpass rank as fail).
int severity(verdict v);
verdict worst(verdict a, verdict b);

// is_judged is true for verdicts that say something about the target (not skip or error).
bool is_judged(verdict v);

}  // namespace smtpsim::script
