#include "reports/run_result.hpp"

#include <algorithm>

namespace smtpsim::reports {

namespace {

// slot maps a verdict to its counter; both count() and add() go through it so they cannot
// disagree.
template <class Counts>
auto& slot(Counts& c, script::verdict v) {
  switch (v) {
    case script::verdict::pass:
      return c.pass;
    case script::verdict::fail:
      return c.fail;
    case script::verdict::warn:
      return c.warn;
    case script::verdict::info:
      return c.info;
    case script::verdict::skip:
      return c.skip;
    case script::verdict::error:
      return c.error;
    case script::verdict::xfail:
      return c.xfail;
    case script::verdict::xpass:
      return c.xpass;
  }
  // An out-of-range enum value can only come from a bug; count it as an error so totals stay
  // consistent.
  return c.error;
}

}  // namespace

void verdict_counts::add(script::verdict v) { ++slot(*this, v); }

std::size_t verdict_counts::count(script::verdict v) const { return slot(*this, v); }

verdict_counts run_result::counts() const {
  verdict_counts c;
  for (const auto& r : cases) {
    c.add(r.outcome.final_verdict);
  }
  return c;
}

verdict_counts run_result::counts_for_target(std::string_view target) const {
  verdict_counts c;
  for (const auto& r : cases) {
    if (r.target == target) {
      c.add(r.outcome.final_verdict);
    }
  }
  return c;
}

std::vector<std::string> run_result::target_names() const {
  std::vector<std::string> names;
  auto add = [&names](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  };
  for (const auto& t : targets) {
    add(t.name);
  }
  for (const auto& r : cases) {
    add(r.target);
  }
  return names;
}

}  // namespace smtpsim::reports
