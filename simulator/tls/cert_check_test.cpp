#include "simulator/tls/cert_check.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/tls/test_pki_fixture.hpp"

namespace smtpsim::tls {
namespace {

script::cert_checks check(const std::string& pem, const std::string& name = "mx.test") {
  const test_pki& pki = shared_test_pki();
  return check_server_certs(der_chain(pem), pki.ca_pem(), name);
}

TEST(CertCheck, ValidChainPassesEveryCheck) {
  const auto c = check(shared_test_pki().at("server").chain_pem);
  EXPECT_EQ(c.chain_complete, true);
  EXPECT_EQ(c.name_matches, true);
  EXPECT_EQ(c.cert_current, true);
  EXPECT_EQ(c.purpose_sslserver, true);
  EXPECT_TRUE(c.problems.empty()) << c.problems.front();
  EXPECT_EQ(c.name, "mx.test");
}

TEST(CertCheck, LeafWithoutIntermediateIsIncomplete) {
  const auto c = check(shared_test_pki().at("server").cert_pem);
  EXPECT_EQ(c.chain_complete, false);
  EXPECT_EQ(c.name_matches, true);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_NE(c.problems.front().find("local issuer"), std::string::npos) << c.problems.front();
}

TEST(CertCheck, ExpiredIsNotCurrentButItsChainIsComplete) {
  const auto c = check(shared_test_pki().at("expired").chain_pem);
  EXPECT_EQ(c.cert_current, false);
  EXPECT_EQ(c.chain_complete, true);
}

TEST(CertCheck, WrongNameDoesNotMatch) {
  const auto c = check(shared_test_pki().at("wrong-name").chain_pem);
  EXPECT_EQ(c.name_matches, false);
  EXPECT_EQ(c.chain_complete, true);
  EXPECT_EQ(check(shared_test_pki().at("wrong-name").chain_pem, "wrong-name.test").name_matches,
            true);
}

TEST(CertCheck, CommonNameIsIgnoredWhenThereIsADnsSan) {
  EXPECT_EQ(check(shared_test_pki().at("san-mismatch").chain_pem, "localhost").name_matches, false);
}

TEST(CertCheck, IpLiteralIsCheckedAgainstIpSans) {
  EXPECT_EQ(check(shared_test_pki().at("server").chain_pem, "127.0.0.1").name_matches, true);
  EXPECT_EQ(check(shared_test_pki().at("server").chain_pem, "192.0.2.1").name_matches, false);
}

TEST(CertCheck, SniIsCheckedApartFromTheServerName) {
  const test_pki& pki = shared_test_pki();
  const auto alt = check_server_certs(der_chain(pki.at("sni-alt").chain_pem), pki.ca_pem(),
                                      "mx.test", "alt.mx.test");
  EXPECT_EQ(alt.sni_matches, true);
  EXPECT_EQ(alt.name_matches, false);
  const auto main = check_server_certs(der_chain(pki.at("server").chain_pem), pki.ca_pem(),
                                       "mx.test", "alt.mx.test");
  EXPECT_EQ(main.sni_matches, false);
  EXPECT_FALSE(check(pki.at("server").chain_pem).sni_matches);  // no SNI: not checked
}

TEST(CertCheck, ClientAuthOnlyFailsTheServerPurpose) {
  const auto c = check(shared_test_pki().at("client-auth-only").chain_pem);
  EXPECT_EQ(c.purpose_sslserver, false);
  EXPECT_EQ(c.chain_complete, true);
}

TEST(CertCheck, UntrustedRootIsNotComplete) {
  EXPECT_EQ(check(shared_test_pki().at("untrusted").chain_pem).chain_complete, false);
}

TEST(CertCheck, NothingToCheckLeavesEverythingUnset) {
  const auto none = check_server_certs({}, shared_test_pki().ca_pem(), "mx.test");
  EXPECT_FALSE(none.chain_complete || none.name_matches || none.cert_current ||
               none.purpose_sslserver);
  const auto garbage = check_server_certs({"not DER"}, shared_test_pki().ca_pem(), "mx.test");
  EXPECT_FALSE(garbage.chain_complete);
  const auto no_trust =
      check_server_certs(der_chain(shared_test_pki().at("server").chain_pem), "", "");
  EXPECT_FALSE(no_trust.chain_complete);
  EXPECT_FALSE(no_trust.name_matches);
  EXPECT_EQ(no_trust.cert_current, true);
}

}  // namespace
}  // namespace smtpsim::tls
