#include "simulator/reference/client_fault.hpp"

#include <array>
#include <string>

namespace smtpsim::reference::client {
namespace {

constexpr std::array<client_fault_info, client_fault_count> catalogue{{
    {client_fault::reads_forged_replies, "reads-forged-replies",
     "reads-forged-replies, if set, causes the client to keep the plaintext replies that arrived "
     "after the 220 to STARTTLS and to take them as answers to its commands inside TLS "
     "(CVE-2021-38371, CVE-2020-14954, CVE-2021-22947).",
     "c.inject.after-220"},
    {client_fault::no_ehlo_after_tls, "no-ehlo-after-tls",
     "no-ehlo-after-tls, if set, causes the client to skip EHLO after the TLS handshake and go "
     "straight to AUTH or MAIL with the capabilities of the plaintext EHLO.",
     "c.reset.ehlo-first, c.reset.discard-pre-tls-caps"},
    {client_fault::auth_before_tls, "auth-before-tls",
     "auth-before-tls, if set, causes the client to send AUTH in plaintext, before STARTTLS, "
     "when the plaintext EHLO offers a mechanism it supports (needs --auth-user).",
     "c.auth.never-pre-tls"},
    {client_fault::plaintext_fallback, "plaintext-fallback",
     "plaintext-fallback, if set, causes the client to continue in plaintext under "
     "encrypt/verify/secure when STARTTLS is not offered, is refused, or its handshake fails.",
     "c.strip.required-aborts, c.strip.bad-starttls-reply, c.starttls.454-policy, "
     "c.strip.ehlo-refused-helo, c.broken.220-then-close"},
    {client_fault::accepts_any_cert, "accepts-any-cert",
     "accepts-any-cert, if set, causes the client to accept any server certificate under "
     "verify/secure (untrusted chain, wrong name, expired).",
     "c.broken.cert-invalid, c.wrapper.cert-validated, c.auth.no-plain-on-bad-cert, "
     "c.tls.san-before-cn"},
    {client_fault::nested_starttls, "nested-starttls",
     "nested-starttls, if set, causes the client to send STARTTLS again inside TLS when the "
     "EHLO inside TLS advertises it.",
     "c.starttls.no-nested, c.wrapper.no-starttls-inside"},
    {client_fault::starttls_ehlo_one_segment, "starttls-ehlo-one-segment",
     "starttls-ehlo-one-segment, if set, causes the client to write \"STARTTLS\\r\\nEHLO "
     "name\\r\\n\" in one write without waiting for the 220.",
     "c.starttls.waits-for-220"},
    {client_fault::starttls_argument, "starttls-argument",
     "starttls-argument, if set, causes the client to send \"STARTTLS x\" instead of "
     "\"STARTTLS\".",
     "c.starttls.exact-command"},
    {client_fault::no_close_notify, "no-close-notify",
     "no-close-notify, if set, causes the client to close TCP without sending a TLS "
     "close_notify.",
     "c.wrapper.close-notify"},
    {client_fault::pipelines_without_advert, "pipelines-without-advert",
     "pipelines-without-advert, if set, causes the client to send MAIL, RCPT and DATA in one "
     "write even when the current EHLO does not advertise PIPELINING.",
     "c.pipe.only-if-advertised"},
    {client_fault::plain_on_unverified_cert, "plain-on-unverified-cert",
     "plain-on-unverified-cert, if set, causes the client to send its credentials inside TLS "
     "even when the server certificate did not verify (it normally authenticates only over a "
     "verified session, RFC 4954 §14).",
     "c.auth.no-plain-on-bad-cert"},
}};

char normalize(char c) {
  if (c >= 'A' && c <= 'Z') {
    return static_cast<char>(c - 'A' + 'a');
  }
  return c == '_' ? '-' : c;
}

}  // namespace

std::span<const client_fault_info> all_client_faults() { return catalogue; }

std::string_view to_string(client_fault f) {
  return catalogue.at(static_cast<std::size_t>(f)).name;
}

std::string_view describe(client_fault f) {
  return catalogue.at(static_cast<std::size_t>(f)).sentence;
}

std::optional<client_fault> parse_client_fault(std::string_view name) {
  std::string n(name);
  for (char& c : n) {
    c = normalize(c);
  }
  for (const client_fault_info& info : catalogue) {
    if (info.name == n) {
      return info.id;
    }
  }
  return std::nullopt;
}

client_fault_set::client_fault_set(std::initializer_list<client_fault> faults) {
  for (client_fault f : faults) {
    set(f);
  }
}

std::vector<client_fault> client_fault_set::list() const {
  std::vector<client_fault> out;
  for (const client_fault_info& info : catalogue) {
    if (has(info.id)) {
      out.push_back(info.id);
    }
  }
  return out;
}

}  // namespace smtpsim::reference::client
