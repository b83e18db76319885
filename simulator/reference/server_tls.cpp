#include "simulator/reference/server_tls.hpp"

#include <algorithm>

#include <openssl/ssl.h>
#include <openssl/tls1.h>

#include "simulator/protocol/text.hpp"

namespace smtpsim::reference {

server_tls_plan plan_server_tls(const fault_set& faults) {
  server_tls_plan plan;
  if (faults.has(fault::accept_legacy_tls)) {
    plan.legacy_tls = true;
  }
  if (faults.has(fault::send_leaf_without_chain)) {
    plan.send_chain = false;
  }
  if (faults.has(fault::serve_expired_cert)) {
    plan.cert_name = "expired";
  } else if (faults.has(fault::serve_wrong_name_cert)) {
    plan.cert_name = "wrong-name";
  } else if (faults.has(fault::serve_client_auth_only_cert)) {
    plan.cert_name = "client-auth-only";
  }
  plan.abort_on_unknown_sni = faults.has(fault::abort_on_unknown_sni);
  plan.abort_without_sni = faults.has(fault::abort_without_sni);
  plan.select_by_sni = !faults.has(fault::ignore_sni_chain);
  return plan;
}

bool uses_own_certificate(const server_tls_plan& plan) {
  return plan.cert_name != "server" || !plan.send_chain;
}

server_identity identity_for(const server_tls_plan& plan, const tls::test_pki& pki,
                             std::string_view cert_name) {
  const tls::issued_cert& cert =
      pki.at(cert_name.empty() ? plan.cert_name : std::string(cert_name));
  return {plan.send_chain && !cert.chain_pem.empty() ? cert.chain_pem : cert.cert_pem,
          cert.key_pem};
}

bool selects_alt_chain(const server_tls_plan& plan, std::string_view sni) {
  return plan.select_by_sni && protocol::iequals(sni, sni_alt_name);
}

std::optional<std::string> sni_refusal(const server_tls_plan& plan, std::string_view sni,
                                       const std::vector<std::string>& names) {
  if (sni.empty()) {
    if (plan.abort_without_sni) {
      return "the ClientHello carries no SNI";
    }
    return std::nullopt;
  }
  const bool known = std::any_of(names.begin(), names.end(),
                                 [sni](const std::string& n) { return protocol::iequals(n, sni); });
  if (!known && plan.abort_on_unknown_sni) {
    return "the SNI " + std::string(sni) + " is not one of the server's names";
  }
  return std::nullopt;
}

namespace {

int on_servername(SSL* ssl, int* alert, void* arg) {
  const auto* policy = static_cast<const sni_policy*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const std::string_view sni = name == nullptr ? std::string_view() : std::string_view(name);
  if (policy->refuses(sni)) {
    *alert = TLS1_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (policy->alt_ctx() != nullptr && selects_alt_chain(policy->plan(), sni) &&
      SSL_set_SSL_CTX(ssl, policy->alt_ctx()) == nullptr) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

bool sni_policy::refuses(std::string_view sni) const {
  return sni_refusal(plan_, sni, names_).has_value();
}

void sni_policy::install(SSL_CTX* ctx, SSL_CTX* alt_ctx) {
  alt_ctx_ = alt_ctx;
  // SSL_CTX_set_tlsext_servername_callback/_arg, spelled out: the macros' C casts trip
  // -Wold-style-cast. void(*)(void) is the generic function pointer type OpenSSL takes.
  SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)(void)>(on_servername));
  SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG, 0, this);
}

}  // namespace smtpsim::reference
