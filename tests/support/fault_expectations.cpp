#include "tests/support/fault_expectations.hpp"

namespace smtpsim::testing {

using reference::fault;

const std::vector<fault_expectation>& fault_expectations() {
  static const std::vector<fault_expectation> table = {
      {fault::execute_pipelined_after_starttls,
       {"inject.credential-theft-chain", "inject.starttls-ehlo-probe",
        "inject.starttls-rset-same-segment/tls1.2", "inject.starttls-rset-same-segment/tls1.3",
        "inject.split-segment-race"},
       {}},
      {fault::readvertise_starttls,
       {"starttls.not-readvertised", "wrapper.no-starttls-inside"},
       {}},
      {fault::accept_nested_starttls,
       {"starttls.nested-refused", "wrapper.no-starttls-inside"},
       {}},
      {fault::keep_ehlo_across_tls, {"reset.helo-forgotten"}, {}},
      {fault::remember_auth_across_tls, {"reset.auth-forgotten"}, {}},
      {fault::accept_starttls_argument, {"starttls.params-501"}, {}},
      {fault::starttls_keyword_with_params, {"starttls.advertised-after-ehlo"}, {}},
      {fault::helo_returns_extensions, {"starttls.not-in-helo-reply"}, {}},
      // 502 on every listener also breaks the TLS-unavailable listener's 454, and STARTTLS with
      // a parameter then gets 502 rather than 501.
      {fault::starttls_502,
       {"starttls.ready-220", "starttls.454-is-temporary"},
       {"starttls.params-501"}},
      {fault::starttls_220_then_drop, {"starttls.ready-220"}, {}},
      // The split-segment RSET is executed when it arrives after the 220 (the server sniffs it as
      // plaintext) and discarded when it shares a read with STARTTLS.
      {fault::plaintext_after_failed_handshake,
       {"starttls.failed-handshake-no-plaintext"},
       {},
       {"inject.split-segment-race"}},
      {fault::tls_required_accepts_mail, {"starttls.required-530"}, {}},
      {fault::require_tls_on_mx, {"starttls.public-mx-no-require"}, {}},
      {fault::tls_unavailable_554, {"starttls.454-is-temporary"}, {}},
      {fault::accept_without_client_cert, {"starttls.insufficient-security-554"}, {}},
      {fault::starttls_keeps_envelope, {"starttls.mid-transaction"}, {}},
      {fault::received_uses_first_ehlo, {"reset.ehlo-arg-forgotten"}, {}},
      {fault::received_without_tls, {}, {"reset.received-esmtps"}},
      {fault::greet_plaintext_on_wrapper, {"wrapper.tls-first"}, {}},
      {fault::wrapper_answers_plaintext, {"wrapper.plaintext-refused"}, {}},
      {fault::omit_close_notify, {}, {"wrapper.close-notify"}},
      {fault::hang_on_starttls_before_ehlo, {"starttls.before-ehlo"}, {}},
      {fault::reply_before_greeting, {"inject.pre-greeting-talk"}, {}},
  };
  return table;
}

}  // namespace smtpsim::testing
