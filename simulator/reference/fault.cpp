#include "simulator/reference/fault.hpp"

#include <array>
#include <string>

namespace smtpsim::reference {
namespace {

constexpr std::array<fault_info, fault_count> catalogue{{
    {fault::execute_pipelined_after_starttls, "execute_pipelined_after_starttls",
     "execute_pipelined_after_starttls, if set, causes the server to keep the plaintext commands "
     "pipelined after STARTTLS (also those arriving within 50 ms of its 220) and execute them "
     "inside TLS (CVE-2011-0411)."},
    {fault::readvertise_starttls, "readvertise_starttls",
     "readvertise_starttls, if set, causes the server to list STARTTLS in its EHLO reply while "
     "TLS is already active, also inside the wrapper (RFC 3207 §4.2)."},
    {fault::accept_nested_starttls, "accept_nested_starttls",
     "accept_nested_starttls, if set, causes the server to answer 220 to a STARTTLS sent inside "
     "TLS and then, expecting a nested handshake, fail and close on whatever follows."},
    {fault::keep_ehlo_across_tls, "keep_ehlo_across_tls",
     "keep_ehlo_across_tls, if set, causes the server to remember the EHLO/HELO across the TLS "
     "handshake, so MAIL is accepted without a new EHLO (RFC 3207 §4.2)."},
    {fault::remember_auth_across_tls, "remember_auth_across_tls",
     "remember_auth_across_tls, if set, causes the server to keep a SASL login made in plaintext "
     "across the TLS handshake (on a listener that allows plaintext AUTH)."},
    {fault::accept_starttls_argument, "accept_starttls_argument",
     "accept_starttls_argument, if set, causes the server to answer 220 to a STARTTLS with an "
     "argument (e.g. `STARTTLS x`) and start TLS, instead of 501 (RFC 3207 §4)."},
    {fault::starttls_keyword_with_params, "starttls_keyword_with_params",
     "starttls_keyword_with_params, if set, causes the server to advertise the STARTTLS keyword "
     "with a parameter (`STARTTLS REQUIRED`), which RFC 3207 §3 forbids."},
    {fault::helo_returns_extensions, "helo_returns_extensions",
     "helo_returns_extensions, if set, causes the server to answer HELO with the multi-line EHLO "
     "extension list (RFC 5321 §3.2)."},
    {fault::starttls_502, "starttls_502",
     "starttls_502, if set, causes the server to advertise STARTTLS but answer the command with "
     "502 5.5.1 Command not implemented."},
    {fault::starttls_220_then_drop, "starttls_220_then_drop",
     "starttls_220_then_drop, if set, causes the server to answer 220 to STARTTLS and then close "
     "the TCP connection without a handshake."},
    {fault::plaintext_after_failed_handshake, "plaintext_after_failed_handshake",
     "plaintext_after_failed_handshake, if set, causes the server to go back to plaintext SMTP "
     "and execute the client's bytes when they are plaintext instead of a ClientHello after the "
     "220 to STARTTLS (RFC 3207 §4.1)."},
    {fault::tls_required_accepts_mail, "tls_required_accepts_mail",
     "tls_required_accepts_mail, if set, causes the server to accept MAIL before TLS on a "
     "listener that requires TLS."},
    {fault::require_tls_on_mx, "require_tls_on_mx",
     "require_tls_on_mx, if set, causes the server to answer MAIL before TLS with 530 5.7.0 on a "
     "publicly referenced MX listener (RFC 3207 §4 forbids requiring STARTTLS there)."},
    {fault::tls_unavailable_554, "tls_unavailable_554",
     "tls_unavailable_554, if set, causes the server to answer STARTTLS on a listener whose TLS "
     "is unavailable with the permanent 554 5.7.0 TLS not available instead of 454."},
    {fault::accept_without_client_cert, "accept_without_client_cert",
     "accept_without_client_cert, if set, causes the server to carry on normally on a listener "
     "that requires a client certificate when none was presented."},
    {fault::starttls_keeps_envelope, "starttls_keeps_envelope",
     "starttls_keeps_envelope, if set, causes the server to keep a mail transaction begun before "
     "STARTTLS across the handshake and the next EHLO, so a RCPT sent inside TLS joins it."},
    {fault::received_uses_first_ehlo, "received_uses_first_ehlo",
     "received_uses_first_ehlo, if set, causes the server to name the first (pre-TLS) EHLO "
     "argument in the Received header instead of the current one."},
    {fault::received_without_tls, "received_without_tls",
     "received_without_tls, if set, causes the server to write `with ESMTP` (or ESMTPA) in the "
     "Received header even when the message came over TLS (RFC 3848)."},
    {fault::greet_plaintext_on_wrapper, "greet_plaintext_on_wrapper",
     "greet_plaintext_on_wrapper, if set, causes the server to send its 220 greeting in plaintext "
     "before the TLS handshake on a wrapper listener (RFC 8314 §3.3)."},
    {fault::wrapper_answers_plaintext, "wrapper_answers_plaintext",
     "wrapper_answers_plaintext, if set, causes the server to serve plaintext SMTP (greeting and "
     "replies) on a wrapper listener when the client's first bytes are not a TLS record."},
    {fault::omit_close_notify, "omit_close_notify",
     "omit_close_notify, if set, causes the server to close TCP after its 221 to QUIT inside TLS "
     "without sending a TLS close_notify (RFC 8314 §3.4)."},
    {fault::hang_on_starttls_before_ehlo, "hang_on_starttls_before_ehlo",
     "hang_on_starttls_before_ehlo, if set, causes the server to never answer a STARTTLS sent "
     "before any EHLO/HELO, leaving the connection open and silent."},
    {fault::reply_before_greeting, "reply_before_greeting",
     "reply_before_greeting, if set, causes the server to hold its greeting for 200 ms and answer "
     "the commands received meanwhile before the 220 greeting (replies out of order)."},
}};

// The catalogue is indexed by the enumerator's value.
constexpr bool catalogue_in_order() {
  for (std::size_t i = 0; i < catalogue.size(); ++i) {
    if (static_cast<std::size_t>(catalogue[i].id) != i) {
      return false;
    }
  }
  return true;
}
static_assert(catalogue_in_order(), "fault catalogue out of declaration order");

char normalize(char c) {
  if (c == '-') {
    return '_';
  }
  if (c >= 'A' && c <= 'Z') {
    return static_cast<char>(c - 'A' + 'a');
  }
  return c;
}

}  // namespace

std::span<const fault_info> all_faults() { return catalogue; }

std::string_view to_string(fault f) { return catalogue.at(static_cast<std::size_t>(f)).name; }

std::string_view describe(fault f) { return catalogue.at(static_cast<std::size_t>(f)).sentence; }

std::optional<fault> parse_fault(std::string_view name) {
  std::string key;
  key.reserve(name.size());
  for (char c : name) {
    key.push_back(normalize(c));
  }
  for (const fault_info& info : catalogue) {
    if (info.name == key) {
      return info.id;
    }
  }
  return std::nullopt;
}

fault_set::fault_set(std::initializer_list<fault> faults) {
  for (fault f : faults) {
    set(f);
  }
}

std::vector<fault> fault_set::list() const {
  std::vector<fault> out;
  for (const fault_info& info : catalogue) {
    if (has(info.id)) {
      out.push_back(info.id);
    }
  }
  return out;
}

}  // namespace smtpsim::reference
