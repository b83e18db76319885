#include "simulator/reference/server_session.hpp"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/reference/sasl.hpp"
#include "simulator/tls/base64.hpp"

namespace smtpsim::reference {
namespace {

using namespace std::string_literals;

const std::string greeting = "220 mx.test ESMTP smtpsim-reference\r\n";
const std::string password = "s3cret";

// fixed_now is Tue, 01 Jul 2025 10:00:00 +0000.
std::chrono::system_clock::time_point fixed_now() {
  return std::chrono::sys_days{std::chrono::year{2025} / 7 / 1} + std::chrono::hours{10};
}

session_config make_config(listener_kind kind = listener_kind::starttls, server_policy policy = {},
                           fault_set faults = {}) {
  session_config c;
  c.kind = kind;
  c.policy = policy;
  c.faults = faults;
  c.login = credentials{"alice@mx.test", password};
  c.connection_id = 1;
  c.peer_ip = "192.0.2.7";
  c.now = fixed_now;
  return c;
}

server_policy policy_with(bool server_policy::*flag, bool value = true) {
  server_policy p;
  p.*flag = value;
  return p;
}

// written concatenates the bytes of every write_bytes effect.
std::string written(const effects& e) {
  std::string out;
  for (const effect& x : e) {
    if (const auto* w = std::get_if<write_bytes>(&x)) {
      out += w->bytes;
    }
  }
  return out;
}

std::size_t count_writes(const effects& e) {
  std::size_t n = 0;
  for (const effect& x : e) {
    n += std::holds_alternative<write_bytes>(x) ? 1 : 0;
  }
  return n;
}

const start_tls* find_start_tls(const effects& e) {
  for (const effect& x : e) {
    if (const auto* s = std::get_if<start_tls>(&x)) {
      return s;
    }
  }
  return nullptr;
}

const close_connection* find_close(const effects& e) {
  for (const effect& x : e) {
    if (const auto* c = std::get_if<close_connection>(&x)) {
      return c;
    }
  }
  return nullptr;
}

std::vector<delivered_message> deliveries(const effects& e) {
  std::vector<delivered_message> out;
  for (const effect& x : e) {
    if (const auto* d = std::get_if<deliver>(&x)) {
      out.push_back(d->message);
    }
  }
  return out;
}

std::string plain_response(std::string_view user, std::string_view pass) {
  std::string message;
  message += '\0';
  message += user;
  message += '\0';
  message += pass;
  return tls::base64_encode(message);
}

tls_peer_info tls13(bool with_cert = false) {
  tls_peer_info info;
  info.version = "TLSv1.3";
  info.cipher = "TLS_AES_128_GCM_SHA256";
  if (with_cert) {
    info.client_cert_presented = true;
    info.client_cert_sha256 = "AA:BB:CC";
    info.client_pubkey_sha256 = "DD:EE:FF";
    info.client_cert_md5 = "11:22";
    info.client_pubkey_md5 = "33:44";
    info.client_cert_trusted = true;
  }
  return info;
}

// untrusted is a presented client certificate that does not verify against the CA file.
tls_peer_info untrusted() {
  tls_peer_info info = tls13(true);
  info.client_cert_trusted = false;
  return info;
}

// ehlo_text builds the expected multi-line EHLO reply.
std::string ehlo_text(std::string_view client, const std::vector<std::string>& extensions) {
  std::string out = "250";
  out += extensions.empty() ? " " : "-";
  out += "mx.test greets ";
  out += client;
  out += "\r\n";
  for (std::size_t i = 0; i < extensions.size(); ++i) {
    out += i + 1 == extensions.size() ? "250 " : "250-";
    out += extensions[i];
    out += "\r\n";
  }
  return out;
}

const std::vector<std::string> base_extensions = {"PIPELINING", "SIZE 10240000", "8BITMIME",
                                                  "ENHANCEDSTATUSCODES", "CHUNKING"};

std::vector<std::string> with(std::vector<std::string> v, std::initializer_list<const char*> more) {
  for (const char* m : more) {
    v.emplace_back(m);
  }
  return v;
}

// peer drives one session like a client would and keeps the last effects.
class peer {
 public:
  explicit peer(session_config config = make_config()) : s_(std::move(config)) {}

  std::string connect() { return take(s_.on_connect()); }
  std::string send(std::string_view bytes) { return take(s_.on_data(bytes)); }
  std::string tls_up(const tls_peer_info& info = tls13()) {
    return take(s_.on_tls_established(info));
  }
  std::string tls_failed(std::string_view raw = {}) {
    return take(s_.on_tls_failed("handshake failure", raw));
  }
  std::string window_closed(std::string_view bytes) { return take(s_.on_window_closed(bytes)); }
  std::string idle() { return take(s_.on_idle_timeout()); }

  // starttls sends STARTTLS, expects the 220 and completes the handshake.
  void starttls(const tls_peer_info& info = tls13()) {
    ASSERT_EQ(send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
    ASSERT_NE(find_start_tls(last_), nullptr);
    tls_up(info);
  }

  server_session& session() { return s_; }
  const effects& last() const { return last_; }

 private:
  std::string take(effects e) {
    last_ = std::move(e);
    return written(last_);
  }

  server_session s_;
  effects last_;
};

// A connected STARTTLS-listener peer after EHLO.
peer after_ehlo(session_config config = make_config(), std::string_view name = "client.test") {
  peer p(std::move(config));
  p.connect();
  p.send("EHLO "s + std::string(name) + "\r\n");
  return p;
}

// ---------------------------------------------------------------------------------------------
// Greeting, EHLO, HELO

TEST(ServerSession, GreetsOnConnectWithOneWrite) {
  peer p;
  EXPECT_EQ(p.connect(), greeting);
  EXPECT_EQ(p.last().size(), 1U);
}

TEST(ServerSession, EhloBeforeTlsListsStartTlsWithoutAuth) {
  peer p;
  p.connect();
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"STARTTLS"})));
}

TEST(ServerSession, EhloInsideTlsListsAuthWithoutStartTls) {
  peer p = after_ehlo();
  p.starttls();
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"AUTH PLAIN LOGIN CRAM-MD5"})));
}

TEST(ServerSession, EhloOnPlaintextAuthListenerOffersAuthBeforeTls) {
  peer p(make_config(listener_kind::starttls, policy_with(&server_policy::plaintext_auth)));
  p.connect();
  EXPECT_EQ(
      p.send("EHLO client.test\r\n"),
      ehlo_text("client.test", with(base_extensions, {"STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5"})));
}

TEST(ServerSession, EhloOnTlsUnavailableListenerStillListsStartTls) {
  peer p(make_config(listener_kind::starttls, policy_with(&server_policy::tls_available, false)));
  p.connect();
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"STARTTLS"})));
}

TEST(ServerSession, EhloOnPlaintextListenerOmitsStartTls) {
  peer p(make_config(listener_kind::plaintext));
  p.connect();
  EXPECT_EQ(p.send("EHLO client.test\r\n"), ehlo_text("client.test", base_extensions));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "502 5.5.1 Error: command not implemented\r\n");
}

TEST(ServerSession, EhloAndHeloWithoutArgumentAre501) {
  peer p;
  p.connect();
  EXPECT_EQ(p.send("EHLO\r\n"), "501 5.5.4 Syntax: EHLO hostname\r\n");
  EXPECT_EQ(p.send("HELO \r\n"), "501 5.5.4 Syntax: HELO hostname\r\n");
}

TEST(ServerSession, HeloGetsOneLineWithoutExtensions) {
  peer p;
  p.connect();
  EXPECT_EQ(p.send("HELO client.test\r\n"), "250 mx.test\r\n");
}

TEST(ServerSession, NewEhloResetsTheTransaction) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
}

// ---------------------------------------------------------------------------------------------
// STARTTLS

TEST(ServerSession, StartTlsAnswers220ThenStartsTls) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_EQ(p.last().size(), 2U);
  EXPECT_TRUE(std::holds_alternative<write_bytes>(p.last()[0]));
  ASSERT_TRUE(std::holds_alternative<start_tls>(p.last()[1]));
  EXPECT_FALSE(std::get<start_tls>(p.last()[1]).sniff_plaintext);
}

TEST(ServerSession, StartTlsDiscardsInputPipelinedAfterIt) {
  // CVE-2011-0411: the Nessus probe.
  peer p = after_ehlo();
  EXPECT_EQ(p.send("STARTTLS\r\nRSET\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(count_writes(p.last()), 1U);
  EXPECT_EQ(p.session().discarded_plaintext(), 6U);
  EXPECT_EQ(p.tls_up(), "");
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSession, StartTlsDiscardsAnInjectedTransaction) {
  peer p = after_ehlo();
  p.send("STARTTLS\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<victim@foreign.test>\r\nDATA\r\n");
  EXPECT_EQ(written(p.last()), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(p.tls_up(), "");
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
}

TEST(ServerSession, StartTlsWithArgumentIs501AndSessionGoesOn) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("STARTTLS x\r\nNOOP\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
}

TEST(ServerSession, StartTlsInsideTlsIs554AndTlsGoesOn) {
  peer p = after_ehlo();
  p.starttls();
  EXPECT_EQ(p.send("STARTTLS\r\nNOOP\r\n"),
            "554 5.5.1 Error: TLS already active\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
}

TEST(ServerSession, StartTlsWhenTlsUnavailableIs454AndPlaintextGoesOn) {
  peer p = after_ehlo(
      make_config(listener_kind::starttls, policy_with(&server_policy::tls_available, false)));
  EXPECT_EQ(p.send("STARTTLS\r\nNOOP\r\n"),
            "454 4.7.0 TLS not available due to local problem\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
}

TEST(ServerSession, StartTlsBeforeEhloIsAccepted) {
  peer p;
  p.connect();
  EXPECT_EQ(p.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_NE(find_start_tls(p.last()), nullptr);
}

TEST(ServerSession, TlsForgetsTheEhlo) {
  peer p = after_ehlo();
  p.starttls();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
}

TEST(ServerSession, StartTlsMidTransactionResetsIt) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
  p.starttls();
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST(ServerSession, TlsForgetsAPlaintextLogin) {
  peer p =
      after_ehlo(make_config(listener_kind::starttls, policy_with(&server_policy::plaintext_auth)));
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
  p.starttls();
  EXPECT_EQ(p.session().auth_user(), "");
  p.send("EHLO client.test\r\n");
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<victim@foreign.test>\r\n"),
            "554 5.7.1 <victim@foreign.test>: Relay access denied\r\n");
}

TEST(ServerSession, FailedHandshakeClosesWithoutPlaintext) {
  peer p = after_ehlo();
  p.send("STARTTLS\r\n");
  EXPECT_EQ(p.tls_failed("NOOP\r\nMAIL FROM:<a@x.test>\r\n"), "");
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->send_close_notify);
  EXPECT_TRUE(p.session().closed());
  EXPECT_EQ(p.send("NOOP\r\n"), "");
}

// ---------------------------------------------------------------------------------------------
// Wrapper listeners (RFC 8314)

TEST(ServerSession, WrapperStartsTlsAtOnceAndGreetsInsideTls) {
  peer p(make_config(listener_kind::wrapper));
  EXPECT_EQ(p.connect(), "");
  ASSERT_EQ(p.last().size(), 1U);
  ASSERT_TRUE(std::holds_alternative<start_tls>(p.last()[0]));
  EXPECT_FALSE(std::get<start_tls>(p.last()[0]).sniff_plaintext);
  EXPECT_EQ(p.tls_up(), greeting);
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"AUTH PLAIN LOGIN CRAM-MD5"})));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "554 5.5.1 Error: TLS already active\r\n");
}

TEST(ServerSession, WrapperHandshakeFailureCloses) {
  peer p(make_config(listener_kind::wrapper));
  p.connect();
  EXPECT_EQ(p.tls_failed("EHLO x\r\n"), "");
  EXPECT_NE(find_close(p.last()), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Listener policies

TEST(ServerSession, TlsRequiredRefusesAllButNoopEhloStartTlsQuit) {
  peer p(make_config(listener_kind::starttls, policy_with(&server_policy::tls_required)));
  p.connect();
  const std::string refused = "530 5.7.0 Must issue a STARTTLS command first\r\n";
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"STARTTLS"})));
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), refused);
  EXPECT_EQ(p.send("RSET\r\n"), refused);
  EXPECT_EQ(p.send("VRFY x\r\n"), refused);
  EXPECT_EQ(p.send("AUTH PLAIN AGEAYg==\r\n"), refused);
  EXPECT_EQ(p.send("HELO client.test\r\n"), refused);
  p.starttls();
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
}

TEST(ServerSession, MissingClientCertificateRefusesAllButQuit) {
  peer p = after_ehlo(
      make_config(listener_kind::starttls, policy_with(&server_policy::require_client_cert)));
  p.starttls(tls13(false));
  const std::string refused = "554 5.7.0 Command refused due to lack of security\r\n";
  EXPECT_EQ(p.send("EHLO client.test\r\n"), refused);
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), refused);
  EXPECT_EQ(p.send("NOOP\r\n"), refused);
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->send_close_notify);
}

TEST(ServerSession, PresentedClientCertificateIsAccepted) {
  peer p = after_ehlo(
      make_config(listener_kind::starttls, policy_with(&server_policy::require_client_cert)));
  p.starttls(tls13(true));
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"AUTH PLAIN LOGIN CRAM-MD5"})));
}

TEST(ServerSession, PublicMxAcceptsLocalMailWithoutTls) {
  peer p = after_ehlo(make_config(listener_kind::starttls, policy_with(&server_policy::public_mx)));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<postmaster@mx.test>\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
}

// ---------------------------------------------------------------------------------------------
// MAIL, RCPT, relaying

TEST(ServerSession, MailBeforeEhloIs503) {
  peer p;
  p.connect();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
}

TEST(ServerSession, NestedMailIs503) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nMAIL FROM:<b@x.test>\r\n"),
            "250 2.1.0 Ok\r\n503 5.5.1 Error: nested MAIL command\r\n");
}

TEST(ServerSession, BadSenderIs501) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@@x.test>\r\n"), "501 5.1.7 Bad sender address syntax\r\n");
  EXPECT_EQ(p.send("MAIL <a@x.test>\r\n"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
}

TEST(ServerSession, NullSenderIsAccepted) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<>\r\nRCPT TO:<bob@mx.test>\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
}

TEST(ServerSession, MailParameters) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test> SIZE=20000000\r\n"),
            "552 5.3.4 Message size exceeds fixed limit\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test> XFOO=1\r\n"), "555 5.5.4 Unsupported option: XFOO\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test> SIZE=100 BODY=8BITMIME\r\n"), "250 2.1.0 Ok\r\n");
}

TEST(ServerSession, RcptWithoutMailIs503) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST(ServerSession, BadRecipientIs501) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@>\r\n"), "501 5.1.3 Bad recipient address syntax\r\n");
  EXPECT_EQ(p.send("RCPT TO:<>\r\n"), "501 5.1.3 Bad recipient address syntax\r\n");
}

TEST(ServerSession, LocalRecipientsAreAcceptedCaseInsensitively) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@MX.Test>\r\n"), "250 2.1.5 Ok\r\n");
  EXPECT_EQ(p.send("RCPT TO:<carol@localhost>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(ServerSession, RelayAttemptsAreDenied) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<victim@foreign.test>\r\n"),
            "554 5.7.1 <victim@foreign.test>: Relay access denied\r\n");
  for (const char* rcpt : {"<victim%foreign.test@mx.test>", "<foreign.test!victim@mx.test>",
                           "<\"victim@foreign.test\"@mx.test>", "<victim@[192.0.2.1]>",
                           "<@mx.test:victim@foreign.test>"}) {
    const std::string reply = p.send("RCPT TO:"s + rcpt + "\r\n");
    EXPECT_EQ(reply.substr(0, 10), "554 5.7.1 ") << rcpt << ": " << reply;
  }
}

TEST(ServerSession, SourceRouteIsIgnoredForALocalMailbox) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<@foreign.test:bob@mx.test>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(ServerSession, TlsAloneDoesNotGrantRelay) {
  peer p = after_ehlo();
  p.starttls(tls13(true));
  p.send("EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<victim@foreign.test>\r\n"),
            "554 5.7.1 <victim@foreign.test>: Relay access denied\r\n");
}

TEST(ServerSession, AuthenticatedTlsClientMayRelay) {
  peer p = after_ehlo();
  p.starttls();
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
  p.send("MAIL FROM:<alice@mx.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<friend@foreign.test>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(ServerSession, PlaintextLoginDoesNotGrantRelay) {
  peer p =
      after_ehlo(make_config(listener_kind::starttls, policy_with(&server_policy::plaintext_auth)));
  p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n");
  p.send("MAIL FROM:<alice@mx.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<friend@foreign.test>\r\n"),
            "554 5.7.1 <friend@foreign.test>: Relay access denied\r\n");
}

TEST(ServerSession, ListedClientCertificateMayRelay) {
  session_config config = make_config();
  config.relay_client_certs = {"dd:ee:ff"};  // the public-key fingerprint, any case
  peer p = after_ehlo(config);
  p.starttls(tls13(true));
  p.send("EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<friend@foreign.test>\r\n"), "250 2.1.5 Ok\r\n");
}

// ---------------------------------------------------------------------------------------------
// Client-certificate relay (checks.md A7) and its faults

// rcpt_reply runs STARTTLS with `info` on a fresh session listing `listed`, then MAIL and a
// foreign RCPT; it returns the RCPT reply.
std::string rcpt_reply(const tls_peer_info& info, std::vector<std::string> listed,
                       fault_set faults = {}) {
  session_config config = make_config(listener_kind::starttls, {}, faults);
  config.relay_client_certs = std::move(listed);
  peer p = after_ehlo(config);
  p.starttls(info);
  p.send("EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n");
  return p.send("RCPT TO:<friend@foreign.test>\r\n");
}

const std::string relay_ok = "250 2.1.5 Ok\r\n";
const std::string relay_denied = "554 5.7.1 <friend@foreign.test>: Relay access denied\r\n";

TEST(ServerSessionCcert, CertificateFingerprintPermitsRelay) {
  EXPECT_EQ(rcpt_reply(tls13(true), {"AA:BB:CC"}), relay_ok);
}

TEST(ServerSessionFault, Md5ClientCertFingerprints) {
  const fault_set md5 = {fault::md5_client_cert_fingerprints};
  EXPECT_EQ(rcpt_reply(tls13(true), {"AA:BB:CC"}, md5), relay_denied);
  EXPECT_EQ(rcpt_reply(tls13(true), {"DD:EE:FF"}, md5), relay_denied);
  EXPECT_EQ(rcpt_reply(tls13(true), {"11:22"}, md5), relay_ok);
}

TEST(ServerSessionCcert, PublicKeyFingerprintPermitsRelay) {
  EXPECT_EQ(rcpt_reply(tls13(true), {"DD:EE:FF"}), relay_ok);
}

TEST(ServerSessionFault, IgnorePubkeyFingerprint) {
  const fault_set f = {fault::ignore_pubkey_fingerprint};
  EXPECT_EQ(rcpt_reply(tls13(true), {"DD:EE:FF"}, f), relay_denied);
  EXPECT_EQ(rcpt_reply(tls13(true), {"AA:BB:CC"}, f), relay_ok);
}

TEST(ServerSessionCcert, UntrustedListedCertificateMayRelay) {
  EXPECT_EQ(rcpt_reply(untrusted(), {"AA:BB:CC"}), relay_ok);
}

TEST(ServerSessionFault, CcertRelayRequiresTrustedCa) {
  const fault_set f = {fault::ccert_relay_requires_trusted_ca};
  EXPECT_EQ(rcpt_reply(untrusted(), {"AA:BB:CC"}, f), relay_denied);
  EXPECT_EQ(rcpt_reply(tls13(true), {"AA:BB:CC"}, f), relay_ok);
}

TEST(ServerSessionCcert, UnlistedCertificateIsDenied) {
  EXPECT_EQ(rcpt_reply(tls13(true), {"01:02"}), relay_denied);
}

TEST(ServerSessionFault, RelayAnyClientCert) {
  const fault_set f = {fault::relay_any_client_cert};
  EXPECT_EQ(rcpt_reply(tls13(true), {"01:02"}, f), relay_ok);
  EXPECT_EQ(rcpt_reply(tls13(false), {"01:02"}, f), relay_denied);
}

TEST(ServerSessionCcert, UntrustedRequiredCertificateRefusesAllButQuit) {
  peer p = after_ehlo(
      make_config(listener_kind::starttls, policy_with(&server_policy::require_client_cert)));
  p.starttls(untrusted());
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            "554 5.7.0 Command refused due to lack of security\r\n");
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
}

TEST(ServerSessionFault, AcceptUntrustedClientCert) {
  peer p = after_ehlo(make_config(listener_kind::starttls,
                                  policy_with(&server_policy::require_client_cert),
                                  {fault::accept_untrusted_client_cert}));
  p.starttls(untrusted());
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"AUTH PLAIN LOGIN CRAM-MD5"})));
}

// relay_then_plaintext relays a@x.test under a listed certificate, then tries the same sender
// in plaintext on a second session of the same server; returns the plaintext RCPT reply.
std::string relay_then_plaintext(fault_set faults) {
  session_config config = make_config(listener_kind::starttls, {}, faults);
  config.relay_client_certs = {"AA:BB:CC"};
  config.memory = std::make_shared<relay_memory>();
  peer first = after_ehlo(config);
  first.starttls(tls13(true));
  first.send("EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(first.send("RCPT TO:<friend@foreign.test>\r\n"), relay_ok);
  peer second = after_ehlo(config);
  second.send("RSET\r\nMAIL FROM:<b@x.test>\r\n");
  EXPECT_EQ(second.send("RCPT TO:<friend@foreign.test>\r\n"), relay_denied);
  second.send("RSET\r\nMAIL FROM:<a@x.test>\r\n");
  return second.send("RCPT TO:<friend@foreign.test>\r\n");
}

TEST(ServerSessionCcert, PlaintextNeverRelaysForACertificateSender) {
  EXPECT_EQ(relay_then_plaintext({}), relay_denied);
}

TEST(ServerSessionFault, CcertRelayRemembersSender) {
  EXPECT_EQ(relay_then_plaintext({fault::ccert_relay_remembers_sender}), relay_ok);
}

const std::string injected_after_starttls =
    "STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<friend@foreign.test>\r\n";

TEST(ServerSessionCcert, InjectedCommandsAreDiscardedEvenWithACertificate) {
  session_config config = make_config();
  config.relay_client_certs = {"AA:BB:CC"};
  peer p = after_ehlo(config);
  EXPECT_EQ(p.send(injected_after_starttls), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(p.tls_up(tls13(true)), "");
  EXPECT_GT(p.session().discarded_plaintext(), 0U);
}

TEST(ServerSessionFault, CcertRelayKeepsInjectedCommands) {
  session_config config = make_config();
  config.relay_client_certs = {"AA:BB:CC"};
  config.faults = {fault::ccert_relay_keeps_injected_commands};
  peer kept = after_ehlo(config);
  kept.send(injected_after_starttls);
  const std::string replies = kept.tls_up(tls13(true));
  EXPECT_NE(replies.find(relay_ok), std::string::npos) << replies;
  // Without a certificate the plaintext is still discarded.
  peer no_cert = after_ehlo(config);
  no_cert.send(injected_after_starttls);
  EXPECT_EQ(no_cert.tls_up(tls13(false)), "");
}

TEST(ServerSessionCcert, CertificateRequestFollowsThePolicy) {
  EXPECT_FALSE(requests_client_cert({}, {}));
  EXPECT_TRUE(requests_client_cert(policy_with(&server_policy::ask_client_cert), {}));
  EXPECT_TRUE(requests_client_cert(policy_with(&server_policy::require_client_cert), {}));
}

TEST(ServerSessionFault, SkipClientCertRequest) {
  const fault_set f = {fault::skip_client_cert_request};
  EXPECT_FALSE(requests_client_cert(policy_with(&server_policy::ask_client_cert), f));
  // A required certificate is still asked for.
  EXPECT_TRUE(requests_client_cert(policy_with(&server_policy::require_client_cert), f));
}

TEST(ServerSession, HundredAndFirstRecipientIs452) {
  peer p = after_ehlo();
  std::string batch = "MAIL FROM:<a@x.test>\r\n";
  for (int i = 0; i < 101; ++i) {
    batch += "RCPT TO:<user" + std::to_string(i) + "@mx.test>\r\n";
  }
  const std::string out = p.send(batch);
  EXPECT_EQ(count_writes(p.last()), 1U);
  const std::string last = "452 4.5.3 Error: too many recipients\r\n";
  ASSERT_GE(out.size(), last.size());
  EXPECT_EQ(out.substr(out.size() - last.size()), last);
  EXPECT_EQ(out.find("452"), out.size() - last.size());
}

// ---------------------------------------------------------------------------------------------
// DATA

TEST(ServerSession, DataWithoutRecipientsIs503) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
}

TEST(ServerSession, DataDeliversWithReceivedHeader) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(p.send("Subject: hi\r\n\r\nHello\r\n.\r\n"), "250 2.0.0 Ok: queued as 0000010001\r\n");
  auto d = deliveries(p.last());
  ASSERT_EQ(d.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<deliver>(p.last().front()));  // before the 250 goes out
  EXPECT_EQ(d[0].content,
            "Received: from client.test ([192.0.2.7]) by mx.test (smtpsim-reference) with ESMTP "
            "id 0000010001;\r\n\tTue, 01 Jul 2025 10:00:00 +0000\r\n"
            "Subject: hi\r\n\r\nHello\r\n");
  EXPECT_EQ(d[0].reverse_path, "a@x.test");
  EXPECT_EQ(d[0].recipients, std::vector<std::string>{"bob@mx.test"});
  EXPECT_EQ(d[0].helo_name, "client.test");
  EXPECT_EQ(d[0].protocol, "ESMTP");
  EXPECT_FALSE(d[0].tls);
  EXPECT_EQ(d[0].listener, "starttls");
}

TEST(ServerSession, DataRemovesDotStuffing) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  p.send("..leading dot\r\n.\r\n");
  auto d = deliveries(p.last());
  ASSERT_EQ(d.size(), 1U);
  EXPECT_NE(d[0].content.find("\r\n.leading dot\r\n"), std::string::npos) << d[0].content;
}

TEST(ServerSession, LookAlikeEndSequencesDoNotEndData) {
  // SMTP smuggling (CVE-2023-51764/5/6): only CRLF "." CRLF ends the data.
  for (const std::string& seq :
       {"\n.\n"s, "\n.\r\n"s, "\r.\r\n"s, "\r\n.\n"s, "\r\n.\r"s, "\r\n.\r\r\n"s}) {
    peer p = after_ehlo();
    p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
    EXPECT_EQ(p.send("Subject: x\r\n\r\nbody" + seq + "MAIL FROM:<evil@x.test>\r\n"), "")
        << "sequence ended the data early";
    EXPECT_TRUE(deliveries(p.last()).empty());
    EXPECT_EQ(p.send("\r\n.\r\n"), "250 2.0.0 Ok: queued as 0000010001\r\n");
    auto d = deliveries(p.last());
    ASSERT_EQ(d.size(), 1U);
    EXPECT_NE(d[0].content.find("MAIL FROM:<evil@x.test>"), std::string::npos);
  }
}

TEST(ServerSession, DataEndSplitAcrossReads) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  EXPECT_EQ(p.send("body\r"), "");
  EXPECT_EQ(p.send("\n."), "");
  EXPECT_EQ(p.send("\r"), "");
  EXPECT_EQ(p.send("\n"), "250 2.0.0 Ok: queued as 0000010001\r\n");
}

TEST(ServerSession, CommandsAfterDataInTheSameReadAreAnswered) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  EXPECT_EQ(p.send("body\r\n.\r\nQUIT\r\n"),
            "250 2.0.0 Ok: queued as 0000010001\r\n221 2.0.0 Bye\r\n");
  ASSERT_EQ(p.last().size(), 3U);
  EXPECT_TRUE(std::holds_alternative<deliver>(p.last()[0]));
  EXPECT_TRUE(std::holds_alternative<write_bytes>(p.last()[1]));
  EXPECT_TRUE(std::holds_alternative<close_connection>(p.last()[2]));
}

TEST(ServerSession, TransactionEndsWithTheData) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nx\r\n.\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nx\r\n.\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
            "250 2.0.0 Ok: queued as 0000010002\r\n");
}

// ---------------------------------------------------------------------------------------------
// BDAT (RFC 3030)

TEST(ServerSession, BdatChunksAreCountedInOctets) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\n");
  // A dot line and command text inside a chunk are content; a chunk may split anywhere.
  const std::string first = "Subject: c\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@x.test>\r\n";
  EXPECT_EQ(p.send("BDAT " + std::to_string(first.size()) + "\r\n" + first.substr(0, 10)), "");
  EXPECT_EQ(p.send(first.substr(10)),
            "250 2.0.0 Ok: " + std::to_string(first.size()) + " octets\r\n");
  EXPECT_TRUE(deliveries(p.last()).empty());
  EXPECT_EQ(p.send("BDAT 4 LAST\r\ntail"), "250 2.0.0 Ok: queued as 0000010001\r\n");
  auto d = deliveries(p.last());
  ASSERT_EQ(d.size(), 1U);
  EXPECT_NE(d[0].content.find(first + "tail"), std::string::npos) << d[0].content;
  // The transaction ended with LAST.
  EXPECT_EQ(p.send("BDAT 0 LAST\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
}

TEST(ServerSession, BdatCommandsPipelinedBehindTheChunkAreAnswered) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nBDAT 3 LAST\r\nabcNOOP\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as 0000010001\r\n"
            "250 2.0.0 Ok\r\n");
}

TEST(ServerSession, RefusedBdatStillConsumesItsChunk) {
  peer p = after_ehlo();
  // No transaction: the chunk is read and dropped, then 503; its "NOOP" is never a command.
  EXPECT_EQ(p.send("BDAT 6\r\nNOOP\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
  EXPECT_EQ(p.send("BDAT x\r\n"), "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n");
  // TLS required: 530 after the chunk.
  peer q =
      after_ehlo(make_config(listener_kind::starttls, policy_with(&server_policy::tls_required)));
  EXPECT_EQ(q.send("BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n"),
            "530 5.7.0 Must issue a STARTTLS command first\r\n250 2.0.0 Ok\r\n");
}

TEST(ServerSession, DataAfterBdatIsRefused) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nBDAT 2\r\nab");
  EXPECT_EQ(p.send("DATA\r\n"), "503 5.5.1 Error: DATA after BDAT\r\n");
  EXPECT_EQ(
      p.send("RSET\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n"),
      "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
}

TEST(ServerSessionFault, BdatChunkAsData) {
  fault_set f;
  f.set(fault::bdat_chunk_as_data);
  peer p = after_ehlo(make_config(listener_kind::starttls, {}, f));
  const std::string chunk = "Subject: c\r\n\r\nbody\r\n.\r\nNOOP\r\n";
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nBDAT " +
                   std::to_string(chunk.size()) + " LAST\r\n" + chunk),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as 0000010001\r\n"
            "250 2.0.0 Ok\r\n");
}

TEST(ServerSession, OversizedMessageIs552AndNotDelivered) {
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  const std::string line(998, 'x');
  std::string chunk;
  for (int i = 0; i < 1024; ++i) {
    chunk += line + "\r\n";
  }
  for (std::size_t sent = 0; sent <= max_message_size; sent += chunk.size()) {
    ASSERT_EQ(p.send(chunk), "");
  }
  EXPECT_EQ(p.send(".\r\n"), "552 5.3.4 Error: message too large\r\n");
  EXPECT_TRUE(deliveries(p.last()).empty());
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSession, ReceivedProtocolWords) {
  auto deliver_one = [](peer& p) {
    p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nx\r\n.\r\n");
    auto d = deliveries(p.last());
    return d.empty() ? std::string("none") : d[0].protocol;
  };
  {
    peer p;
    p.connect();
    p.send("HELO client.test\r\n");
    EXPECT_EQ(deliver_one(p), "SMTP");
  }
  {
    peer p = after_ehlo();
    EXPECT_EQ(deliver_one(p), "ESMTP");
  }
  {
    peer p = after_ehlo();
    p.starttls();
    p.send("EHLO client.test\r\n");
    EXPECT_EQ(deliver_one(p), "ESMTPS");
    p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n");
    EXPECT_EQ(deliver_one(p), "ESMTPSA");
  }
  {
    peer p = after_ehlo(
        make_config(listener_kind::starttls, policy_with(&server_policy::plaintext_auth)));
    p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n");
    EXPECT_EQ(deliver_one(p), "ESMTPA");
  }
}

TEST(ServerSession, ReceivedNamesTheEhloGivenInsideTls) {
  peer p = after_ehlo(make_config(), "pre.test");
  p.starttls();
  p.send("EHLO post.test\r\n");
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nx\r\n.\r\n");
  auto d = deliveries(p.last());
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].content.rfind("Received: from post.test ([192.0.2.7]) by mx.test "
                               "(smtpsim-reference) with ESMTPS id ",
                               0),
            0U)
      << d[0].content;
  EXPECT_TRUE(d[0].tls);
  EXPECT_EQ(d[0].tls_version, "TLSv1.3");
}

// ---------------------------------------------------------------------------------------------
// Other commands and malformed input

TEST(ServerSession, SimpleCommands) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("NOOP anything at all\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("VRFY bob\r\n"), "252 2.0.0 Cannot VRFY user\r\n");
  EXPECT_EQ(p.send("HELP\r\n"), "214 2.0.0 See RFC 5321\r\n");
  EXPECT_EQ(p.send("FOO bar\r\n"), "500 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(p.send("\r\n"), "500 5.5.2 Error: bad syntax\r\n");
  EXPECT_EQ(p.send("noop\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_close(p.last()), nullptr);
}

TEST(ServerSession, QuitClosesAfter221) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("QUIT\r\nNOOP\r\n"), "221 2.0.0 Bye\r\n");
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->send_close_notify);
}

TEST(ServerSession, QuitInsideTlsSendsCloseNotify) {
  peer p = after_ehlo();
  p.starttls();
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->send_close_notify);
}

TEST(ServerSession, BareLfLineIsRefusedWhole) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("NOOP\nRSET\r\n"), "500 5.5.2 Error: bare <LF> received\r\n");
}

TEST(ServerSession, NulInCommandIsRefused) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("NOOP\0x\r\n"s), "500 5.5.2 Error: NUL character in command\r\n");
}

TEST(ServerSession, OverlongLineGetsOne500AndItsTailIsNotExecuted) {
  peer p = after_ehlo();
  const std::string line = "NOOP " + std::string(3000, 'x') + "QUIT\r\n";
  EXPECT_EQ(p.send(line), "500 5.5.2 Error: command too long\r\n");
  EXPECT_EQ(find_close(p.last()), nullptr);
  const std::string huge = "NOOP " + std::string(20000, 'x') + "QUIT\r\nNOOP\r\n";
  EXPECT_EQ(p.send(huge), "500 5.5.2 Error: command too long\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_close(p.last()), nullptr);
}

TEST(ServerSession, OverlongLineSentInPiecesGetsOne500) {
  peer p = after_ehlo();
  std::string out;
  out += p.send("NOOP ");
  for (int i = 0; i < 30; ++i) {
    out += p.send(std::string(1000, 'x'));
  }
  out += p.send("QUIT\r\n");
  EXPECT_EQ(out, "500 5.5.2 Error: command too long\r\n");
}

TEST(ServerSession, PartialCommandWaitsForItsEnd) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("NO"), "");
  EXPECT_TRUE(p.last().empty());
  EXPECT_EQ(p.send("OP\r"), "");
  EXPECT_EQ(p.send("\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSession, PipelinedBatchGetsOneWriteInOrder) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\n"
                   "DATA\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
            "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(p.last().size(), 1U);
}

TEST(ServerSession, PipelinedFiftyRecipientsAllAnswered) {
  peer p = after_ehlo();
  std::string batch = "MAIL FROM:<a@x.test>\r\n";
  for (int i = 0; i < 50; ++i) {
    batch += "RCPT TO:<u" + std::to_string(i) + "@mx.test>\r\n";
  }
  batch += "DATA\r\n";
  const std::string out = p.send(batch);
  std::size_t replies = 0;
  for (std::size_t pos = out.find("\r\n"); pos != std::string::npos;
       pos = out.find("\r\n", pos + 2)) {
    ++replies;
  }
  EXPECT_EQ(replies, 52U);
  EXPECT_EQ(count_writes(p.last()), 1U);
}

TEST(ServerSession, TwentyErrorsEndTheSession) {
  peer p = after_ehlo();
  std::string batch;
  for (int i = 0; i < 19; ++i) {
    batch += "FOO\r\n";
  }
  p.send(batch);
  EXPECT_EQ(find_close(p.last()), nullptr);
  EXPECT_EQ(p.send("FOO\r\nNOOP\r\n"),
            "500 5.5.2 Error: command not recognized\r\n421 4.7.0 mx.test Error: too many "
            "errors\r\n");
  EXPECT_NE(find_close(p.last()), nullptr);
}

TEST(ServerSession, IdleTimeoutSays421AndCloses) {
  peer p = after_ehlo();
  EXPECT_EQ(p.idle(), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->send_close_notify);

  peer q = after_ehlo();
  q.starttls();
  EXPECT_EQ(q.idle(), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
  c = find_close(q.last());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->send_close_notify);
}

TEST(ServerSession, IdleTimeoutWhileAwaitingTlsClosesSilently) {
  peer p = after_ehlo();
  p.send("STARTTLS\r\n");
  EXPECT_EQ(p.idle(), "");
  EXPECT_NE(find_close(p.last()), nullptr);
}

TEST(ServerSession, FormatsRfc5322Dates) {
  EXPECT_EQ(format_rfc5322_date(fixed_now()), "Tue, 01 Jul 2025 10:00:00 +0000");
  EXPECT_EQ(format_rfc5322_date(std::chrono::sys_days{std::chrono::year{2000} / 1 / 9}),
            "Sun, 09 Jan 2000 00:00:00 +0000");
}

// ---------------------------------------------------------------------------------------------
// AUTH (RFC 4954)

peer tls_peer(session_config config = make_config()) {
  peer p = after_ehlo(std::move(config));
  p.starttls();
  p.send("EHLO client.test\r\n");
  return p;
}

TEST(ServerSessionAuth, RefusedInPlaintextBeforeLookingAtCredentials) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("AUTH PLAIN AHUAcA==\r\n"), "503 5.5.1 Error: authentication not enabled\r\n");
  EXPECT_EQ(p.send("AUTH LOGIN\r\n"), "503 5.5.1 Error: authentication not enabled\r\n");
}

TEST(ServerSessionAuth, PlainWithInitialResponse) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(p.session().auth_user(), "alice@mx.test");
}

TEST(ServerSessionAuth, PlainWithAuthorizationIdentityOfItself) {
  peer p = tls_peer();
  const std::string msg = "alice@mx.test\0alice@mx.test\0"s + password;
  EXPECT_EQ(p.send("AUTH PLAIN " + tls::base64_encode(msg) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionAuth, PlainWithoutInitialResponse) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(p.send(plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionAuth, PlainEmptyInitialResponseFails) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN =\r\n"), "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST(ServerSessionAuth, WrongPasswordIs535AndSessionGoesOn) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", "wrong") + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("mallory@mx.test", password) + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionAuth, EmptyConfiguredPasswordNeverMatches) {
  session_config config = make_config();
  config.login.password.clear();
  peer p = tls_peer(config);
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", "") + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST(ServerSessionAuth, LoginExchange) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(p.send(tls::base64_encode("alice@mx.test") + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(p.send(tls::base64_encode(password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionAuth, LoginWithInitialUserName) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH LOGIN " + tls::base64_encode("alice@mx.test") + "\r\n"),
            "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(p.send(tls::base64_encode("nope") + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST(ServerSessionAuth, StarCancels) {
  peer p = tls_peer();
  p.send("AUTH LOGIN\r\n");
  EXPECT_EQ(p.send("*\r\n"), "501 5.7.0 Authentication aborted\r\n");
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  p.send("AUTH PLAIN\r\n");
  EXPECT_EQ(p.send("*\r\n"), "501 5.7.0 Authentication aborted\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN *\r\n"), "501 5.7.0 Authentication aborted\r\n");
}

TEST(ServerSessionAuth, BadBase64Is501) {
  peer p = tls_peer();
  for (const char* bad : {"=AAA", "AAA=BBB", "!!!!"}) {
    EXPECT_EQ(p.send("AUTH PLAIN "s + bad + "\r\n"), "501 5.5.2 Cannot decode response\r\n") << bad;
  }
  p.send("AUTH LOGIN\r\n");
  EXPECT_EQ(p.send("@@@@\r\n"), "501 5.5.2 Cannot decode response\r\n");
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionAuth, SecondAuthIs503) {
  peer p = tls_peer();
  p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "503 5.5.1 Error: already authenticated\r\n");
}

TEST(ServerSessionAuth, AuthInTransactionIs503) {
  peer p = tls_peer();
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "503 5.5.1 Error: MAIL transaction in progress\r\n");
}

TEST(ServerSessionAuth, UnknownMechanismIs504) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH SCRAM-SHA-256\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
  EXPECT_EQ(p.send("AUTH FOO !!!!\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
  EXPECT_EQ(p.send("AUTH\r\n"), "501 5.5.4 Syntax: AUTH mechanism\r\n");
}

TEST(ServerSessionAuth, AuthBeforeEhloInsideTlsIs503) {
  peer p = after_ehlo();
  p.starttls();
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "503 5.5.1 Error: send HELO/EHLO first\r\n");
}

TEST(ServerSessionAuth, OverlongAuthCommandGetsOne500) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN " + std::string(20000, 'A') + "\r\nNOOP\r\n"),
            "500 5.5.6 Authentication exchange line is too long\r\n250 2.0.0 Ok\r\n");
}

TEST(ServerSessionAuth, OverlongAuthResponseGetsOne500) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(p.send(std::string(20000, 'A') + "\r\nNOOP\r\n"),
            "500 5.5.6 Authentication exchange line is too long\r\n250 2.0.0 Ok\r\n");
}

TEST(ServerSessionAuth, AuthLineLongerThanACommandIsAccepted) {
  // RFC 4954 §4: AUTH lines may reach 12288 octets, beyond the 2048 of other commands.
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH PLAIN " + std::string(4000, 'A') + "\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
}

// ---------------------------------------------------------------------------------------------
// Faults: each changes one behaviour.

session_config faulty(fault f, listener_kind kind = listener_kind::starttls,
                      server_policy policy = {}) {
  return make_config(kind, policy, fault_set{f});
}

TEST(ServerSessionFault, ExecutePipelinedAfterStartTls) {
  peer p = after_ehlo(faulty(fault::execute_pipelined_after_starttls));
  EXPECT_EQ(p.send("STARTTLS\r\nRSET\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  ASSERT_EQ(p.last().size(), 3U);
  ASSERT_TRUE(std::holds_alternative<read_window>(p.last()[1]));
  EXPECT_EQ(std::get<read_window>(p.last()[1]).duration, starttls_linger);
  EXPECT_TRUE(std::holds_alternative<start_tls>(p.last()[2]));
  EXPECT_EQ(p.window_closed("NOOP\r\n"), "");
  EXPECT_EQ(p.tls_up(), "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.session().discarded_plaintext(), 0U);
}

TEST(ServerSessionFault, ReadvertiseStartTls) {
  peer p = after_ehlo(faulty(fault::readvertise_starttls));
  p.starttls();
  EXPECT_EQ(
      p.send("EHLO client.test\r\n"),
      ehlo_text("client.test", with(base_extensions, {"STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5"})));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "554 5.5.1 Error: TLS already active\r\n");

  peer w(faulty(fault::readvertise_starttls, listener_kind::wrapper));
  w.connect();
  w.tls_up();
  EXPECT_EQ(
      w.send("EHLO client.test\r\n"),
      ehlo_text("client.test", with(base_extensions, {"STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5"})));
}

TEST(ServerSessionFault, AcceptNestedStartTls) {
  peer p = after_ehlo(faulty(fault::accept_nested_starttls));
  p.starttls();
  EXPECT_EQ(p.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
  EXPECT_EQ(p.send("NOOP\r\n"), "");
  EXPECT_NE(find_close(p.last()), nullptr);
}

TEST(ServerSessionFault, KeepEhloAcrossTls) {
  peer p = after_ehlo(faulty(fault::keep_ehlo_across_tls));
  p.starttls();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
}

TEST(ServerSessionFault, RememberAuthAcrossTls) {
  server_policy weak;
  weak.plaintext_auth = true;
  peer p = after_ehlo(faulty(fault::remember_auth_across_tls, listener_kind::starttls, weak));
  p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n");
  p.starttls();
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  p.send("EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RCPT TO:<victim@foreign.test>\r\n"), "250 2.1.5 Ok\r\n");
}

TEST(ServerSessionFault, AcceptStartTlsArgument) {
  peer p = after_ehlo(faulty(fault::accept_starttls_argument));
  EXPECT_EQ(p.send("STARTTLS x\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_NE(find_start_tls(p.last()), nullptr);
}

TEST(ServerSessionFault, StartTlsKeywordWithParams) {
  peer p(faulty(fault::starttls_keyword_with_params));
  p.connect();
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"STARTTLS REQUIRED"})));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
}

TEST(ServerSessionFault, HeloReturnsExtensions) {
  peer p(faulty(fault::helo_returns_extensions));
  p.connect();
  EXPECT_EQ(p.send("HELO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"STARTTLS"})));
}

TEST(ServerSessionFault, StartTls502) {
  peer p = after_ehlo(faulty(fault::starttls_502));
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"STARTTLS"})));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "502 5.5.1 Command not implemented\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
}

TEST(ServerSessionFault, StartTls220ThenDrop) {
  peer p = after_ehlo(faulty(fault::starttls_220_then_drop));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->send_close_notify);
}

TEST(ServerSessionFault, PlaintextAfterFailedHandshake) {
  peer p = after_ehlo(faulty(fault::plaintext_after_failed_handshake));
  p.send("STARTTLS\r\n");
  const start_tls* s = find_start_tls(p.last());
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->sniff_plaintext);
  EXPECT_EQ(p.tls_failed("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_close(p.last()), nullptr);
  EXPECT_FALSE(p.session().tls_active());
}

TEST(ServerSessionFault, TlsRequiredAcceptsMail) {
  server_policy required;
  required.tls_required = true;
  peer p = after_ehlo(faulty(fault::tls_required_accepts_mail, listener_kind::starttls, required));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(p.send("RSET\r\n"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
}

TEST(ServerSessionFault, RequireTlsOnMx) {
  server_policy mx;
  mx.public_mx = true;
  peer p = after_ehlo(faulty(fault::require_tls_on_mx, listener_kind::starttls, mx));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"),
            "530 5.7.0 Must issue a STARTTLS command first\r\n");
  p.starttls();
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");

  peer not_mx = after_ehlo(faulty(fault::require_tls_on_mx));
  EXPECT_EQ(not_mx.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
}

TEST(ServerSessionFault, TlsUnavailable554) {
  server_policy broken;
  broken.tls_available = false;
  peer p = after_ehlo(faulty(fault::tls_unavailable_554, listener_kind::starttls, broken));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "554 5.7.0 TLS not available\r\n");
}

TEST(ServerSessionFault, AcceptWithoutClientCert) {
  server_policy ccert;
  ccert.require_client_cert = true;
  peer p = after_ehlo(faulty(fault::accept_without_client_cert, listener_kind::starttls, ccert));
  p.starttls(tls13(false));
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"AUTH PLAIN LOGIN CRAM-MD5"})));
}

TEST(ServerSessionFault, StartTlsKeepsEnvelope) {
  peer p = after_ehlo(faulty(fault::starttls_keeps_envelope));
  p.send("MAIL FROM:<a@x.test>\r\n");
  p.starttls();
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "250 2.1.5 Ok\r\n");
  // Only the first EHLO after the handshake keeps it.
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("RCPT TO:<bob@mx.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST(ServerSessionFault, ReceivedUsesFirstEhlo) {
  peer p = after_ehlo(faulty(fault::received_uses_first_ehlo), "pre.test");
  p.starttls();
  p.send("EHLO post.test\r\n");
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nx\r\n.\r\n");
  auto d = deliveries(p.last());
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].content.rfind("Received: from pre.test ", 0), 0U) << d[0].content;
  EXPECT_NE(d[0].content.find("with ESMTPS id"), std::string::npos);
}

TEST(ServerSessionFault, ReceivedWithoutTls) {
  peer p = after_ehlo(faulty(fault::received_without_tls));
  p.starttls();
  p.send("EHLO post.test\r\n");
  p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nx\r\n.\r\n");
  auto d = deliveries(p.last());
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].content.rfind("Received: from post.test ", 0), 0U) << d[0].content;
  EXPECT_NE(d[0].content.find("with ESMTP id"), std::string::npos) << d[0].content;
  EXPECT_TRUE(d[0].tls);
}

TEST(ServerSessionFault, GreetPlaintextOnWrapper) {
  peer p(faulty(fault::greet_plaintext_on_wrapper, listener_kind::wrapper));
  EXPECT_EQ(p.connect(), greeting);
  ASSERT_EQ(p.last().size(), 2U);
  EXPECT_TRUE(std::holds_alternative<start_tls>(p.last()[1]));

  peer starttls(faulty(fault::greet_plaintext_on_wrapper));
  EXPECT_EQ(starttls.connect(), greeting);
  EXPECT_EQ(starttls.last().size(), 1U);
}

TEST(ServerSessionFault, WrapperAnswersPlaintext) {
  peer p(faulty(fault::wrapper_answers_plaintext, listener_kind::wrapper));
  EXPECT_EQ(p.connect(), "");
  const start_tls* s = find_start_tls(p.last());
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->sniff_plaintext);
  EXPECT_EQ(p.tls_failed("EHLO x\r\n"), greeting + ehlo_text("x", base_extensions));
}

TEST(ServerSessionFault, OmitCloseNotify) {
  peer p = after_ehlo(faulty(fault::omit_close_notify));
  p.starttls();
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  const close_connection* c = find_close(p.last());
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->send_close_notify);
}

TEST(ServerSessionFault, HangOnStartTlsBeforeEhlo) {
  peer p(faulty(fault::hang_on_starttls_before_ehlo));
  p.connect();
  EXPECT_EQ(p.send("STARTTLS\r\n"), "");
  EXPECT_TRUE(p.last().empty());
  EXPECT_EQ(p.send("NOOP\r\n"), "");
  EXPECT_TRUE(p.last().empty());

  peer after = after_ehlo(faulty(fault::hang_on_starttls_before_ehlo));
  EXPECT_EQ(after.send("STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
}

TEST(ServerSessionFault, ReplyBeforeGreeting) {
  peer p(faulty(fault::reply_before_greeting));
  EXPECT_EQ(p.connect(), "");
  ASSERT_EQ(p.last().size(), 1U);
  ASSERT_TRUE(std::holds_alternative<read_window>(p.last()[0]));
  EXPECT_EQ(p.window_closed("EHLO x\r\n"),
            ehlo_text("x", with(base_extensions, {"STARTTLS"})) + greeting);

  peer quiet(faulty(fault::reply_before_greeting));
  quiet.connect();
  EXPECT_EQ(quiet.window_closed(""), greeting);
}

// squash lower-cases and drops underscores: "starttls_502" and "StartTls502" both give
// "starttls502".
std::string squash(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c != '_') {
      out += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
  }
  return out;
}

TEST(ServerSessionFault, EveryFaultHasItsOwnTest) {
  std::set<std::string> tests;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()) != "ServerSessionFault") {
      continue;
    }
    for (int j = 0; j < suite.total_test_count(); ++j) {
      tests.insert(squash(suite.GetTestInfo(j)->name()));
    }
  }
  for (const fault_info& info : all_faults()) {
    EXPECT_EQ(tests.count(squash(info.name)), 1U) << "no ServerSessionFault test for " << info.name;
  }
}

}  // namespace
}  // namespace smtpsim::reference

namespace smtpsim::reference {
namespace {

// ---------------------------------------------------------------------------------------------
// CRAM-MD5 (RFC 2195) and the auth_required listener

using namespace std::string_view_literals;

// cram_challenge returns the decoded challenge of a "334 <base64>" reply.
std::string cram_challenge(const std::string& reply) {
  EXPECT_EQ(reply.substr(0, 4), "334 ");
  return tls::base64_decode(reply.substr(4, reply.size() - 6)).value_or("");
}

TEST(ServerSessionCramMd5, ChallengeAndDigestLogIn) {
  peer p = tls_peer();
  const std::string challenge = cram_challenge(p.send("AUTH CRAM-MD5\r\n"));
  EXPECT_EQ(challenge, "<1.1@mx.test>");
  EXPECT_EQ(
      p.send(tls::base64_encode("alice@mx.test " + cram_md5_digest(password, challenge)) + "\r\n"),
      "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(p.session().auth_user(), "alice@mx.test");
}

TEST(ServerSessionCramMd5, WrongDigestIs535) {
  peer p = tls_peer();
  const std::string challenge = cram_challenge(p.send("AUTH CRAM-MD5\r\n"));
  EXPECT_EQ(
      p.send(tls::base64_encode("alice@mx.test " + cram_md5_digest("wrong", challenge)) + "\r\n"),
      "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(p.session().auth_user(), "");
}

TEST(ServerSessionCramMd5, InitialResponseIs501) {
  peer p = tls_peer();
  EXPECT_EQ(p.send("AUTH CRAM-MD5 Zm9v\r\n"),
            "501 5.7.0 Initial response not allowed with CRAM-MD5\r\n");
}

TEST(ServerSessionFault, CramMd5TakesInitialResponse) {
  peer p =
      tls_peer(make_config(listener_kind::starttls, {}, {fault::cram_md5_takes_initial_response}));
  EXPECT_EQ(p.send("AUTH CRAM-MD5 Zm9v\r\n"), "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST(ServerSessionAuthRequired, MailBeforeAuthIs530) {
  peer p =
      tls_peer(make_config(listener_kind::starttls, policy_with(&server_policy::auth_required)));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "530 5.7.0 Authentication required\r\n");
  p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
}

TEST(ServerSessionFault, AuthRequiredAcceptsMail) {
  peer p = tls_peer(make_config(listener_kind::starttls, policy_with(&server_policy::auth_required),
                                {fault::auth_required_accepts_mail}));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
}

// ---------------------------------------------------------------------------------------------
// The AUTH faults (checks.md A6)

TEST(ServerSessionFault, AuthInPlaintext) {
  peer p = after_ehlo(make_config(listener_kind::starttls, {}, {fault::auth_in_plaintext}));
  EXPECT_NE(p.send("EHLO client.test\r\n").find("250 AUTH PLAIN LOGIN CRAM-MD5\r\n"),
            std::string::npos);
  EXPECT_EQ(p.send("AUTH PLAIN AHUAcA==\r\n"), "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(p.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
}

TEST(ServerSessionFault, AuthFailureWrongStatus) {
  peer p = tls_peer(make_config(listener_kind::starttls, {}, {fault::auth_failure_wrong_status}));
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", "no") + "\r\n"),
            "535 5.7.1 Authentication credentials invalid\r\n");
}

TEST(ServerSessionFault, AuthCancel535) {
  peer good = tls_peer();
  good.send("AUTH LOGIN\r\n");
  EXPECT_EQ(good.send("*\r\n"), "501 5.7.0 Authentication aborted\r\n");
  peer bad = tls_peer(make_config(listener_kind::starttls, {}, {fault::auth_cancel_535}));
  bad.send("AUTH LOGIN\r\n");
  EXPECT_EQ(bad.send("*\r\n"), "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST(ServerSessionFault, DecodeAuthLeniently) {
  peer good = tls_peer();
  peer bad = tls_peer(make_config(listener_kind::starttls, {}, {fault::decode_auth_leniently}));
  for (const char* response : {"=AAA", "AAA=BBB", "!!!!"}) {
    const std::string line = "AUTH PLAIN "s + response + "\r\n";
    EXPECT_EQ(good.send(line), "501 5.5.2 Cannot decode response\r\n") << response;
    EXPECT_EQ(bad.send(line), "535 5.7.8 Authentication credentials invalid\r\n") << response;
  }
  // Well-formed base64 still decodes as usual.
  EXPECT_EQ(bad.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionFault, AllowSecondAuth) {
  const std::string login = "AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n";
  peer twice = tls_peer(make_config(listener_kind::starttls, {}, {fault::allow_second_auth}));
  twice.send(login);
  EXPECT_EQ(twice.send(login), "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionFault, AllowAuthInTransaction) {
  const std::string login = "AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n";
  peer in_mail =
      tls_peer(make_config(listener_kind::starttls, {}, {fault::allow_auth_in_transaction}));
  in_mail.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(in_mail.send(login), "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionFault, UnboundedAuthLine) {
  const std::string line = "AUTH PLAIN " + std::string(20000, 'A') + "\r\n";
  peer good = tls_peer();
  EXPECT_EQ(good.send(line), "500 5.5.6 Authentication exchange line is too long\r\n");
  EXPECT_EQ(good.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
  peer bad = tls_peer(make_config(listener_kind::starttls, {}, {fault::unbounded_auth_line}));
  EXPECT_EQ(bad.send(line), "535 5.7.8 Authentication credentials invalid\r\n");
  // Other commands keep their limit.
  EXPECT_EQ(bad.send("NOOP " + std::string(3000, 'a') + "\r\n"),
            "500 5.5.2 Error: command too long\r\n");
}

TEST(ServerSessionFault, DropAfterFirstAuthFailure) {
  const std::string bad_login = "AUTH PLAIN " + plain_response("alice@mx.test", "no") + "\r\n";
  peer good = tls_peer();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(good.send(bad_login), "535 5.7.8 Authentication credentials invalid\r\n");
  }
  EXPECT_FALSE(good.session().closed());
  peer bad =
      tls_peer(make_config(listener_kind::starttls, {}, {fault::drop_after_first_auth_failure}));
  EXPECT_EQ(bad.send(bad_login),
            "535 5.7.8 Authentication credentials invalid\r\n"
            "421 4.7.0 mx.test Error: too many authentication failures\r\n");
  EXPECT_TRUE(bad.session().closed());
}

// ---------------------------------------------------------------------------------------------
// Relay faults (checks.md A8)

TEST(ServerSessionFault, OpenRelay) {
  for (const char* rcpt :
       {"victim@foreign.test", "victim%foreign.test@mx.test", "\"victim@foreign.test\"@mx.test",
        "foreign.test!victim@mx.test", "victim@[192.0.2.1]", "@mx.test:victim@foreign.test"}) {
    peer good = after_ehlo();
    good.send("MAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(good.send("RCPT TO:<"s + rcpt + ">\r\n").substr(0, 10), "554 5.7.1 ") << rcpt;
    peer bad = after_ehlo(make_config(listener_kind::starttls, {}, {fault::open_relay}));
    bad.send("MAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(bad.send("RCPT TO:<"s + rcpt + ">\r\n"), "250 2.1.5 Ok\r\n") << rcpt;
  }
}

TEST(ServerSessionFault, RefuseNullSender) {
  peer good = after_ehlo();
  EXPECT_EQ(good.send("MAIL FROM:<>\r\n"), "250 2.1.0 Ok\r\n");
  peer bad = after_ehlo(make_config(listener_kind::starttls, {}, {fault::refuse_null_sender}));
  EXPECT_EQ(bad.send("MAIL FROM:<>\r\n"),
            "553 5.1.7 <>: Sender address rejected: null sender not accepted\r\n");
}

// ---------------------------------------------------------------------------------------------
// Smuggling faults (checks.md A12)

// smuggle sends a DATA body of "first" + `seq` + a pipelined second transaction and returns the
// replies and the messages delivered.
std::pair<std::string, std::vector<delivered_message>> smuggle(fault_set faults,
                                                               std::string_view seq) {
  peer p = after_ehlo(make_config(listener_kind::starttls, {}, faults));
  p.send("MAIL FROM:<a@x.test>\r\n");
  p.send("RCPT TO:<postmaster@mx.test>\r\n");
  p.send("DATA\r\n");
  const std::string body = "Subject: t\r\n\r\nfirst"s + std::string(seq) +
                           "MAIL FROM:<s@spoof.test>\r\nRCPT TO:<postmaster@mx.test>\r\n"
                           "DATA\r\nsmuggled\r\n.\r\n";
  std::string replies = p.send(body);
  return {replies, deliveries(p.last())};
}

struct smuggling_case {
  std::string_view seq;
  fault f;
};

// check_ends_data_only_at checks that fault `f` ends DATA at exactly its look-alike sequences
// (a second message is delivered) and at none of the others, where the conformant server
// delivers one message holding everything.
void check_ends_data_only_at(fault f) {
  const std::vector<smuggling_case> cases = {
      {"\n.\n", fault::lf_dot_lf_ends_data},        {"\n.\r\n", fault::lf_dot_lf_ends_data},
      {"\r.\r", fault::cr_dot_ends_data},           {"\r.\n", fault::cr_dot_ends_data},
      {"\n.\r", fault::cr_dot_ends_data},           {"\r.\r\n", fault::cr_dot_ends_data},
      {"\r\n\0.\r\n"sv, fault::nul_dot_ends_data},  {"\r\n.\r\r\n", fault::extra_cr_ends_data},
      {"\r\r\n.\r\r\n", fault::extra_cr_ends_data},
  };
  for (const auto& c : cases) {
    // The conformant server: one message, the look-alike and the "commands" inside it.
    auto [replies, messages] = smuggle({}, c.seq);
    EXPECT_EQ(replies.substr(0, 4), "250 ") << ::testing::PrintToString(std::string(c.seq));
    EXPECT_EQ(replies.find("\r\n", 0) + 2, replies.size());
    ASSERT_EQ(messages.size(), 1U);
    EXPECT_NE(messages[0].content.find("smuggled"), std::string::npos);
    auto [r, m] = smuggle({f}, c.seq);
    const std::string what =
        std::string(to_string(f)) + " with " + ::testing::PrintToString(std::string(c.seq));
    if (f == c.f) {
      ASSERT_EQ(m.size(), 2U) << what << ": " << r;
      EXPECT_EQ(m[0].content.find("smuggled"), std::string::npos) << what;
      EXPECT_NE(m[1].content.find("smuggled"), std::string::npos) << what;
      EXPECT_NE(r.find("354 "), std::string::npos) << what;
    } else {
      EXPECT_EQ(m.size(), 1U) << what << ": " << r;
    }
  }
}

TEST(ServerSessionFault, LfDotLfEndsData) { check_ends_data_only_at(fault::lf_dot_lf_ends_data); }

TEST(ServerSessionFault, CrDotEndsData) { check_ends_data_only_at(fault::cr_dot_ends_data); }

TEST(ServerSessionFault, NulDotEndsData) { check_ends_data_only_at(fault::nul_dot_ends_data); }

TEST(ServerSessionFault, ExtraCrEndsData) { check_ends_data_only_at(fault::extra_cr_ends_data); }

TEST(ServerSessionSmuggling, LenientReaderKeepsDotStuffingAndTheRealEnd) {
  peer p = after_ehlo(make_config(listener_kind::starttls, {}, {fault::lf_dot_lf_ends_data}));
  p.send("MAIL FROM:<a@x.test>\r\n");
  p.send("RCPT TO:<postmaster@mx.test>\r\n");
  p.send("DATA\r\n");
  EXPECT_EQ(p.send("a\r\n..b\r\n"), "");
  EXPECT_EQ(p.send(".\r\n").substr(0, 4), "250 ");
  const auto m = deliveries(p.last());
  ASSERT_EQ(m.size(), 1U);
  EXPECT_NE(m[0].content.find("a\r\n.b\r\n"), std::string::npos) << m[0].content;
}

// ---------------------------------------------------------------------------------------------
// Line-length and malformed-input faults (checks.md A11)

session_config with_fault(fault f) { return make_config(listener_kind::starttls, {}, {f}); }

// count_replies counts the final lines ("NNN ") of the replies in `out`.
std::size_t count_replies(std::string_view out) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < out.size()) {
    const std::size_t end = out.find("\r\n", pos);
    if (end == std::string_view::npos) {
      break;
    }
    if (end - pos >= 4 && out[pos + 3] == ' ') {
      ++n;
    }
    pos = end + 2;
  }
  return n;
}

TEST(ServerSessionLine, ConformantLineHandling) {
  peer p = after_ehlo();
  EXPECT_EQ(p.send("NOOP " + std::string(505, 'a') + "\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("NOOP " + std::string(2043, 'A') + "QUIT\r\n"),
            "500 5.5.2 Error: command too long\r\n");
  EXPECT_EQ(p.send("NOOP " + std::string(70000, 'A') + "QUIT\r\n"),
            "500 5.5.2 Error: command too long\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<\xc3\xa9@x.test>\r\n"), "500 5.5.2 Error: invalid character\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a\0b@x.test>\r\n"sv),
            "500 5.5.2 Error: NUL character in command\r\n");
  EXPECT_EQ(p.send("NOOP\n"), "");
  EXPECT_EQ(p.send("NOOP\r\n"), "500 5.5.2 Error: bare <LF> received\r\n");
  EXPECT_EQ(p.send("noop foo\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("GET / HTTP/1.0\r\n").substr(0, 4), "500 ");
  EXPECT_EQ(p.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_FALSE(p.session().closed());
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  EXPECT_NE(find_close(p.last()), nullptr);
}

TEST(ServerSessionFault, ShortCommandLimit) {
  const std::string line = "NOOP " + std::string(505, 'a') + "\r\n";  // 512 octets
  EXPECT_EQ(after_ehlo().send(line), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(after_ehlo(with_fault(fault::short_command_limit)).send(line),
            "500 5.5.2 Error: command too long\r\n");
  EXPECT_EQ(after_ehlo(with_fault(fault::short_command_limit))
                .send("NOOP " + std::string(504, 'a') + "\r\n"),
            "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionFault, ShortLocalPartLimit) {
  const std::string mail = "MAIL FROM:<" + std::string(64, 'l') + "@x.test>\r\n";
  EXPECT_EQ(after_ehlo().send(mail), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(after_ehlo(with_fault(fault::short_local_part_limit)).send(mail).substr(0, 10),
            "501 5.1.7 ");
}

TEST(ServerSessionFault, ExecuteOverlongTail) {
  const std::string line = "NOOP " + std::string(505, 'A') + "QUIT\r\n";
  EXPECT_EQ(after_ehlo().send(line), "250 2.0.0 Ok\r\n");
  // The first 510 octets are taken as a NOOP, the tail as QUIT.
  peer p = after_ehlo(with_fault(fault::execute_overlong_tail));
  EXPECT_EQ(p.send(line), "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
  EXPECT_TRUE(p.session().closed());
  // Fed in small pieces, the same.
  peer q = after_ehlo(with_fault(fault::execute_overlong_tail));
  std::string out;
  for (std::size_t i = 0; i < line.size(); i += 100) {
    out += q.send(std::string_view(line).substr(i, 100));
  }
  EXPECT_EQ(out, "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
  // A line of exactly 510 octets is one command.
  EXPECT_EQ(after_ehlo(with_fault(fault::execute_overlong_tail))
                .send("NOOP " + std::string(505, 'A') + "\r\n"),
            "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionFault, TwoRepliesToOneCommand) {
  for (std::size_t n : {std::size_t{2043}, std::size_t{70000}}) {
    const std::string line = "NOOP " + std::string(n, 'A') + "QUIT\r\n";
    EXPECT_EQ(count_replies(after_ehlo().send(line)), 1U) << n;
    peer p = after_ehlo(with_fault(fault::two_replies_to_one_command));
    EXPECT_EQ(p.send(line),
              "500 5.5.2 Error: command too long\r\n500 5.5.2 Error: command not recognized\r\n")
        << n;
    EXPECT_FALSE(p.session().closed());
  }
}

std::vector<delivered_message> deliver_text(fault_set faults, const std::string& text) {
  peer p = after_ehlo(make_config(listener_kind::starttls, {}, faults));
  p.send("MAIL FROM:<a@x.test>\r\n");
  p.send("RCPT TO:<postmaster@mx.test>\r\n");
  p.send("DATA\r\n");
  p.send("Subject: t\r\n\r\n" + text + "\r\n.\r\n");
  return deliveries(p.last());
}

TEST(ServerSessionFault, SplitLongTextLines) {
  const std::string line(998, 'x');
  auto good = deliver_text({}, line);
  ASSERT_EQ(good.size(), 1U);
  EXPECT_NE(good[0].content.find("\n" + line + "\r\n"), std::string::npos);
  auto bad = deliver_text({fault::split_long_text_lines}, line);
  ASSERT_EQ(bad.size(), 1U);
  EXPECT_EQ(bad[0].content.find(line), std::string::npos);
  EXPECT_NE(
      bad[0].content.find("\n" + std::string(990, 'x') + "\r\n" + std::string(8, 'x') + "\r\n"),
      std::string::npos);
}

TEST(ServerSessionFault, RefuseRecipientsPast50) {
  for (bool faulty : {false, true}) {
    peer p = after_ehlo(faulty ? with_fault(fault::refuse_recipients_past_50) : make_config());
    p.send("MAIL FROM:<a@x.test>\r\n");
    for (int i = 0; i < 50; ++i) {
      ASSERT_EQ(p.send("RCPT TO:<postmaster@mx.test>\r\n"), "250 2.1.5 Ok\r\n");
    }
    EXPECT_EQ(p.send("RCPT TO:<postmaster@mx.test>\r\n"),
              faulty ? "550 5.5.3 Error: too many recipients\r\n" : "250 2.1.5 Ok\r\n");
  }
  peer p = after_ehlo();
  p.send("MAIL FROM:<a@x.test>\r\n");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(p.send("RCPT TO:<postmaster@mx.test>\r\n"), "250 2.1.5 Ok\r\n");
  }
  EXPECT_EQ(p.send("RCPT TO:<postmaster@mx.test>\r\n"), "452 4.5.3 Error: too many recipients\r\n");
}

TEST(ServerSessionFault, BareLfEndsCommand) {
  EXPECT_EQ(after_ehlo().send("NOOP\n"), "");
  EXPECT_EQ(after_ehlo(with_fault(fault::bare_lf_ends_command)).send("NOOP\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionFault, StripNulInCommand) {
  peer p = after_ehlo(with_fault(fault::strip_nul_in_command));
  EXPECT_EQ(p.send("MAIL FROM:<a\0b@x.test>\r\n"sv), "250 2.1.0 Ok\r\n");
}

TEST(ServerSessionFault, DropOnLoneCrInCommand) {
  peer good = after_ehlo();
  EXPECT_EQ(good.send("NOOP a\rb\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(find_close(good.last()), nullptr);
  peer p = after_ehlo(with_fault(fault::drop_on_lone_cr_in_command));
  EXPECT_EQ(p.send("NOOP ab\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("NOOP a\rb\r\n"), "");  // no reply: the session just ends
  EXPECT_NE(find_close(p.last()), nullptr);
}

TEST(ServerSessionFault, Accept8bitEnvelope) {
  peer p = after_ehlo(with_fault(fault::accept_8bit_envelope));
  EXPECT_EQ(p.send("MAIL FROM:<\xc3\xa9@x.test>\r\n").substr(0, 4), "250 ");
}

TEST(ServerSessionFault, CaseSensitiveVerbs) {
  EXPECT_EQ(after_ehlo().send("mail from:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
  peer p = after_ehlo(with_fault(fault::case_sensitive_verbs));
  EXPECT_EQ(p.send("mail from:<a@x.test>\r\n"), "500 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(p.send("MAIL from:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");
}

TEST(ServerSessionFault, DropAtErrorLimit) {
  for (bool faulty : {false, true}) {
    peer p = after_ehlo(faulty ? with_fault(fault::drop_at_error_limit) : make_config());
    std::string out;
    for (int i = 0; i < 30 && !p.session().closed(); ++i) {
      out += p.send("XYZZY\r\n");
    }
    EXPECT_TRUE(p.session().closed());
    EXPECT_EQ(out.find("421 ") != std::string::npos, !faulty) << out;
  }
}

TEST(ServerSessionFault, RsetCloses) {
  peer p = after_ehlo(with_fault(fault::rset_closes));
  p.send("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(p.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_FALSE(p.session().closed());
  EXPECT_EQ(p.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_TRUE(p.session().closed());
}

TEST(ServerSessionFault, QuitKeepsConnection) {
  peer p = after_ehlo(with_fault(fault::quit_keeps_connection));
  EXPECT_EQ(p.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
  EXPECT_FALSE(p.session().closed());
  EXPECT_EQ(find_close(p.last()), nullptr);
}

TEST(ServerSessionFault, NoopRefusesArgument) {
  peer p = after_ehlo(with_fault(fault::noop_refuses_argument));
  EXPECT_EQ(p.send("NOOP foo\r\n"), "501 5.5.4 Syntax: NOOP\r\n");
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionFault, HangOnHttpRequest) {
  peer p = after_ehlo(with_fault(fault::hang_on_http_request));
  EXPECT_EQ(p.send("GET / HTTP/1.0\r\n\r\n"), "");
  EXPECT_EQ(p.send("NOOP\r\n"), "");
  EXPECT_FALSE(p.session().closed());
}

TEST(ServerSessionFault, ReorderPipelinedReplies) {
  peer p = after_ehlo(with_fault(fault::reorder_pipelined_replies));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<postmaster@mx.test>\r\nDATA\r\n"),
            "354 End data with <CR><LF>.<CR><LF>\r\n250 2.1.5 Ok\r\n250 2.1.0 Ok\r\n");
  EXPECT_EQ(p.send("NOOP\r\n"), "");  // message content now
}

TEST(ServerSessionFault, AnswerFirstPipelinedCommandOnly) {
  peer p = after_ehlo(with_fault(fault::answer_first_pipelined_command_only));
  EXPECT_EQ(p.send("NOOP\r\nRSET\r\nNOOP\r\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(ServerSessionFault, HoldRepliesAfterPipelining) {
  peer p = after_ehlo(with_fault(fault::hold_replies_after_pipelining));
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "250 2.1.0 Ok\r\n");  // not pipelining yet
  EXPECT_EQ(p.send("RSET\r\nNOOP\r\n"), "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(p.send("MAIL FROM:<a@x.test>\r\n"), "");  // held: the input buffer is empty
  EXPECT_EQ(p.send("NOOP\r\n"), "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n");
}

TEST(ServerSessionFault, SyncErrorOnAuthInitialResponse) {
  peer p = after_ehlo(with_fault(fault::sync_error_on_auth_initial_response));
  p.starttls();
  p.send("EHLO client.test\r\n");
  EXPECT_EQ(p.send("AUTH PLAIN " + plain_response("alice@mx.test", password) +
                   "\r\nMAIL FROM:<a@x.test>\r\n"),
            "554 5.5.0 Error: SMTP protocol synchronization\r\n");
  EXPECT_TRUE(p.session().closed());
  peer q = after_ehlo(with_fault(fault::sync_error_on_auth_initial_response));
  q.starttls();
  q.send("EHLO client.test\r\n");
  EXPECT_EQ(q.send("AUTH PLAIN " + plain_response("alice@mx.test", password) + "\r\n"),
            "235 2.7.0 Authentication successful\r\n");
}

TEST(ServerSessionFault, MiddleboxMasksStartTls) {
  peer p(with_fault(fault::middlebox_masks_starttls));
  p.connect();
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            ehlo_text("client.test", with(base_extensions, {"XXXXXXXA"})));
  EXPECT_EQ(p.send("STARTTLS\r\n"), "500 5.5.2 Error: command not recognized\r\n");
  EXPECT_EQ(find_start_tls(p.last()), nullptr);
}

TEST(ServerSessionFault, EhloKeywordFirst) {
  peer p(with_fault(fault::ehlo_keyword_first));
  p.connect();
  EXPECT_EQ(p.send("EHLO client.test\r\n"),
            "250-PIPELINING\r\n250-mx.test greets client.test\r\n250-SIZE 10240000\r\n"
            "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250 STARTTLS\r\n");
}

}  // namespace
}  // namespace smtpsim::reference
