#pragma once
// server_tls decides the reference server's TLS parameters (checks.md A10): which test-PKI
// certificate it presents, whether the intermediates go with it, its protocol floor, and what it
// does with the name the client asks for (SNI). The decisions are plain functions of the
// listener's faults, so the socket server (reference_server) and the in-memory loopback of the
// tests take the same ones. This header includes no Asio or OpenSSL header.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/reference/fault.hpp"
#include "simulator/tls/pki.hpp"

using SSL_CTX = struct ssl_ctx_st;  // NOLINT

namespace smtpsim::reference {

// server_tls_plan is what a listener's TLS looks like.
struct server_tls_plan {
  std::string cert_name = "server";  // the test PKI certificate presented
  bool send_chain = true;            // send the intermediates with the leaf
  // legacy_tls: the protocol floor is TLS 1.0 (accept_legacy_tls) instead of TLS 1.2, the floor
  // of RFC 8996 and RFC 8997.
  bool legacy_tls = false;
  bool abort_on_unknown_sni = false;
  bool abort_without_sni = false;
  // select_by_sni: a ClientHello asking for sni_alt_name gets the sni_alt_cert chain
  // (tls_server_sni_maps); false with ignore_sni_chain.
  bool select_by_sni = true;
};

// sni_alt_name is the name the reference server holds a second chain for, and sni_alt_cert that
// chain's test PKI certificate (checks.md tls.sni-selects-chain). The built-in target binds it as
// ${sni_alt_name}.
inline constexpr std::string_view sni_alt_name = "alt.mx.test";
inline constexpr std::string_view sni_alt_cert = "sni-alt";

// plan_server_tls returns the plan for a listener with `faults`.
server_tls_plan plan_server_tls(const fault_set& faults);

// uses_own_certificate is true when `plan` needs the test PKI rather than an operator-given
// certificate (`smtpsim serve --cert`): a certificate fault, or a chain left out.
bool uses_own_certificate(const server_tls_plan& plan);

// server_identity is the certificate chain (PEM, leaf first) and key a listener presents.
struct server_identity {
  std::string chain_pem;
  std::string key_pem;
};

// identity_for picks the plan's certificate from `pki`: its chain (leaf + intermediates) or, with
// send_chain false, the leaf alone. `cert_name` overrides the plan's certificate (the SNI chain).
// Throws std::out_of_range for a name the PKI lacks.
server_identity identity_for(const server_tls_plan& plan, const tls::test_pki& pki,
                             std::string_view cert_name = {});

// selects_alt_chain is true when a ClientHello asking for `sni` gets the sni_alt_cert chain.
bool selects_alt_chain(const server_tls_plan& plan, std::string_view sni);

// sni_refusal returns why a handshake that asked for `sni` ("" = no SNI) is aborted with a
// fatal unrecognized_name alert, or nullopt when the server continues with its chain (the
// conformant server always continues: postconf smtp_tls_servername, "Such servers should select
// a default certificate chain and continue the handshake"). `names` are the names the server
// answers to; the comparison ignores case (RFC 4343).
std::optional<std::string> sni_refusal(const server_tls_plan& plan, std::string_view sni,
                                       const std::vector<std::string>& names);

// sni_policy applies sni_refusal and selects_alt_chain inside OpenSSL's handshake: install() sets
// a servername callback on `ctx` (OpenSSL calls it for every ClientHello, with or without SNI),
// which switches the handshake to `alt_ctx` (SSL_set_SSL_CTX) for the alternative name. The
// policy and both contexts must outlive every handshake on `ctx`.
class sni_policy {
 public:
  sni_policy(server_tls_plan plan, std::vector<std::string> names)
      : plan_(std::move(plan)), names_(std::move(names)) {}
  // needed is false when the plan never refuses or switches: nothing to install.
  bool needed() const {
    return plan_.abort_on_unknown_sni || plan_.abort_without_sni || plan_.select_by_sni;
  }
  void install(SSL_CTX* ctx, SSL_CTX* alt_ctx);
  SSL_CTX* alt_ctx() const { return alt_ctx_; }
  const server_tls_plan& plan() const { return plan_; }
  // refuses applies sni_refusal to `sni` ("" = none).
  bool refuses(std::string_view sni) const;

 private:
  server_tls_plan plan_;
  std::vector<std::string> names_;
  SSL_CTX* alt_ctx_ = nullptr;
};

}  // namespace smtpsim::reference
