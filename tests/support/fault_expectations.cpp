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
      {fault::auth_in_plaintext,
       {"auth.not-advertised-plaintext", "auth.rejected-plaintext", "auth.login-no-334-plaintext"},
       {}},
      {fault::auth_failure_wrong_status, {}, {"auth.reply-codes"}},
      {fault::auth_cancel_535, {"auth.cancel-501"}, {}},
      {fault::decode_auth_leniently,
       {"auth.bad-base64-501/leading-pad", "auth.bad-base64-501/inner-pad",
        "auth.bad-base64-501/not-alphabet"},
       {}},
      {fault::cram_md5_takes_initial_response, {"auth.ir-server-first-501"}, {}},
      {fault::allow_second_auth, {"auth.second-auth-503"}, {}},
      {fault::allow_auth_in_transaction, {"auth.in-transaction-503"}, {}},
      {fault::unbounded_auth_line, {}, {"auth.line-too-long-500"}},
      {fault::auth_required_accepts_mail, {}, {"auth.required-530"}},
      {fault::drop_after_first_auth_failure, {}, {"auth.no-drop-before-3"}},
      {fault::open_relay,
       {"relay.unauth-foreign-refused", "relay.percent-hack", "relay.source-route",
        "relay.quoted-at", "relay.bang-path", "relay.ip-literal", "relay.tls-alone-no-relay"},
       {}},
      {fault::refuse_null_sender, {"relay.null-sender-accepted"}, {}},
      {fault::lf_dot_lf_ends_data, {"smuggle.lf-dot-lf", "smuggle.lf-dot-crlf"}, {}},
      {fault::cr_dot_ends_data,
       {"smuggle.cr-variants/cr-dot-cr", "smuggle.cr-variants/cr-dot-lf",
        "smuggle.cr-variants/lf-dot-cr", "smuggle.cr-variants/cr-dot-crlf"},
       {}},
      {fault::nul_dot_ends_data, {"smuggle.nul-dot"}, {}},
      {fault::extra_cr_ends_data,
       {},
       {"smuggle.extra-cr/crlf-dot-cr-crlf", "smuggle.extra-cr/cr-crlf-dot-cr-crlf"}},
  };
  return table;
}

}  // namespace smtpsim::testing
