#pragma once
// What a reference-server listener is and which policy it enforces. Plain data.

#include <cstdint>
#include <string>
#include <string_view>

namespace smtpsim::reference {

// listener_kind says how TLS starts on a listener.
enum class listener_kind : std::uint8_t {
  starttls,   // plaintext SMTP with the STARTTLS extension (RFC 3207), port 25/587 style
  wrapper,    // implicit TLS from the first byte (RFC 8314 §3.3), port 465 style
  plaintext,  // no TLS at all: STARTTLS is neither advertised nor implemented
};

std::string_view to_string(listener_kind k);  // "starttls", "wrapper", "plaintext"

// server_policy is the configured behaviour of one listener (Postfix's words in brackets).
struct server_policy {
  // tls_available is false when the listener advertises STARTTLS but its TLS engine is
  // unusable (e.g. an unreadable key): STARTTLS then gets 454 4.7.0 and the plaintext session
  // stays usable (RFC 3207 §4).
  bool tls_available = true;
  // tls_required refuses every command except NOOP, EHLO, STARTTLS and QUIT before TLS with
  // 530 5.7.0 (RFC 3207 §4; smtpd_tls_security_level = encrypt).
  bool tls_required = false;
  // plaintext_auth offers and accepts AUTH before TLS (smtpd_tls_auth_only = no). Without it,
  // AUTH exists only inside TLS (RFC 4954 §4, §9).
  bool plaintext_auth = false;
  // ask_client_cert sends a CertificateRequest in every handshake; a certificate is optional and
  // any is accepted, so that its fingerprint can be matched against relay_client_certs
  // (smtpd_tls_ask_ccert = yes; checks.md A7).
  bool ask_client_cert = false;
  // require_client_cert requests a client certificate in the handshake; if none is presented,
  // every command but QUIT gets 554 5.7.0 (RFC 3207 §4.1) (smtpd_tls_req_ccert).
  bool require_client_cert = false;
  // auth_required refuses MAIL from a client that has not authenticated with
  // 530 5.7.0 Authentication required (RFC 4954 §6; a submission listener).
  bool auth_required = false;
  // public_mx marks a publicly referenced MX, which MUST NOT require STARTTLS for local
  // delivery (RFC 3207 §4). Informational for the conformant server.
  bool public_mx = false;
};

// credentials is the one SASL account the server knows. An empty password never matches.
struct credentials {
  std::string user = "alice@mx.test";
  std::string password;
};

}  // namespace smtpsim::reference
