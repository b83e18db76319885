#include "tests/support/client_expectations.hpp"

namespace smtpsim::testing {

// Placeholder until the b1 table is written.
void add_b1_expectations(client_expectations& e) { (void)e; }

}  // namespace smtpsim::testing
