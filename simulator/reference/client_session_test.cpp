#include "simulator/reference/client_session.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/reference/client_fault.hpp"
#include "simulator/tls/base64.hpp"

namespace smtpsim::reference::client {
namespace {

using namespace std::string_literals;

const std::string greeting = "220 mx.test ESMTP\r\n";
// The plaintext EHLO: STARTTLS, AUTH and PIPELINING (check c.reset.discard-pre-tls-caps).
const std::string ehlo_plain =
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10\r\n250-AUTH PLAIN LOGIN\r\n"
    "250 STARTTLS\r\n";
const std::string ehlo_no_starttls = "250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1000\r\n";
const std::string ehlo_tls = "250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 100000000\r\n";
const std::string ehlo_tls_pipelining = "250-mx.test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n";
const std::string ehlo = "EHLO client.test\r\n";
const std::string mail = "MAIL FROM:<sender@client.test>\r\n";
const std::string rcpt = "RCPT TO:<rcpt@mx.test>\r\n";

client_config make_config(tls_policy p, client_fault_set faults = {}) {
  client_config c;
  c.policy = p;
  c.message = "Subject: test\r\n\r\nhello\r\n";
  c.faults = faults;
  return c;
}

client_config with_auth(client_config c) {
  c.auth_user = "alice@mx.test";
  c.auth_password = "s3cret";
  return c;
}

const std::string plain_ir = tls::base64_encode("\0alice@mx.test\0s3cret"s);

std::vector<std::string> writes(const client_effects& e) {
  std::vector<std::string> out;
  for (const client_effect& x : e) {
    if (const auto* w = std::get_if<write_bytes>(&x)) {
      out.push_back(w->bytes);
    }
  }
  return out;
}

std::string written(const client_effects& e) {
  std::string out;
  for (const std::string& w : writes(e)) {
    out += w;
  }
  return out;
}

template <class T>
const T* find(const client_effects& e) {
  for (const client_effect& x : e) {
    if (const auto* p = std::get_if<T>(&x)) {
      return p;
    }
  }
  return nullptr;
}

tls_result good_tls() { return tls_result{true, true, "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""}; }
tls_result bad_chain() {
  return tls_result{false, true, "TLSv1.3", "TLS_AES_128_GCM_SHA256", "self-signed"};
}
tls_result bad_name() {
  return tls_result{true, false, "TLSv1.3", "TLS_AES_128_GCM_SHA256", "wrong name"};
}

// conversation drives a client_session and keeps every byte it wrote.
struct conversation {
  explicit conversation(client_config c) : s(std::move(c)) {}

  client_effects record(client_effects e) {
    for (const std::string& w : writes(e)) {
      sent += w;
    }
    return e;
  }
  client_effects connect() { return record(s.on_connected()); }
  client_effects in(std::string_view bytes) { return record(s.on_bytes(bytes)); }
  client_effects tls(const tls_result& r = good_tls()) { return record(s.on_tls_established(r)); }

  // up_to_tls_ehlo: greeting, plaintext EHLO, STARTTLS, 220, handshake. Returns the effects of
  // the handshake.
  client_effects up_to_tls(const tls_result& r = good_tls(), const std::string& pre = ehlo_plain) {
    connect();
    EXPECT_EQ(written(in(greeting)), ehlo);
    EXPECT_EQ(written(in(pre)), "STARTTLS\r\n");
    client_effects e = in("220 2.0.0 Ready to start TLS\r\n");
    EXPECT_NE(find<start_tls>(e), nullptr);
    EXPECT_TRUE(writes(e).empty());
    return tls(r);
  }

  // finish_delivery answers MAIL, RCPT, DATA and the content with success and QUIT with 221.
  void finish_delivery() {
    EXPECT_EQ(written(in("250 2.1.0 Ok\r\n")), rcpt);
    EXPECT_EQ(written(in("250 2.1.5 Ok\r\n")), "DATA\r\n");
    EXPECT_TRUE(written(in("354 End data with <CR><LF>.<CR><LF>\r\n")).ends_with("\r\n.\r\n"));
    EXPECT_EQ(written(in("250 2.0.0 Ok: queued as X\r\n")), "QUIT\r\n");
    last = in("221 2.0.0 Bye\r\n");
  }

  int status() const { return s.exit_status().value_or(-1); }

  client_session s;
  std::string sent;
  client_effects last;
};

bool sent_in_plaintext_before_tls(const std::string& sent, std::string_view what) {
  const std::size_t starttls = sent.find("STARTTLS\r\n");
  const std::size_t pos = sent.find(what);
  return pos != std::string::npos && (starttls == std::string::npos || pos < starttls);
}

// ---------------------------------------------------------------------------------------------
// Policies

TEST(ClientSession, MayDeliversOverStartTls) {
  conversation c(make_config(tls_policy::may));
  EXPECT_EQ(written(c.up_to_tls()), ehlo);
  EXPECT_EQ(written(c.in(ehlo_tls)), mail);
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
  const auto* close = find<close_connection>(c.last);
  ASSERT_NE(close, nullptr);
  EXPECT_TRUE(close->send_close_notify);
  const auto* fin = find<finished>(c.last);
  ASSERT_NE(fin, nullptr);
  EXPECT_NE(fin->message.find("accepted over TLS"), std::string::npos);
}

TEST(ClientSession, NoneNeverStartsTls) {
  conversation c(make_config(tls_policy::none));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in("250-mx.test\r\n250 STARTTLS\r\n")), mail);
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
  EXPECT_EQ(c.sent.find("STARTTLS"), std::string::npos);
  EXPECT_FALSE(find<close_connection>(c.last)->send_close_notify);
}

TEST(ClientSession, MayContinuesInPlaintextWithoutStartTls) {
  conversation c(with_auth(make_config(tls_policy::may)));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in(ehlo_no_starttls)), mail);  // and no AUTH in plaintext
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
  EXPECT_EQ(c.sent.find("AUTH"), std::string::npos);
}

TEST(ClientSession, MandatoryQuitsWithoutStartTls) {
  for (tls_policy p : {tls_policy::encrypt, tls_policy::verify, tls_policy::secure}) {
    conversation c(with_auth(make_config(p)));
    c.connect();
    c.in(greeting);
    EXPECT_EQ(written(c.in(ehlo_no_starttls)), "QUIT\r\n") << to_string(p);
    c.last = c.in("221 Bye\r\n");
    EXPECT_EQ(c.status(), exit_not_delivered);
    EXPECT_EQ(c.sent.find("AUTH"), std::string::npos);
    EXPECT_EQ(c.sent.find("MAIL"), std::string::npos);
    EXPECT_NE(find<finished>(c.last)->message.find("STARTTLS was not offered"), std::string::npos);
  }
}

TEST(ClientSession, MayContinuesOnTheSameConnectionAfter454) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in(ehlo_plain);
  client_effects e = c.in("454 4.7.0 TLS not available due to temporary reason\r\n");
  EXPECT_EQ(find<reconnect_plaintext>(e), nullptr);
  // The plaintext EHLO advertised PIPELINING, which still holds on this connection.
  EXPECT_EQ(written(e), mail + rcpt + "DATA\r\n");
  c.in("250 Ok\r\n250 Ok\r\n");
  EXPECT_TRUE(written(c.in("354 go\r\n")).ends_with("\r\n.\r\n"));
  EXPECT_EQ(written(c.in("250 Ok\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_delivered);
}

TEST(ClientSession, MandatoryQuitsOnARefusedStartTls) {
  for (const char* refusal : {"454 4.7.0 TLS not available\r\n", "502 5.5.1 no\r\n",
                              "501 5.5.4 Syntax\r\n", "530 5.7.0 x\r\n", "500 what\r\n"}) {
    conversation c(make_config(tls_policy::encrypt));
    c.connect();
    c.in(greeting);
    c.in(ehlo_plain);
    EXPECT_EQ(written(c.in(refusal)), "QUIT\r\n") << refusal;
    c.in("221 Bye\r\n");
    EXPECT_EQ(c.status(), exit_not_delivered);
    EXPECT_EQ(c.sent.find("MAIL"), std::string::npos);
  }
}

TEST(ClientSession, A354ToStartTlsIsAProtocolError) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in(ehlo_plain);
  EXPECT_EQ(written(c.in("354 do something else\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
}

TEST(ClientSession, MayAndEncryptAcceptABadCertificate) {
  for (tls_policy p : {tls_policy::may, tls_policy::encrypt}) {
    for (const tls_result& r : {bad_chain(), bad_name()}) {
      conversation c(make_config(p));
      EXPECT_EQ(written(c.up_to_tls(r)), ehlo);
      EXPECT_EQ(written(c.in(ehlo_tls)), mail);
      c.finish_delivery();
      EXPECT_EQ(c.status(), exit_delivered);
    }
  }
}

TEST(ClientSession, VerifyQuitsRightAfterTheHandshakeOnABadCertificate) {
  for (tls_policy p : {tls_policy::verify, tls_policy::secure}) {
    for (const tls_result& r : {bad_chain(), bad_name()}) {
      conversation c(with_auth(make_config(p)));
      // RFC 3207 §4.1: QUIT inside TLS, no EHLO, AUTH or MAIL.
      EXPECT_EQ(written(c.up_to_tls(r)), "QUIT\r\n");
      c.last = c.in("221 Bye\r\n");
      EXPECT_EQ(c.status(), exit_not_delivered);
      EXPECT_TRUE(find<close_connection>(c.last)->send_close_notify);
      EXPECT_EQ(c.sent.find("AUTH"), std::string::npos);
      EXPECT_EQ(c.sent.find("MAIL"), std::string::npos);
    }
  }
}

TEST(ClientSession, VerifyDeliversWithAVerifiedCertificate) {
  conversation c(make_config(tls_policy::verify));
  EXPECT_EQ(written(c.up_to_tls(good_tls())), ehlo);
  EXPECT_EQ(written(c.in(ehlo_tls)), mail);
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
}

TEST(ClientSession, MayReconnectsOnceInPlaintextAfterAFailedHandshake) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in(ehlo_plain);
  c.in("220 Ready\r\n");
  client_effects e = c.s.on_tls_failed("unexpected eof");
  ASSERT_NE(find<close_connection>(e), nullptr);
  EXPECT_FALSE(find<close_connection>(e)->send_close_notify);
  ASSERT_NE(find<reconnect_plaintext>(e), nullptr);
  EXPECT_TRUE(writes(e).empty());  // never reuse the connection in plaintext
  EXPECT_FALSE(c.s.done());
  c.sent.clear();
  c.connect();
  EXPECT_EQ(written(c.in(greeting)), ehlo);
  EXPECT_EQ(written(c.in(ehlo_no_starttls + "")), mail);
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
  EXPECT_TRUE(c.s.retried_in_plaintext());
}

TEST(ClientSession, MayDoesNotUseStartTlsOnTheRetryConnection) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in(ehlo_plain);
  c.in("220 Ready\r\n");
  c.s.on_tls_failed("handshake failure");
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in("250-mx.test\r\n250 STARTTLS\r\n")), mail);
}

TEST(ClientSession, MandatoryNeverRetriesInPlaintext) {
  for (tls_policy p : {tls_policy::encrypt, tls_policy::verify, tls_policy::secure}) {
    conversation c(make_config(p));
    c.connect();
    c.in(greeting);
    c.in(ehlo_plain);
    c.in("220 Ready\r\n");
    client_effects e = c.s.on_tls_failed("wrong version number");
    EXPECT_EQ(find<reconnect_plaintext>(e), nullptr);
    ASSERT_NE(find<finished>(e), nullptr);
    EXPECT_EQ(c.status(), exit_not_delivered);
    EXPECT_TRUE(writes(e).empty());
  }
}

TEST(ClientSession, WrapperStartsTlsFirstAndNeverUsesStartTls) {
  client_config cfg = make_config(tls_policy::encrypt);
  cfg.wrapper = true;
  conversation c(cfg);
  client_effects e = c.connect();
  ASSERT_NE(find<start_tls>(e), nullptr);
  EXPECT_TRUE(writes(e).empty());
  EXPECT_TRUE(writes(c.tls()).empty());  // the greeting comes inside TLS
  EXPECT_EQ(written(c.in(greeting)), ehlo);
  EXPECT_EQ(written(c.in("250-mx.test\r\n250-STARTTLS\r\n250 SIZE 100\r\n")), mail);
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
  EXPECT_TRUE(find<close_connection>(c.last)->send_close_notify);
  EXPECT_EQ(c.sent.find("STARTTLS"), std::string::npos);
}

TEST(ClientSession, WrapperHandshakeFailureEndsTheRun) {
  client_config cfg = make_config(tls_policy::may);
  cfg.wrapper = true;
  conversation c(cfg);
  c.connect();
  client_effects e = c.s.on_tls_failed("wrong version number");
  EXPECT_EQ(find<reconnect_plaintext>(e), nullptr);
  EXPECT_EQ(c.status(), exit_not_delivered);
}

TEST(ClientSession, WrapperQuitsAfterTheGreetingOnABadCertificateUnderVerify) {
  client_config cfg = make_config(tls_policy::verify);
  cfg.wrapper = true;
  conversation c(cfg);
  c.connect();
  EXPECT_TRUE(writes(c.tls(bad_chain())).empty());
  EXPECT_EQ(written(c.in(greeting)), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
}

// ---------------------------------------------------------------------------------------------
// Injection and state reset

TEST(ClientSession, DiscardsRepliesInjectedAfterThe220) {
  conversation c(with_auth(make_config(tls_policy::encrypt)));
  c.connect();
  c.in(greeting);
  c.in(ehlo_plain);
  client_effects e = c.in("220 2.0.0 Ready\r\n250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n");
  EXPECT_NE(find<start_tls>(e), nullptr);
  EXPECT_GT(c.s.discarded_octets(), 0U);
  // Inside TLS: EHLO, and nothing else until its real reply.
  EXPECT_EQ(written(c.tls()), ehlo);
  EXPECT_TRUE(writes(c.in("250-mx.te")).empty());
  EXPECT_EQ(written(c.in("st\r\n250 SIZE 100\r\n")), mail);
}

TEST(ClientSession, IgnoresRepliesInjectedAfterA454) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in("250-mx.test\r\n250 STARTTLS\r\n");
  client_effects e = c.in(
      "454 currently unavailable\r\n235 Authenticated\r\n250 2.1.0 Sender ok\r\n"
      "250 2.1.5 Recipient ok\r\n354 Enter mail\r\n250 2.0.0 Accepted\r\n");
  EXPECT_EQ(written(e), mail);  // one command, and the forged replies are not its answers
  EXPECT_TRUE(writes(c.in("")).empty());
  EXPECT_FALSE(c.s.done());
}

TEST(ClientSession, DoesNotTakeAStrayLineAfterTheGreetingAsTheEhloReply) {
  conversation c(make_config(tls_policy::encrypt));
  c.connect();
  EXPECT_EQ(written(c.in("220 fake ESMTP\r\n250 PIPELINING\r\n")), ehlo);
  EXPECT_FALSE(c.s.done());
  EXPECT_EQ(written(c.in("250-mx.test\r\n250 STARTTLS\r\n")), "STARTTLS\r\n");
}

TEST(ClientSession, UsesOnlyThePostTlsCapabilities) {
  // Pre-TLS: AUTH PLAIN LOGIN, PIPELINING, SIZE 10. Post-TLS: AUTH SCRAM-SHA-256 only.
  conversation c(with_auth(make_config(tls_policy::encrypt)));
  EXPECT_EQ(written(c.up_to_tls()), ehlo);
  EXPECT_EQ(written(c.in("250-mx.test\r\n250-AUTH SCRAM-SHA-256\r\n250 SIZE 100000000\r\n")), mail);
  EXPECT_EQ(c.sent.find("AUTH"), std::string::npos);
  c.finish_delivery();  // one command per write: no pipelining, no SIZE 10 enforcement
  EXPECT_EQ(c.status(), exit_delivered);
}

// ---------------------------------------------------------------------------------------------
// Pipelining

TEST(ClientSession, PipelinesOnlyWhenTheCurrentEhloAdvertisesIt) {
  client_config cfg = make_config(tls_policy::encrypt);
  cfg.rcpt_to = {"a@mx.test", "b@mx.test"};
  conversation c(cfg);
  c.up_to_tls();
  client_effects e = c.in(ehlo_tls_pipelining);
  ASSERT_EQ(writes(e).size(), 1U);
  EXPECT_EQ(written(e), mail + "RCPT TO:<a@mx.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n");
  EXPECT_TRUE(writes(c.in("250 Ok\r\n250 Ok\r\n")).empty());  // waits for every reply
  EXPECT_TRUE(written(c.in("250 Ok\r\n354 go\r\n")).ends_with("\r\n.\r\n"));
  EXPECT_EQ(written(c.in("250 Ok\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_delivered);
}

TEST(ClientSession, ChecksEveryPipelinedReply) {
  client_config cfg = make_config(tls_policy::encrypt);
  cfg.rcpt_to = {"a@mx.test", "b@mx.test", "c@mx.test"};
  conversation c(cfg);
  c.up_to_tls();
  c.in(ehlo_tls_pipelining);
  c.in("250 Ok\r\n250 Ok\r\n550 5.1.1 no such user\r\n250 Ok\r\n354 go\r\n");
  EXPECT_EQ(written(c.in("250 Ok\r\n")), "QUIT\r\n");
  c.last = c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
  EXPECT_NE(find<finished>(c.last)->message.find("2 of 3"), std::string::npos);
}

TEST(ClientSession, SendsALoneDotWhenEveryPipelinedRecipientFailed) {
  conversation c(make_config(tls_policy::encrypt));
  c.up_to_tls();
  c.in(ehlo_tls_pipelining);
  EXPECT_EQ(written(c.in("250 Ok\r\n550 no\r\n354 go\r\n")), ".\r\n");
  EXPECT_EQ(written(c.in("554 no valid recipients\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
}

TEST(ClientSession, WaitsForEachReplyWithoutPipelining) {
  conversation c(make_config(tls_policy::encrypt));
  EXPECT_EQ(written(c.up_to_tls()), ehlo);
  EXPECT_TRUE(writes(c.in("250-mx.test\r\n")).empty());  // an incomplete reply
  EXPECT_EQ(written(c.in("250 SIZE 1\r\n")), mail);
  EXPECT_TRUE(writes(c.in("25")).empty());
  EXPECT_EQ(written(c.in("0 Ok\r\n")), rcpt);
}

// ---------------------------------------------------------------------------------------------
// AUTH

TEST(ClientSession, AuthOnlyInsideVerifiedTlsWithPlainInitialResponse) {
  conversation c(with_auth(make_config(tls_policy::verify)));
  c.up_to_tls();  // the plaintext EHLO offered AUTH: not used
  EXPECT_EQ(written(c.in(ehlo_tls)), "AUTH PLAIN " + plain_ir + "\r\n");
  EXPECT_EQ(written(c.in("235 2.7.0 Authentication successful\r\n")), mail);
  EXPECT_FALSE(sent_in_plaintext_before_tls(c.sent, "AUTH"));
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
}

TEST(ClientSession, AuthLogin) {
  conversation c(with_auth(make_config(tls_policy::verify)));
  c.up_to_tls();
  EXPECT_EQ(written(c.in("250-mx.test\r\n250 AUTH LOGIN\r\n")), "AUTH LOGIN\r\n");
  EXPECT_EQ(written(c.in("334 VXNlcm5hbWU6\r\n")), tls::base64_encode("alice@mx.test") + "\r\n");
  EXPECT_EQ(written(c.in("334 UGFzc3dvcmQ6\r\n")), tls::base64_encode("s3cret") + "\r\n");
  EXPECT_EQ(written(c.in("235 ok\r\n")), mail);
}

TEST(ClientSession, CancelsABadChallenge) {
  conversation c(with_auth(make_config(tls_policy::verify)));
  c.up_to_tls();
  c.in("250-mx.test\r\n250 AUTH LOGIN\r\n");
  EXPECT_EQ(written(c.in("334 !!!notbase64\r\n")), "*\r\n");
  EXPECT_EQ(written(c.in("501 5.7.0 cancelled\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
}

TEST(ClientSession, FailedAuthQuits) {
  conversation c(with_auth(make_config(tls_policy::verify)));
  c.up_to_tls();
  c.in(ehlo_tls);
  EXPECT_EQ(written(c.in("535 5.7.8 bad credentials\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
}

TEST(ClientSession, LongCredentialsUseTheEmptyChallengePath) {
  client_config cfg = with_auth(make_config(tls_policy::verify));
  cfg.auth_password = std::string(600, 'p');
  conversation c(cfg);
  c.up_to_tls();
  EXPECT_EQ(written(c.in(ehlo_tls)), "AUTH PLAIN\r\n");
  const std::string response =
      written(c.in("334 \r\n"));  // RFC 4954 §4: "334 " with an empty challenge
  EXPECT_EQ(response, tls::base64_encode("\0alice@mx.test\0"s + cfg.auth_password) + "\r\n");
  EXPECT_EQ(written(c.in("235 ok\r\n")), mail);
}

TEST(ClientSession, NoCredentialsOverAnUnverifiedCertificate) {
  conversation c(with_auth(make_config(tls_policy::encrypt)));
  c.up_to_tls(bad_chain());
  EXPECT_EQ(written(c.in(ehlo_tls)), mail);
  EXPECT_EQ(c.sent.find("AUTH"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Replies

TEST(ClientSession, ErrorsAtMailRcptDataQuit) {
  const std::vector<std::vector<std::string>> scripts = {
      {"550 5.7.1 no\r\n"},
      {"250 Ok\r\n", "450 4.2.0 later\r\n"},
      {"250 Ok\r\n", "250 Ok\r\n", "554 no\r\n"},
      {"250 Ok\r\n", "250 Ok\r\n", "354 go\r\n", "451 4.3.0 later\r\n"},
  };
  for (const auto& script : scripts) {
    conversation c(make_config(tls_policy::encrypt));
    c.up_to_tls();
    c.in(ehlo_tls);
    std::string out;
    for (const std::string& reply : script) {
      out = written(c.in(reply));
    }
    EXPECT_EQ(out, "QUIT\r\n") << script.back();
    c.in("221 Bye\r\n");
    EXPECT_EQ(c.status(), exit_not_delivered) << script.back();
  }
}

TEST(ClientSession, A421AnytimeClosesWithoutQuit) {
  const std::vector<std::vector<std::string>> scripts = {
      {"421 4.3.2 busy\r\n"},
      {greeting, "421 4.3.2 busy\r\n"},
      {greeting, ehlo_plain, "421 4.3.2 busy\r\n"},
      {greeting, ehlo_no_starttls, "421 4.3.2 busy\r\n"},
  };
  for (const auto& script : scripts) {
    conversation c(make_config(tls_policy::may));
    c.connect();
    client_effects e;
    for (const std::string& in : script) {
      e = c.in(in);
    }
    EXPECT_TRUE(writes(e).empty());
    EXPECT_NE(find<close_connection>(e), nullptr);
    EXPECT_EQ(c.status(), exit_not_delivered);
  }
}

TEST(ClientSession, A554GreetingQuits) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  EXPECT_EQ(written(c.in("554 No SMTP service here\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
  EXPECT_EQ(c.sent.find("MAIL"), std::string::npos);
}

TEST(ClientSession, ReadsAMultiLineGreetingCompletely) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  EXPECT_TRUE(writes(c.in("220-a\r\n")).empty());
  EXPECT_TRUE(writes(c.in("220-b\r\n")).empty());
  EXPECT_EQ(written(c.in("220 c\r\n")), ehlo);
}

TEST(ClientSession, AcceptsABareCodeAndOneByteSegments) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  for (char ch : greeting) {
    c.in(std::string_view(&ch, 1));
  }
  EXPECT_EQ(c.sent, ehlo);
  EXPECT_EQ(written(c.in("250\r\n")), mail);
  EXPECT_EQ(written(c.in("250\r\n")), rcpt);
}

TEST(ClientSession, JudgesUnknownCodesByTheirFirstDigit) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in("250 mx.test\r\n");
  EXPECT_EQ(written(c.in("299 ok\r\n")), rcpt);
  EXPECT_EQ(written(c.in("499 later\r\n")), "QUIT\r\n");
  for (const char* bad : {"699 x\r\n", "2x0 x\r\n", "150 x\r\n"}) {
    conversation d(make_config(tls_policy::may));
    d.connect();
    d.in(greeting);
    d.in("250 mx.test\r\n");
    EXPECT_EQ(written(d.in(bad)), "QUIT\r\n") << bad;
    d.in("221 Bye\r\n");
    EXPECT_EQ(d.status(), exit_not_delivered);
  }
}

TEST(ClientSession, DecidesByTheCodeNotTheText) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in("250 mx.test\r\n");
  EXPECT_EQ(written(c.in("250 ERROR denied\r\n")), rcpt);
  EXPECT_EQ(written(c.in("550 OK\r\n")), "QUIT\r\n");
}

TEST(ClientSession, MismatchedMultiLineCodesAreAnError) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  c.in("250 mx.test\r\n");
  EXPECT_EQ(written(c.in("250-a\r\n550 b\r\n")), "QUIT\r\n");
  c.in("221 Bye\r\n");
  EXPECT_EQ(c.status(), exit_not_delivered);
}

TEST(ClientSession, SurvivesAnOverlongReplyLine) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in("250 " + std::string(5000, 'x') + "\r\n")), mail);
  EXPECT_FALSE(c.s.done());
}

TEST(ClientSession, EhloRefusedFallsBackToHeloOnlyWithoutRequiredTls) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in("500 5.5.1 unknown\r\n")), "HELO client.test\r\n");
  EXPECT_EQ(written(c.in("250 mx.test\r\n")), mail);

  conversation d(make_config(tls_policy::encrypt));
  d.connect();
  d.in(greeting);
  EXPECT_EQ(written(d.in("500 5.5.1 unknown\r\n")), "QUIT\r\n");
}

TEST(ClientSession, StartTlsBeforeTheDomainLineIsNotSeen) {
  conversation c(make_config(tls_policy::encrypt));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in("250-STARTTLS\r\n250-fake.test\r\n250 SIZE 1000\r\n")), "QUIT\r\n");
}

TEST(ClientSession, TimeoutsAndClosesEndTheRun) {
  conversation c(make_config(tls_policy::may));
  c.connect();
  c.in(greeting);
  client_effects e = c.s.on_timeout();
  EXPECT_NE(find<close_connection>(e), nullptr);
  EXPECT_EQ(c.status(), exit_not_delivered);
  EXPECT_TRUE(c.s.on_bytes("250 late\r\n").empty());

  conversation d(make_config(tls_policy::may));
  d.connect();
  d.s.on_closed("eof");
  EXPECT_EQ(d.status(), exit_not_delivered);

  // After QUIT, a close or a timeout keeps the outcome.
  conversation q(make_config(tls_policy::encrypt));
  q.up_to_tls();
  q.in(ehlo_tls);
  q.in("250 Ok\r\n");
  q.in("250 Ok\r\n");
  q.in("354 go\r\n");
  EXPECT_EQ(written(q.in("250 Ok\r\n")), "QUIT\r\n");
  q.s.on_closed("eof");
  EXPECT_EQ(q.status(), exit_delivered);
}

TEST(ClientSession, NormalisesLineEndsAndDotStuffs) {
  client_config cfg = make_config(tls_policy::may);
  cfg.message = "Subject: x\n\n.hidden\nbare\rcr\r\n.\r\nend";
  conversation c(cfg);
  c.connect();
  c.in(greeting);
  c.in("250 mx.test\r\n");
  c.in("250 Ok\r\n");
  c.in("250 Ok\r\n");
  EXPECT_EQ(written(c.in("354 go\r\n")),
            "Subject: x\r\n\r\n..hidden\r\nbare\r\ncr\r\n..\r\nend\r\n.\r\n");
}

// ---------------------------------------------------------------------------------------------
// Faults: each breaks one behaviour

TEST(ClientFault, ReadsForgedRepliesUsesTheInjectedEhloReply) {
  conversation c(with_auth(make_config(tls_policy::encrypt, {client_fault::reads_forged_replies})));
  c.connect();
  c.in(greeting);
  c.in(ehlo_plain);
  c.in("220 2.0.0 Ready\r\n250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n");
  client_effects e = c.tls();
  ASSERT_EQ(writes(e).size(), 2U);
  EXPECT_EQ(writes(e)[0], ehlo);
  // Credentials go out on the strength of the forged EHLO reply, before the real one.
  EXPECT_EQ(writes(e)[1], "AUTH PLAIN " + plain_ir + "\r\n");
}

TEST(ClientFault, NoEhloAfterTls) {
  conversation c(make_config(tls_policy::encrypt, {client_fault::no_ehlo_after_tls}));
  const std::string first = written(c.up_to_tls());
  EXPECT_EQ(first, mail + rcpt + "DATA\r\n");  // the pre-TLS PIPELINING is still believed
}

TEST(ClientFault, AuthBeforeTls) {
  conversation c(with_auth(make_config(tls_policy::encrypt, {client_fault::auth_before_tls})));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in(ehlo_plain)), "AUTH PLAIN " + plain_ir + "\r\n");
  EXPECT_EQ(written(c.in("235 ok\r\n")), "STARTTLS\r\n");
  EXPECT_TRUE(sent_in_plaintext_before_tls(c.sent, "AUTH"));
}

TEST(ClientFault, PlaintextFallback) {
  {
    conversation c(make_config(tls_policy::encrypt, {client_fault::plaintext_fallback}));
    c.connect();
    c.in(greeting);
    EXPECT_EQ(written(c.in(ehlo_no_starttls)), mail);
  }
  {
    conversation c(make_config(tls_policy::verify, {client_fault::plaintext_fallback}));
    c.connect();
    c.in(greeting);
    c.in(ehlo_plain);
    EXPECT_EQ(written(c.in("454 4.7.0 no\r\n")), mail + rcpt + "DATA\r\n");
  }
  {
    conversation c(make_config(tls_policy::secure, {client_fault::plaintext_fallback}));
    c.connect();
    c.in(greeting);
    c.in(ehlo_plain);
    c.in("220 go\r\n");
    EXPECT_NE(find<reconnect_plaintext>(c.s.on_tls_failed("eof")), nullptr);
  }
}

TEST(ClientFault, AcceptsAnyCert) {
  conversation c(make_config(tls_policy::verify, {client_fault::accepts_any_cert}));
  EXPECT_EQ(written(c.up_to_tls(bad_name())), ehlo);
  EXPECT_EQ(written(c.in(ehlo_tls)), mail);
}

TEST(ClientFault, NestedStartTls) {
  conversation good(make_config(tls_policy::encrypt));
  good.up_to_tls();
  EXPECT_EQ(written(good.in("250-mx.test\r\n250 STARTTLS\r\n")), mail);

  conversation c(make_config(tls_policy::encrypt, {client_fault::nested_starttls}));
  c.up_to_tls();
  EXPECT_EQ(written(c.in("250-mx.test\r\n250 STARTTLS\r\n")), "STARTTLS\r\n");
  EXPECT_EQ(written(c.in("554 5.5.1 Error: TLS already active\r\n")), mail);
}

TEST(ClientFault, StartTlsEhloOneSegment) {
  conversation c(make_config(tls_policy::encrypt, {client_fault::starttls_ehlo_one_segment}));
  c.connect();
  c.in(greeting);
  client_effects e = c.in(ehlo_plain);
  ASSERT_EQ(writes(e).size(), 1U);
  EXPECT_EQ(writes(e)[0], "STARTTLS\r\nEHLO client.test\r\n");
  EXPECT_NE(find<start_tls>(c.in("220 go\r\n250 mx.test\r\n")), nullptr);
  EXPECT_EQ(written(c.tls()), ehlo);
}

TEST(ClientFault, StartTlsArgument) {
  conversation c(make_config(tls_policy::may, {client_fault::starttls_argument}));
  c.connect();
  c.in(greeting);
  EXPECT_EQ(written(c.in(ehlo_plain)), "STARTTLS x\r\n");
}

TEST(ClientFault, NoCloseNotify) {
  client_config cfg = make_config(tls_policy::encrypt, {client_fault::no_close_notify});
  cfg.wrapper = true;
  conversation c(cfg);
  c.connect();
  c.tls();
  c.in(greeting);
  c.in("250 mx.test\r\n");
  c.finish_delivery();
  EXPECT_EQ(c.status(), exit_delivered);
  EXPECT_FALSE(find<close_connection>(c.last)->send_close_notify);
}

TEST(ClientFault, PipelinesWithoutAdvert) {
  conversation c(make_config(tls_policy::encrypt, {client_fault::pipelines_without_advert}));
  c.up_to_tls();
  EXPECT_EQ(written(c.in(ehlo_tls)), mail + rcpt + "DATA\r\n");
}

TEST(ClientFault, PlainOnUnverifiedCert) {
  conversation c(
      with_auth(make_config(tls_policy::encrypt, {client_fault::plain_on_unverified_cert})));
  c.up_to_tls(bad_chain());
  EXPECT_EQ(written(c.in(ehlo_tls)), "AUTH PLAIN " + plain_ir + "\r\n");
}

TEST(ClientFault, NamesParseAndDescribe) {
  EXPECT_EQ(all_client_faults().size(), client_fault_count);
  for (const client_fault_info& f : all_client_faults()) {
    EXPECT_EQ(parse_client_fault(f.name), f.id);
    EXPECT_EQ(to_string(f.id), f.name);
    EXPECT_TRUE(describe(f.id).starts_with(f.name)) << f.name;
    EXPECT_FALSE(f.checks.empty());
  }
  EXPECT_EQ(parse_client_fault("READS_FORGED_REPLIES"), client_fault::reads_forged_replies);
  EXPECT_FALSE(parse_client_fault("no-such-fault").has_value());
  EXPECT_EQ(parse_tls_policy("Verify"), tls_policy::verify);
  EXPECT_FALSE(parse_tls_policy("dane").has_value());
}

}  // namespace
}  // namespace smtpsim::reference::client
