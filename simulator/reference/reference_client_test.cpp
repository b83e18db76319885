#include "simulator/reference/reference_client.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/reference/reference_server.hpp"
#include "simulator/tls/test_pki_fixture.hpp"

namespace smtpsim::reference::client {
namespace {

using namespace std::chrono_literals;

const std::string password = "s3cret";

// sink collects delivered messages from the server thread.
struct sink {
  std::mutex mutex;
  std::vector<delivered_message> messages;

  std::vector<delivered_message> snapshot() {
    std::lock_guard lock(mutex);
    return messages;
  }
};

bool logging() { return std::getenv("SMTPSIM_TEST_LOG") != nullptr; }

// loopback runs the reference server (optionally with faults) for one test.
struct loopback {
  explicit loopback(fault_set faults = {}) : out(std::make_shared<sink>()) {
    reference_options options;
    options.pki = tls::shared_test_pki();
    options.login.password = password;
    options.faults = faults;
    options.handshake_timeout = 3s;
    if (logging()) {
      options.on_log = [](std::string_view line) {
        std::fprintf(stderr, "server: %.*s\n", static_cast<int>(line.size()), line.data());
      };
    }
    options.on_delivery = [o = out](const delivered_message& m) {
      std::lock_guard lock(o->mutex);
      o->messages.push_back(m);
    };
    server = std::make_unique<reference_server>(std::move(options));
    server->start();
  }

  client_options client(const std::string& listener, tls_policy policy) const {
    client_options o;
    o.port = server->port(listener);
    o.timeout = 5s;
    o.session.policy = policy;
    o.session.wrapper = listener == "wrapper";
    o.session.message = "Subject: loopback\r\n\r\nhello\r\n";
    if (logging()) {
      o.on_log = [](std::string_view line) {
        std::fprintf(stderr, "client: %.*s\n", static_cast<int>(line.size()), line.data());
      };
    }
    return o;
  }

  std::shared_ptr<sink> out;
  std::unique_ptr<reference_server> server;
};

client_options with_ca(client_options o) {
  o.ca_pem = tls::shared_test_pki().ca_pem();
  return o;
}

TEST(ReferenceClient, EveryPolicyDeliversOverTheStartTlsListener) {
  loopback lb;
  for (tls_policy p : {tls_policy::none, tls_policy::may, tls_policy::encrypt, tls_policy::verify,
                       tls_policy::secure}) {
    const client_result r = run_reference_client(with_ca(lb.client("starttls", p)));
    EXPECT_EQ(r.exit_status, exit_delivered) << to_string(p) << ": " << r.message;
    EXPECT_EQ(r.used_tls, p != tls_policy::none) << to_string(p);
  }
  const auto messages = lb.out->snapshot();
  ASSERT_EQ(messages.size(), 5U);
  EXPECT_FALSE(messages[0].tls);
  for (std::size_t i = 1; i < messages.size(); ++i) {
    EXPECT_TRUE(messages[i].tls);
    EXPECT_NE(messages[i].content.find("hello"), std::string::npos);
  }
}

TEST(ReferenceClient, VerifyFailsWithAWrongServerName) {
  loopback lb;
  client_options o = with_ca(lb.client("starttls", tls_policy::verify));
  o.server_name = "wrong-name.test";
  const client_result r = run_reference_client(o);
  EXPECT_EQ(r.exit_status, exit_not_delivered);
  EXPECT_NE(r.message.find("wrong-name.test"), std::string::npos) << r.message;
  EXPECT_TRUE(lb.out->snapshot().empty());
}

TEST(ReferenceClient, VerifyFailsWithoutTrustAnchorsButEncryptDelivers) {
  loopback lb;
  const client_result v = run_reference_client(lb.client("starttls", tls_policy::secure));
  EXPECT_EQ(v.exit_status, exit_not_delivered) << v.message;
  const client_result e = run_reference_client(lb.client("starttls", tls_policy::encrypt));
  EXPECT_EQ(e.exit_status, exit_delivered) << e.message;
  EXPECT_EQ(lb.out->snapshot().size(), 1U);
}

TEST(ReferenceClient, WrapperModeDelivers) {
  loopback lb;
  const client_result r = run_reference_client(with_ca(lb.client("wrapper", tls_policy::verify)));
  EXPECT_EQ(r.exit_status, exit_delivered) << r.message;
  const auto messages = lb.out->snapshot();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_TRUE(messages[0].tls);
}

TEST(ReferenceClient, AuthenticatesInsideVerifiedTls) {
  loopback lb;
  client_options o = with_ca(lb.client("starttls", tls_policy::verify));
  o.session.auth_user = "alice@mx.test";
  o.session.auth_password = password;
  const client_result r = run_reference_client(o);
  EXPECT_EQ(r.exit_status, exit_delivered) << r.message;
  const auto messages = lb.out->snapshot();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].auth_user, "alice@mx.test");
}

TEST(ReferenceClient, Refused454DeliversInPlaintextOnlyUnderMay) {
  loopback lb;
  const client_result may = run_reference_client(lb.client("tls_unavailable", tls_policy::may));
  EXPECT_EQ(may.exit_status, exit_delivered) << may.message;
  const client_result enc = run_reference_client(lb.client("tls_unavailable", tls_policy::encrypt));
  EXPECT_EQ(enc.exit_status, exit_not_delivered) << enc.message;
  const auto messages = lb.out->snapshot();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_FALSE(messages[0].tls);
}

TEST(ReferenceClient, PresentsAClientCertificate) {
  loopback lb;
  client_options o = with_ca(lb.client("ccert_required", tls_policy::verify));
  o.cert_pem = tls::shared_test_pki().at("client1").chain_pem;
  o.key_pem = tls::shared_test_pki().at("client1").key_pem;
  const client_result r = run_reference_client(o);
  EXPECT_EQ(r.exit_status, exit_delivered) << r.message;
  const auto messages = lb.out->snapshot();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].client_cert_sha256,
            tls::shared_test_pki().at("client1").fingerprints.cert_sha256);
}

TEST(ReferenceClient, FailedHandshakeRetriesInPlaintextOnlyUnderMay) {
  loopback lb({fault::starttls_220_then_drop});
  const client_result may = run_reference_client(lb.client("starttls", tls_policy::may));
  EXPECT_EQ(may.exit_status, exit_delivered) << may.message;
  EXPECT_TRUE(may.retried_in_plaintext);
  const client_result enc = run_reference_client(lb.client("starttls", tls_policy::encrypt));
  EXPECT_EQ(enc.exit_status, exit_not_delivered) << enc.message;
  EXPECT_FALSE(enc.retried_in_plaintext);
  EXPECT_EQ(lb.out->snapshot().size(), 1U);
}

TEST(ReferenceClient, UnreachableServerIsNotDelivered) {
  client_options o;
  o.port = 1;  // nothing listens there
  o.timeout = 2s;
  const client_result r = run_reference_client(o);
  EXPECT_EQ(r.exit_status, exit_not_delivered);
  EXPECT_NE(r.message.find("cannot connect"), std::string::npos) << r.message;
}

TEST(ReferenceClient, BadTlsConfigurationThrows) {
  client_options o;
  o.port = 1;
  o.cert_pem = "not a certificate";
  o.key_pem = "not a key";
  EXPECT_THROW(run_reference_client(o), std::runtime_error);
}

}  // namespace
}  // namespace smtpsim::reference::client
