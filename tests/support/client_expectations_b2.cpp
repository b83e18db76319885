#include "tests/support/client_expectations.hpp"

namespace smtpsim::testing {

// Placeholder until the b2 table is written.
void add_b2_expectations(client_expectations& e) { (void)e; }

}  // namespace smtpsim::testing
