#pragma once
// fault_expectations: for every fault of the reference server, the cases it must FAIL and the
// cases it must WARN, and nothing else (style.md §7.5: a scenario that passes against both the
// conformant and the faulty peer tests nothing). Used by the in-memory and the socket tests.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "simulator/reference/fault.hpp"

namespace smtpsim::testing {

struct fault_expectation {
  reference::fault f;
  std::set<std::string> fail;
  std::set<std::string> warn;
  // may_fail: cases whose result depends on how the bytes fall into TCP segments; they may FAIL.
  std::set<std::string> may_fail = {};
  // findings: validator id (docs/scenario-format.md §3.8) -> the cases in which it must find a
  // violation; every other validator finds nothing, and so does every validator for the
  // conformant server. The run's synthetic result of each validator listed here is FAIL (WARN
  // for a SHOULD validator such as esc.tls-codes).
  std::map<std::string, std::set<std::string>> findings = {};
};

const std::vector<fault_expectation>& fault_expectations();

}  // namespace smtpsim::testing
