#include "simulator/tls/context.hpp"

#include <chrono>
#include <regex>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "simulator/tls/test_pki_fixture.hpp"

namespace smtpsim::tls {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// handshake_outcome is both sides of one handshake attempt.
struct handshake_outcome {
  bool client_done = false;
  bool server_done = false;
  error_code client_error;
  error_code server_error;
  script::tls_facts client;
  script::tls_facts server;
};

// run_handshake connects a client and a server context over loopback and runs both handshakes
// on one io_context, so that a hang is a bounded test failure rather than a stuck test binary.
// A side whose handshake fails half-closes its socket, so that the peer sees EOF at worst.
handshake_outcome run_handshake(const tls_config& client_config, const tls_config& server_config,
                                const std::string& sni = "mx.test") {
  asio::ssl::context client_context = make_client_context(client_config);
  asio::ssl::context server_context = make_server_context(server_config);
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  asio::ssl::stream<tcp::socket> server(io, server_context);
  asio::ssl::stream<tcp::socket> client(io, client_context);
  prepare_session(server.native_handle(), "");
  prepare_session(client.native_handle(), sni);

  handshake_outcome out;
  acceptor.async_accept(server.next_layer(), [&](error_code accept_error) {
    if (accept_error) {
      out.server_error = accept_error;
      return;
    }
    server.async_handshake(asio::ssl::stream_base::server, [&](error_code error) {
      out.server_error = error;
      out.server_done = true;
      if (error) {
        error_code ignored;
        server.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
      }
    });
  });
  client.next_layer().async_connect(acceptor.local_endpoint(), [&](error_code connect_error) {
    if (connect_error) {
      out.client_error = connect_error;
      return;
    }
    client.async_handshake(asio::ssl::stream_base::client, [&](error_code error) {
      out.client_error = error;
      out.client_done = true;
      if (error) {
        error_code ignored;
        client.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
      }
    });
  });
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(out.client_done) << "client handshake did not finish";
  EXPECT_TRUE(out.server_done) << "server handshake did not finish";
  out.client = session_facts(client.native_handle());
  out.server = session_facts(server.native_handle());
  ERR_clear_error();  // Asio leaves the rest of a failed handshake's errors queued
  return out;
}

tls_config server_config(const std::string& cert = "server") {
  const issued_cert& ic = shared_test_pki().at(cert);
  tls_config config;
  config.cert_chain_pem = ic.chain_pem;
  config.key_pem = ic.key_pem;
  return config;
}

tls_config client_config() {
  tls_config config;
  config.trust_pem = shared_test_pki().ca_pem();
  return config;
}

tls_config with_client_cert(tls_config config, const std::string& cert) {
  const issued_cert& ic = shared_test_pki().at(cert);
  config.cert_chain_pem = ic.chain_pem;
  config.key_pem = ic.key_pem;
  return config;
}

const std::regex iso8601_utc("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$");

TEST(ParseTlsVersion, AcceptsNumbersAndOpenSslNames) {
  EXPECT_EQ(parse_tls_version("1.0"), tls_version::tls1_0);
  EXPECT_EQ(parse_tls_version("TLSv1"), tls_version::tls1_0);
  EXPECT_EQ(parse_tls_version("TLSv1.0"), tls_version::tls1_0);
  EXPECT_EQ(parse_tls_version("1.1"), tls_version::tls1_1);
  EXPECT_EQ(parse_tls_version("TLSv1.2"), tls_version::tls1_2);
  EXPECT_EQ(parse_tls_version("tls1.2"), tls_version::tls1_2);
  EXPECT_EQ(parse_tls_version("1.3"), tls_version::tls1_3);
  EXPECT_EQ(parse_tls_version("TLSv1.3"), tls_version::tls1_3);
  for (const char* bad : {"", "1.4", "SSLv3", "TLSv", "TLSv1.2 ", "2"}) {
    EXPECT_EQ(parse_tls_version(bad), std::nullopt) << bad;
  }
}

TEST(ParseTlsVersion, RoundTripsToString) {
  for (const tls_version v :
       {tls_version::tls1_0, tls_version::tls1_1, tls_version::tls1_2, tls_version::tls1_3}) {
    EXPECT_EQ(parse_tls_version(to_string(v)), v) << to_string(v);
  }
  EXPECT_EQ(to_string(tls_version::tls1_2), "TLSv1.2");
  EXPECT_EQ(to_string(tls_version::tls1_0), "TLSv1");  // as SSL_get_version and Postfix say
}

TEST(MakeContext, RejectsBadConfigurationWithOpenSslText) {
  tls_config garbage = server_config();
  garbage.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_THROW(make_server_context(garbage), std::runtime_error);

  tls_config mismatched = server_config();
  mismatched.key_pem = shared_test_pki().at("client1").key_pem;
  try {
    make_server_context(mismatched);
    FAIL() << "a key that does not match the certificate was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("SSL_CTX_use_cert_and_key"), std::string::npos)
        << e.what();
  }

  tls_config no_key = server_config();
  no_key.key_pem.clear();
  EXPECT_THROW(make_server_context(no_key), std::runtime_error);

  tls_config bad_trust = client_config();
  bad_trust.trust_pem = "no certificates here";
  EXPECT_THROW(make_client_context(bad_trust), std::runtime_error);

  tls_config inverted;
  inverted.min_version = tls_version::tls1_3;
  inverted.max_version = tls_version::tls1_2;
  EXPECT_THROW(make_client_context(inverted), std::runtime_error);

  tls_config bad_ciphers;
  bad_ciphers.cipher_list = "NO-SUCH-CIPHER";
  EXPECT_THROW(make_client_context(bad_ciphers), std::runtime_error);
  bad_ciphers = {};
  bad_ciphers.ciphersuites = "TLS_NO_SUCH_SUITE";
  EXPECT_THROW(make_client_context(bad_ciphers), std::runtime_error);

  EXPECT_EQ(openssl_error_text(), "");  // every failure drained the queue
}

TEST(MakeContext, LowersSecurityLevelOnlyForLegacyVersions) {
  tls_config modern;
  EXPECT_GE(SSL_CTX_get_security_level(make_client_context(modern).native_handle()), 1);
  modern.min_version = tls_version::tls1_2;
  EXPECT_GE(SSL_CTX_get_security_level(make_client_context(modern).native_handle()), 1);
  tls_config legacy;
  legacy.min_version = tls_version::tls1_1;
  EXPECT_EQ(SSL_CTX_get_security_level(make_client_context(legacy).native_handle()), 0);
}

TEST(OpenSslErrorText, DrainsTheQueueIntoOneLine) {
  EXPECT_EQ(openssl_error_text(), "");
  ERR_raise(ERR_LIB_SSL, SSL_R_UNSUPPORTED_PROTOCOL);
  ERR_raise(ERR_LIB_SSL, SSL_R_NO_CIPHERS_AVAILABLE);
  const std::string text = openssl_error_text();
  EXPECT_NE(text.find("unsupported protocol"), std::string::npos) << text;
  EXPECT_NE(text.find("; "), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(openssl_error_text(), "");
}

class TlsHandshake : public testing::TestWithParam<tls_version> {
 protected:
  tls_config capped(tls_config config) const {
    config.max_version = GetParam();
    return config;
  }
  std::string expected_version() const { return std::string(to_string(GetParam())); }
};

TEST_P(TlsHandshake, ReportsVersionCipherSniAndServerChain) {
  const handshake_outcome out = run_handshake(capped(client_config()), server_config());
  ASSERT_FALSE(out.client_error) << out.client_error.message();
  ASSERT_FALSE(out.server_error) << out.server_error.message();
  const test_pki& pki = shared_test_pki();

  for (const script::tls_facts* facts : {&out.client, &out.server}) {
    EXPECT_TRUE(facts->established);
    EXPECT_EQ(facts->version, expected_version());
    EXPECT_FALSE(facts->cipher.empty());
    EXPECT_EQ(facts->sni, "mx.test");
    EXPECT_EQ(facts->alert_received, "");
    EXPECT_EQ(facts->alert_sent, "");
    EXPECT_FALSE(facts->client_cert_requested);
    EXPECT_FALSE(facts->client_cert_sent);
  }
  EXPECT_EQ(out.client.cipher, out.server.cipher);
  EXPECT_TRUE(out.server.peer_chain.empty());

  EXPECT_TRUE(out.client.peer_verified) << out.client.verify_error;
  EXPECT_EQ(out.client.verify_error, "");
  ASSERT_EQ(out.client.peer_chain.size(), 2u);
  const script::cert_info& leaf = out.client.peer_chain[0];
  EXPECT_EQ(leaf.sha256, pki.at("server").fingerprints.cert_sha256);
  EXPECT_EQ(leaf.pubkey_sha256, pki.at("server").fingerprints.pubkey_sha256);
  EXPECT_EQ(leaf.subject, "CN=localhost,O=smtpsim test PKI");
  EXPECT_EQ(leaf.issuer, "CN=smtpsim test intermediate CA,O=smtpsim test PKI");
  EXPECT_EQ(leaf.dns_names, (std::vector<std::string>{"localhost", "mx.test"}));
  EXPECT_EQ(leaf.ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_FALSE(leaf.self_signed);
  EXPECT_EQ(leaf.serial.size(), 32u);
  EXPECT_TRUE(std::regex_match(leaf.not_before, iso8601_utc)) << leaf.not_before;
  EXPECT_TRUE(std::regex_match(leaf.not_after, iso8601_utc)) << leaf.not_after;
  EXPECT_LT(leaf.not_before, leaf.not_after);
  EXPECT_EQ(out.client.peer_chain[1].sha256, pki.at("intermediate").fingerprints.cert_sha256);
}

TEST_P(TlsHandshake, ReportsARequestedClientCertificateOnBothSides) {
  tls_config server = server_config();
  server.request_client_cert = true;  // no trust store: any certificate is accepted
  const handshake_outcome out =
      run_handshake(capped(with_client_cert(client_config(), "client1")), server);
  ASSERT_FALSE(out.client_error) << out.client_error.message();
  ASSERT_FALSE(out.server_error) << out.server_error.message();
  EXPECT_EQ(out.server.version, expected_version());
  EXPECT_TRUE(out.client.client_cert_requested);
  EXPECT_TRUE(out.client.client_cert_sent);
  ASSERT_EQ(out.server.peer_chain.size(), 1u);
  const fingerprint_set& client1 = shared_test_pki().at("client1").fingerprints;
  EXPECT_EQ(out.server.peer_chain[0].sha256, client1.cert_sha256);
  EXPECT_EQ(out.server.peer_chain[0].pubkey_sha256, client1.pubkey_sha256);
  EXPECT_EQ(out.server.peer_chain[0].dns_names, std::vector<std::string>{"client1.test"});
  EXPECT_FALSE(out.server.peer_verified);
  EXPECT_EQ(out.server.verify_error, "unable to get local issuer certificate");
}

TEST_P(TlsHandshake, VerifiesAClientCertificateAgainstTheTrustStore) {
  tls_config server = server_config();
  server.request_client_cert = true;
  server.trust_pem = shared_test_pki().ca_pem();
  const handshake_outcome out =
      run_handshake(capped(with_client_cert(client_config(), "client1-reissued")), server);
  ASSERT_FALSE(out.server_error) << out.server_error.message();
  ASSERT_EQ(out.server.peer_chain.size(), 1u);
  EXPECT_TRUE(out.server.peer_verified) << out.server.verify_error;
  EXPECT_EQ(out.server.peer_chain[0].pubkey_sha256,
            shared_test_pki().at("client1").fingerprints.pubkey_sha256);
}

TEST_P(TlsHandshake, ClientWithoutCertificateAnswersARequestWithNone) {
  tls_config server = server_config();
  server.request_client_cert = true;
  const handshake_outcome out = run_handshake(capped(client_config()), server);
  ASSERT_FALSE(out.client_error) << out.client_error.message();
  ASSERT_FALSE(out.server_error) << out.server_error.message();
  EXPECT_TRUE(out.client.client_cert_requested);
  EXPECT_FALSE(out.client.client_cert_sent);
  EXPECT_TRUE(out.server.peer_chain.empty());
  EXPECT_FALSE(out.server.peer_verified);
}

TEST_P(TlsHandshake, RequiredClientCertificateMissingFailsOnTheServer) {
  tls_config server = server_config();
  server.require_client_cert = true;
  const handshake_outcome out = run_handshake(capped(client_config()), server);
  EXPECT_TRUE(out.server_error);
  EXPECT_FALSE(out.server.established);
  // TLS 1.3 names the problem (RFC 8446 §4.4.2.4); TLS 1.2 has only handshake_failure.
  EXPECT_EQ(out.server.alert_sent,
            GetParam() == tls_version::tls1_3 ? "certificate_required" : "handshake_failure");
}

TEST_P(TlsHandshake, RecordsAnUntrustedServerWithoutAborting) {
  const handshake_outcome out =
      run_handshake(capped(client_config()), server_config("self-signed"));
  ASSERT_FALSE(out.client_error) << out.client_error.message();
  EXPECT_TRUE(out.client.established);
  EXPECT_FALSE(out.client.peer_verified);
  EXPECT_FALSE(out.client.verify_error.empty());
  ASSERT_EQ(out.client.peer_chain.size(), 1u);
  EXPECT_TRUE(out.client.peer_chain[0].self_signed);
  EXPECT_EQ(out.client.peer_chain[0].sha256,
            shared_test_pki().at("self-signed").fingerprints.cert_sha256);
}

TEST_P(TlsHandshake, VerifyPeerAbortsOnAnExpiredServer) {
  tls_config client = capped(client_config());
  client.verify_peer = true;
  const handshake_outcome out = run_handshake(client, server_config("expired"));
  EXPECT_TRUE(out.client_error);
  EXPECT_TRUE(out.server_error);
  EXPECT_FALSE(out.client.established);
  EXPECT_EQ(out.client.verify_error, "certificate has expired");
  EXPECT_EQ(out.client.alert_sent, "certificate_expired");
  EXPECT_EQ(out.server.alert_received, "certificate_expired");
  ASSERT_FALSE(out.client.peer_chain.empty());  // the chain is known even after the abort
  EXPECT_EQ(out.client.peer_chain[0].sha256,
            shared_test_pki().at("expired").fingerprints.cert_sha256);
}

TEST_P(TlsHandshake, RecordsAnIncompleteChain) {
  tls_config server = server_config();
  server.cert_chain_pem = shared_test_pki().at("server").cert_pem;  // leaf only
  const handshake_outcome out = run_handshake(capped(client_config()), server);
  ASSERT_FALSE(out.client_error) << out.client_error.message();
  EXPECT_EQ(out.client.peer_chain.size(), 1u);
  EXPECT_FALSE(out.client.peer_verified);
  EXPECT_EQ(out.client.verify_error, "unable to get local issuer certificate");
}

TEST_P(TlsHandshake, ServerAcceptsUnknownAndMissingSni) {
  const handshake_outcome unknown =
      run_handshake(capped(client_config()), server_config(), "unknown.invalid");
  EXPECT_FALSE(unknown.server_error) << unknown.server_error.message();
  EXPECT_EQ(unknown.server.sni, "unknown.invalid");
  const handshake_outcome none = run_handshake(capped(client_config()), server_config(), "");
  EXPECT_FALSE(none.server_error) << none.server_error.message();
  EXPECT_EQ(none.server.sni, "");
  EXPECT_EQ(none.client.sni, "");
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsHandshake,
                         testing::Values(tls_version::tls1_2, tls_version::tls1_3),
                         [](const testing::TestParamInfo<tls_version>& param) {
                           return param.param == tls_version::tls1_2 ? "Tls12" : "Tls13";
                         });

TEST(TlsHandshakeFailure, VersionMismatchReportsProtocolVersionAlert) {
  tls_config client = client_config();
  client.max_version = tls_version::tls1_2;
  tls_config server = server_config();
  server.min_version = tls_version::tls1_3;
  const handshake_outcome out = run_handshake(client, server);
  EXPECT_TRUE(out.client_error);
  EXPECT_TRUE(out.server_error);
  EXPECT_FALSE(out.client.established);
  EXPECT_FALSE(out.server.established);
  EXPECT_EQ(out.server.alert_sent, "protocol_version");
  EXPECT_EQ(out.client.alert_received, "protocol_version");
  EXPECT_EQ(out.server.sni, "mx.test");  // seen in the ClientHello before the failure
  EXPECT_EQ(out.server.version, "");
}

TEST(TlsHandshakeFailure, LegacyVersionsNeedAnExplicitMinimum) {
  tls_config legacy_server = server_config();
  legacy_server.min_version = tls_version::tls1_0;
  legacy_server.max_version = tls_version::tls1_1;
  const handshake_outcome refused = run_handshake(client_config(), legacy_server);
  EXPECT_TRUE(refused.client_error);
  EXPECT_FALSE(refused.client.established);

  tls_config legacy_client = client_config();
  legacy_client.min_version = tls_version::tls1_0;
  const handshake_outcome accepted = run_handshake(legacy_client, legacy_server);
  ASSERT_FALSE(accepted.client_error) << accepted.client_error.message();
  EXPECT_EQ(accepted.client.version, "TLSv1.1");
  EXPECT_EQ(accepted.server.version, "TLSv1.1");
}

TEST(TlsCiphers, CipherListAndCiphersuitesAreApplied) {
  tls_config client12 = client_config();
  client12.max_version = tls_version::tls1_2;
  client12.cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256";
  const handshake_outcome tls12 = run_handshake(client12, server_config());
  ASSERT_FALSE(tls12.client_error) << tls12.client_error.message();
  EXPECT_EQ(tls12.client.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");

  tls_config client13 = client_config();
  client13.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
  const handshake_outcome tls13 = run_handshake(client13, server_config());
  ASSERT_FALSE(tls13.client_error) << tls13.client_error.message();
  EXPECT_EQ(tls13.server.cipher, "TLS_CHACHA20_POLY1305_SHA256");
}

TEST(SessionFacts, IsEmptyBeforeAnyHandshake) {
  asio::io_context io;
  asio::ssl::context context = make_client_context(client_config());
  asio::ssl::stream<tcp::socket> stream(io, context);
  prepare_session(stream.native_handle(), "mx.test");
  prepare_session(stream.native_handle(), "mx.test");  // a second call starts over, no leak
  const script::tls_facts facts = session_facts(stream.native_handle());
  EXPECT_FALSE(facts.established);
  EXPECT_EQ(facts.version, "");
  EXPECT_EQ(facts.sni, "mx.test");
  EXPECT_TRUE(facts.peer_chain.empty());
  EXPECT_FALSE(facts.peer_verified);
}

}  // namespace
}  // namespace smtpsim::tls
