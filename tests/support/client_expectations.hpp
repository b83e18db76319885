#pragma once
// Which client cases each reference-client fault must fail: fault name -> "case_id@target"
// strings whose verdict must be FAIL or WARN. Every other case of the client suite must be
// PASS, INFO or SKIP under that fault. One table per group of catalogue rows.

#include <map>
#include <set>
#include <string>

namespace smtpsim::testing {

using client_expectations = std::map<std::string, std::set<std::string>>;

void add_b1_expectations(client_expectations& e);  // B1, B2, B3, B6
void add_b2_expectations(client_expectations& e);  // B5, B7, B8, B9

inline client_expectations all_client_expectations() {
  client_expectations e;
  add_b1_expectations(e);
  add_b2_expectations(e);
  return e;
}

}  // namespace smtpsim::testing
