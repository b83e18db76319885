// Generated from runs of `smtpsim run --reference-client-fault NAME` over the B1/B2/B3/B6
// client scenarios (groups starttls, strip, reset, inject, auth): for each fault, every
// case@target whose verdict was FAIL or WARN. Every other case of these groups must be PASS,
// INFO or SKIP under that fault.
#include "tests/support/client_expectations.hpp"

namespace smtpsim::testing {

// fault name -> set of "case_id@target" strings that must be FAIL/WARN (every other case must not
// be)
void add_b1_expectations(client_expectations& e) {
  e["reads-forged-replies"].insert({
      "c.inject.after-220@reference-client-encrypt",
      "c.inject.after-220@reference-client-may",
      "c.inject.after-220@reference-client-secure",
      "c.inject.after-220@reference-client-verify",
  });
  e["no-ehlo-after-tls"].insert({
      "c.reset.discard-pre-tls-caps@reference-client-encrypt",
      "c.reset.discard-pre-tls-caps@reference-client-may",
      "c.reset.discard-pre-tls-caps@reference-client-secure",
      "c.reset.discard-pre-tls-caps@reference-client-verify",
      "c.reset.ehlo-first@reference-client-encrypt",
      "c.reset.ehlo-first@reference-client-may",
      "c.reset.ehlo-first@reference-client-secure",
      "c.reset.ehlo-first@reference-client-verify",
  });
  e["auth-before-tls"].insert({
      "c.auth.never-pre-tls@reference-client-encrypt",
      "c.auth.never-pre-tls@reference-client-may",
      "c.auth.never-pre-tls@reference-client-secure",
      "c.auth.never-pre-tls@reference-client-verify",
      "c.strip.required-aborts@reference-client-encrypt",
      "c.strip.required-aborts@reference-client-secure",
      "c.strip.required-aborts@reference-client-verify",
  });
  e["plaintext-fallback"].insert({
      "c.starttls.454-policy@reference-client-encrypt",
      "c.starttls.454-policy@reference-client-secure",
      "c.starttls.454-policy@reference-client-verify",
      "c.starttls.firewall-mangled@reference-client-encrypt",
      "c.starttls.firewall-mangled@reference-client-secure",
      "c.starttls.firewall-mangled@reference-client-verify",
      "c.starttls.malformed-ehlo@reference-client-encrypt",
      "c.starttls.malformed-ehlo@reference-client-secure",
      "c.starttls.malformed-ehlo@reference-client-verify",
      "c.strip.bad-starttls-reply/220-no-tls@reference-client-encrypt",
      "c.strip.bad-starttls-reply/220-no-tls@reference-client-secure",
      "c.strip.bad-starttls-reply/220-no-tls@reference-client-verify",
      "c.strip.bad-starttls-reply/221@reference-client-encrypt",
      "c.strip.bad-starttls-reply/221@reference-client-secure",
      "c.strip.bad-starttls-reply/221@reference-client-verify",
      "c.strip.bad-starttls-reply/454@reference-client-encrypt",
      "c.strip.bad-starttls-reply/454@reference-client-secure",
      "c.strip.bad-starttls-reply/454@reference-client-verify",
      "c.strip.bad-starttls-reply/500@reference-client-encrypt",
      "c.strip.bad-starttls-reply/500@reference-client-secure",
      "c.strip.bad-starttls-reply/500@reference-client-verify",
      "c.strip.bad-starttls-reply/501@reference-client-encrypt",
      "c.strip.bad-starttls-reply/501@reference-client-secure",
      "c.strip.bad-starttls-reply/501@reference-client-verify",
      "c.strip.bad-starttls-reply/502@reference-client-encrypt",
      "c.strip.bad-starttls-reply/502@reference-client-secure",
      "c.strip.bad-starttls-reply/502@reference-client-verify",
      "c.strip.bad-starttls-reply/530@reference-client-encrypt",
      "c.strip.bad-starttls-reply/530@reference-client-secure",
      "c.strip.bad-starttls-reply/530@reference-client-verify",
      "c.strip.ehlo-refused-helo@reference-client-encrypt",
      "c.strip.ehlo-refused-helo@reference-client-secure",
      "c.strip.ehlo-refused-helo@reference-client-verify",
      "c.strip.required-aborts@reference-client-encrypt",
      "c.strip.required-aborts@reference-client-secure",
      "c.strip.required-aborts@reference-client-verify",
  });
  e["accepts-any-cert"].insert({
      "c.auth.no-plain-on-bad-cert/expired@reference-client-encrypt",
      "c.auth.no-plain-on-bad-cert/expired@reference-client-may",
      "c.auth.no-plain-on-bad-cert/expired@reference-client-secure",
      "c.auth.no-plain-on-bad-cert/expired@reference-client-verify",
      "c.auth.no-plain-on-bad-cert/expired@reference-client-wrapper-verify",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-encrypt",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-may",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-secure",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-verify",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-wrapper-verify",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-encrypt",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-may",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-secure",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-verify",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-wrapper-verify",
  });
  e["nested-starttls"].insert({
      "c.starttls.no-nested@reference-client-encrypt",
      "c.starttls.no-nested@reference-client-may",
      "c.starttls.no-nested@reference-client-secure",
      "c.starttls.no-nested@reference-client-verify",
  });
  e["starttls-ehlo-one-segment"].insert({
      "c.starttls.waits-for-220@reference-client-encrypt",
      "c.starttls.waits-for-220@reference-client-may",
      "c.starttls.waits-for-220@reference-client-secure",
      "c.starttls.waits-for-220@reference-client-verify",
  });
  e["starttls-argument"].insert({
      "c.starttls.exact-command@reference-client-encrypt",
      "c.starttls.exact-command@reference-client-may",
      "c.starttls.exact-command@reference-client-secure",
      "c.starttls.exact-command@reference-client-verify",
  });
  e["no-close-notify"];  // no B1/B2/B3/B6 case is about this fault
  e["pipelines-without-advert"].insert({
      "c.inject.after-454@reference-client-may",
      "c.reset.discard-pre-tls-caps@reference-client-encrypt",
      "c.reset.discard-pre-tls-caps@reference-client-may",
      "c.reset.discard-pre-tls-caps@reference-client-secure",
      "c.reset.discard-pre-tls-caps@reference-client-verify",
  });
  e["plain-on-unverified-cert"].insert({
      "c.auth.no-plain-on-bad-cert/expired@reference-client-encrypt",
      "c.auth.no-plain-on-bad-cert/expired@reference-client-may",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-encrypt",
      "c.auth.no-plain-on-bad-cert/self-signed@reference-client-may",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-encrypt",
      "c.auth.no-plain-on-bad-cert/wrong-name@reference-client-may",
  });
}

}  // namespace smtpsim::testing
