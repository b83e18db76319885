#pragma once
// fault_expectations: for every fault of the reference server, the cases it must FAIL and the
// cases it must WARN, and nothing else (style.md §7.5: a scenario that passes against both the
// conformant and the faulty peer tests nothing). Used by the in-memory and the socket tests.

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
};

const std::vector<fault_expectation>& fault_expectations();

}  // namespace smtpsim::testing
