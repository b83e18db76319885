#include "simulator/reference/server_tls.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/tls/cert_check.hpp"
#include "simulator/tls/pki.hpp"

namespace smtpsim::reference {
namespace {

const tls::test_pki& pki() {
  static const tls::test_pki p = tls::make_test_pki();
  return p;
}

const std::vector<std::string> names = {"mx.test", "localhost"};

// checks runs the client's certificate checks on what a listener with `faults` presents.
script::cert_checks checks(const fault_set& faults) {
  const server_identity id = identity_for(plan_server_tls(faults), pki());
  return tls::check_server_certs(tls::der_chain(id.chain_pem), pki().ca_pem(), "mx.test");
}

TEST(ServerTls, ConformantPlanServesTheValidChainFromTls12AndEverySni) {
  const server_tls_plan plan = plan_server_tls({});
  EXPECT_EQ(plan.cert_name, "server");
  EXPECT_TRUE(plan.send_chain);
  EXPECT_FALSE(plan.legacy_tls);
  EXPECT_FALSE(uses_own_certificate(plan));
  EXPECT_FALSE(sni_refusal(plan, "", names));
  EXPECT_FALSE(sni_refusal(plan, "unknown.invalid", names));
  const script::cert_checks c = checks({});
  EXPECT_EQ(c.chain_complete, true);
  EXPECT_EQ(c.name_matches, true);
  EXPECT_EQ(c.cert_current, true);
  EXPECT_EQ(c.purpose_sslserver, true);
  EXPECT_TRUE(plan.select_by_sni);
}

// The TLS faults are decided here rather than in server_session, but each still gets its
// ServerSessionFault test (EveryFaultHasItsOwnTest).

TEST(ServerSessionFault, AcceptLegacyTls) {
  EXPECT_TRUE(plan_server_tls({fault::accept_legacy_tls}).legacy_tls);
}

TEST(ServerSessionFault, SendLeafWithoutChain) {
  const server_tls_plan plan = plan_server_tls({fault::send_leaf_without_chain});
  EXPECT_TRUE(uses_own_certificate(plan));
  EXPECT_EQ(identity_for(plan, pki()).chain_pem, pki().at("server").cert_pem);
  const script::cert_checks c = checks({fault::send_leaf_without_chain});
  EXPECT_EQ(c.chain_complete, false);
  EXPECT_EQ(c.name_matches, true);
  EXPECT_EQ(c.cert_current, true);
  EXPECT_EQ(c.purpose_sslserver, true);
}

TEST(ServerSessionFault, ServeExpiredCert) {
  const script::cert_checks c = checks({fault::serve_expired_cert});
  EXPECT_EQ(c.cert_current, false);
  EXPECT_EQ(c.chain_complete, true);
  EXPECT_EQ(c.name_matches, true);
  EXPECT_EQ(c.purpose_sslserver, true);
}

TEST(ServerSessionFault, ServeWrongNameCert) {
  const script::cert_checks c = checks({fault::serve_wrong_name_cert});
  EXPECT_EQ(c.name_matches, false);
  EXPECT_EQ(c.chain_complete, true);
  EXPECT_EQ(c.cert_current, true);
  EXPECT_EQ(c.purpose_sslserver, true);
}

TEST(ServerSessionFault, ServeClientAuthOnlyCert) {
  const script::cert_checks c = checks({fault::serve_client_auth_only_cert});
  EXPECT_EQ(c.purpose_sslserver, false);
  EXPECT_EQ(c.chain_complete, true);
  EXPECT_EQ(c.name_matches, true);
  EXPECT_EQ(c.cert_current, true);
}

TEST(ServerSessionFault, AbortOnUnknownSni) {
  const server_tls_plan plan = plan_server_tls({fault::abort_on_unknown_sni});
  EXPECT_TRUE(sni_refusal(plan, "unknown.invalid", names));
  EXPECT_FALSE(sni_refusal(plan, "MX.test", names));  // RFC 4343: names ignore case
  EXPECT_FALSE(sni_refusal(plan, "", names));
  EXPECT_TRUE(sni_policy(plan, names).needed());
}

TEST(ServerSessionFault, AbortWithoutSni) {
  const server_tls_plan plan = plan_server_tls({fault::abort_without_sni});
  EXPECT_TRUE(sni_refusal(plan, "", names));
  EXPECT_FALSE(sni_refusal(plan, "unknown.invalid", names));
  EXPECT_FALSE(sni_refusal(plan, "mx.test", names));
  EXPECT_TRUE(sni_policy(plan, names).needed());
}

TEST(ServerTls, AltNameSelectsItsOwnChain) {
  const server_tls_plan plan = plan_server_tls({});
  EXPECT_TRUE(selects_alt_chain(plan, "ALT.mx.test"));
  EXPECT_FALSE(selects_alt_chain(plan, "mx.test"));
  EXPECT_FALSE(selects_alt_chain(plan, ""));
  const server_identity id = identity_for(plan, pki(), sni_alt_cert);
  const script::cert_checks c = tls::check_server_certs(tls::der_chain(id.chain_pem),
                                                        pki().ca_pem(), "mx.test", sni_alt_name);
  EXPECT_EQ(c.sni_matches, true);
  EXPECT_EQ(c.chain_complete, true);
}

TEST(ServerSessionFault, IgnoreSniChain) {
  EXPECT_FALSE(selects_alt_chain(plan_server_tls({fault::ignore_sni_chain}), sni_alt_name));
}

}  // namespace
}  // namespace smtpsim::reference
