// Client-side fault matrix, part B2 (checks.md B5, B7, B8, B9: scenarios/client/wrapper, ccert,
// broken, tls). For every reference-client fault (smtpsim send --list-faults): the exact
// "case_id@target" pairs among these scenarios that must come out FAIL or WARN; every other case
// of these scenarios must not. Filled from `smtpsim run --reference-client-fault NAME` runs.
// A fault with no entry must leave every case of these scenarios PASS, INFO or SKIP.
#include "tests/support/client_expectations.hpp"

namespace smtpsim::testing {

void add_b2_expectations(client_expectations& e) {
  e["reads-forged-replies"];  // none of these scenarios
  e["no-ehlo-after-tls"];     // none of these scenarios
  e["auth-before-tls"];       // none of these scenarios
  e["plaintext-fallback"].insert({
      "c.broken.220-then-close/close@reference-client-encrypt",
      "c.broken.220-then-close/close@reference-client-secure",
      "c.broken.220-then-close/close@reference-client-verify",
      "c.broken.220-then-close/reset@reference-client-encrypt",
      "c.broken.220-then-close/reset@reference-client-secure",
      "c.broken.220-then-close/reset@reference-client-verify",
      "c.broken.220-then-plaintext-error@reference-client-encrypt",
      "c.broken.220-then-plaintext-error@reference-client-secure",
      "c.broken.220-then-plaintext-error@reference-client-verify",
      "c.broken.tls-alert/handshake-failure@reference-client-encrypt",
      "c.broken.tls-alert/handshake-failure@reference-client-secure",
      "c.broken.tls-alert/handshake-failure@reference-client-verify",
      "c.broken.tls-alert/tls1.0-only@reference-client-encrypt",
      "c.broken.tls-alert/tls1.0-only@reference-client-secure",
      "c.broken.tls-alert/tls1.0-only@reference-client-verify",
      "c.broken.tls-alert/tls1.1-only@reference-client-encrypt",
      "c.broken.tls-alert/tls1.1-only@reference-client-secure",
      "c.broken.tls-alert/tls1.1-only@reference-client-verify",
      "c.tls.min-version/tls1.0@reference-client-encrypt",
      "c.tls.min-version/tls1.0@reference-client-secure",
      "c.tls.min-version/tls1.0@reference-client-verify",
      "c.tls.min-version/tls1.1@reference-client-encrypt",
      "c.tls.min-version/tls1.1@reference-client-secure",
      "c.tls.min-version/tls1.1@reference-client-verify",
  });
  e["accepts-any-cert"].insert({
      "c.broken.cert-invalid/untrusted@reference-client-secure",
      "c.broken.cert-invalid/untrusted@reference-client-verify",
      "c.tls.eku@reference-client-secure",
      "c.tls.eku@reference-client-verify",
      "c.tls.eku@reference-client-wrapper-verify",
      "c.tls.san-before-cn@reference-client-secure",
      "c.tls.san-before-cn@reference-client-verify",
      "c.tls.san-before-cn@reference-client-wrapper-verify",
      "c.broken.cert-invalid/expired@reference-client-secure",
      "c.broken.cert-invalid/expired@reference-client-verify",
      "c.broken.cert-invalid/self-signed@reference-client-secure",
      "c.broken.cert-invalid/self-signed@reference-client-verify",
      "c.broken.cert-invalid/wrong-name@reference-client-secure",
      "c.broken.cert-invalid/wrong-name@reference-client-verify",
      "c.broken.quit-when-inadequate/self-signed@reference-client-secure",
      "c.broken.quit-when-inadequate/self-signed@reference-client-verify",
      "c.broken.quit-when-inadequate/wrong-name@reference-client-secure",
      "c.broken.quit-when-inadequate/wrong-name@reference-client-verify",
      "c.wrapper.cert-validated/expired@reference-client-wrapper-verify",
      "c.wrapper.cert-validated/self-signed@reference-client-wrapper-verify",
      "c.wrapper.cert-validated/wrong-name@reference-client-wrapper-verify",
  });
  e["nested-starttls"].insert({
      "c.wrapper.no-starttls-inside@reference-client-wrapper-verify",
  });
  e["starttls-ehlo-one-segment"];  // none of these scenarios
  e["starttls-argument"];          // none of these scenarios
  e["no-close-notify"].insert({
      "c.wrapper.close-notify@reference-client-wrapper-verify",
  });
  e["pipelines-without-advert"];  // none of these scenarios
  e["plain-on-unverified-cert"];  // none of these scenarios
}

}  // namespace smtpsim::testing
