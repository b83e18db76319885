#pragma once
// Test helper for smtpsim::tls tests: one test PKI per test binary, generated on first use, since
// every test that needs certificates can share it.

#include "simulator/tls/pki.hpp"

namespace smtpsim::tls {

// shared_test_pki returns the binary's test PKI, made with default options on first call.
inline const test_pki& shared_test_pki() {
  static const test_pki pki = make_test_pki();
  return pki;
}

}  // namespace smtpsim::tls
