#include "simulator/tls/cert_check.hpp"

#include <exception>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "simulator/tls/openssl_util.hpp"

#include <arpa/inet.h>

namespace smtpsim::tls {

namespace {

x509_ptr parse_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  x509_ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  return cert;
}

bool is_ip_literal(std::string_view name) {
  unsigned char buf[16];
  const std::string text(name);
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// verify_chain runs X509_verify_cert on the leaf with the sent intermediates as untrusted
// certificates and `trust_pem` as the only trust anchors. Returns "" when it verifies, else
// OpenSSL's reason with the depth.
std::string verify_chain(const std::vector<x509_ptr>& certs, std::string_view trust_pem) {
  const x509_store_ptr store(X509_STORE_new());
  const x509_stack_ptr untrusted(sk_X509_new_null());
  const x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) {
    throw_openssl_error("X509_STORE_new");
  }
  for (const x509_ptr& root : read_certs_pem(trust_pem)) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      throw_openssl_error("X509_STORE_add_cert");
    }
  }
  for (std::size_t i = 1; i < certs.size(); ++i) {
    X509_up_ref(certs[i].get());
    if (sk_X509_push(untrusted.get(), certs[i].get()) == 0) {
      X509_free(certs[i].get());
      throw_openssl_error("sk_X509_push");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), certs.front().get(), untrusted.get()) != 1) {
    throw_openssl_error("X509_STORE_CTX_init");
  }
  // Expiry is tls.cert-validity's business, not the chain's.
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  const int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok == 1) {
    return {};
  }
  const int error = X509_STORE_CTX_get_error(ctx.get());
  return fmt::format("{} (at depth {})", X509_verify_cert_error_string(error),
                     X509_STORE_CTX_get_error_depth(ctx.get()));
}

// is_for: X509_check_host (a dNSName of the subjectAltName, the CN only when there is none), or
// X509_check_ip_asc for an IP literal.
bool is_for(X509* leaf, std::string_view name) {
  const std::string n(name);
  const int matched = is_ip_literal(name) ? X509_check_ip_asc(leaf, n.c_str(), 0)
                                          : X509_check_host(leaf, n.data(), n.size(), 0, nullptr);
  ERR_clear_error();
  return matched == 1;
}

// dns_names lists the leaf's DNS subjectAltNames for evidence ("none" without any).
std::string dns_names(X509* leaf) {
  std::string listed;
  for (const auto& dns : subject_alt_names(leaf).dns_names) {
    listed += (listed.empty() ? "" : ", ") + dns;
  }
  return listed.empty() ? "none" : listed;
}

// validity_problem returns "" when `cert` is valid now, else a sentence.
std::string validity_problem(X509* cert) {
  const std::string subject = name_to_rfc2253(X509_get_subject_name(cert));
  if (X509_cmp_time(X509_get0_notBefore(cert), nullptr) >= 0) {
    return fmt::format("{} is not valid before {}", subject,
                       time_to_iso8601(X509_get0_notBefore(cert)));
  }
  if (X509_cmp_time(X509_get0_notAfter(cert), nullptr) <= 0) {
    return fmt::format("{} expired at {}", subject, time_to_iso8601(X509_get0_notAfter(cert)));
  }
  return {};
}

}  // namespace

script::cert_checks check_server_certs(const std::vector<std::string>& chain,
                                       std::string_view trust_pem, std::string_view name,
                                       std::string_view sni) {
  script::cert_checks out;
  std::vector<x509_ptr> certs;
  for (const std::string& der : chain) {
    x509_ptr cert = parse_der(der);
    if (!cert) {
      return out;
    }
    certs.push_back(std::move(cert));
  }
  if (certs.empty()) {
    return out;
  }
  X509* leaf = certs.front().get();
  const std::string leaf_subject = name_to_rfc2253(X509_get_subject_name(leaf));

  if (!trust_pem.empty()) {
    std::string why;
    try {
      why = verify_chain(certs, trust_pem);
      out.chain_complete = why.empty();
    } catch (const std::exception& e) {
      out.problems.push_back(std::string("the chain could not be checked: ") + e.what());
    }
    if (out.chain_complete == false) {
      out.problems.push_back(fmt::format(
          "the {} certificate(s) sent do not verify against the trust anchors alone: {}",
          certs.size(), why));
    }
  }

  if (!name.empty()) {
    out.name = std::string(name);
    out.name_matches = is_for(leaf, name);
    if (!*out.name_matches) {
      out.problems.push_back(fmt::format("the leaf {} is not for {} (DNS names: {})", leaf_subject,
                                         name, dns_names(leaf)));
    }
  }
  if (!sni.empty()) {
    out.sni_matches = is_for(leaf, sni);
    if (!*out.sni_matches) {
      out.problems.push_back(fmt::format("the leaf {} is not for the SNI name {} (DNS names: {})",
                                         leaf_subject, sni, dns_names(leaf)));
    }
  }

  std::string expired;
  for (const x509_ptr& cert : certs) {
    std::string why = validity_problem(cert.get());
    if (!why.empty() && expired.empty()) {
      expired = std::move(why);
    }
  }
  out.cert_current = expired.empty();
  if (!expired.empty()) {
    out.problems.push_back(expired);
  }

  const int purpose = X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0);
  ERR_clear_error();
  out.purpose_sslserver = purpose == 1;
  if (purpose != 1) {
    out.problems.push_back(fmt::format(
        "the leaf {} is not usable as a TLS server certificate (purpose sslserver: its key usage "
        "or extended key usage excludes serverAuth)",
        leaf_subject));
  }
  return out;
}

std::vector<std::string> der_chain(std::string_view pem) {
  std::vector<std::string> out;
  for (const x509_ptr& cert : read_certs_pem(pem)) {
    unsigned char* raw = nullptr;
    const int len = i2d_X509(cert.get(), &raw);
    if (len < 0) {
      throw_openssl_error("i2d_X509");
    }
    const openssl_bytes_ptr owned(raw);
    out.emplace_back(reinterpret_cast<const char*>(raw), static_cast<std::size_t>(len));
  }
  return out;
}

}  // namespace smtpsim::tls
