#include "simulator/script/fake_server.hpp"

#include <gtest/gtest.h>

namespace smtpsim::script {
namespace {

using namespace std::chrono_literals;

// written concatenates the write effects; `tls`, `wait`, `close`, `reset` mark the others.
std::string render(const server_effects& effects) {
  std::string out;
  for (const auto& e : effects) {
    if (const auto* w = std::get_if<write_effect>(&e)) {
      out += w->bytes;
    } else if (const auto* d = std::get_if<wait_effect>(&e)) {
      out += "<wait " + std::to_string(d->duration.count()) + ">";
    } else if (std::holds_alternative<tls_effect>(e)) {
      out += "<tls>";
    } else if (std::holds_alternative<close_effect>(e)) {
      out += "<close>";
    } else {
      out += "<reset>";
    }
  }
  return out;
}

std::size_t writes(const server_effects& effects) {
  std::size_t n = 0;
  for (const auto& e : effects) {
    n += std::holds_alternative<write_effect>(e) ? 1 : 0;
  }
  return n;
}

tls_facts established() {
  tls_facts f;
  f.established = true;
  f.version = "TLSv1.3";
  f.cipher = "TLS_AES_128_GCM_SHA256";
  return f;
}

class FakeServer : public ::testing::Test {
 protected:
  fake_server_session make(fake_server_config c = {}) {
    return fake_server_session(std::move(c), 0, log_, std::chrono::steady_clock::now());
  }
  transcript log_;
};

TEST_F(FakeServer, PlaysAWholeStarttlsConversation) {
  auto s = make();
  EXPECT_EQ(render(s.on_connect()), "220 fake.test ESMTP smtpsim\r\n");
  EXPECT_EQ(render(s.on_data("EHLO client.test\r\n")),
            "250-fake.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
  EXPECT_EQ(render(s.on_data("STARTTLS\r\n")), "220 2.0.0 Ready to start TLS\r\n<tls>");
  EXPECT_EQ(render(s.on_tls_established(established())), "");
  EXPECT_TRUE(s.tls_active());
  EXPECT_NE(render(s.on_data("EHLO client.test\r\n")).find("250-AUTH PLAIN LOGIN\r\n"),
            std::string::npos);
  EXPECT_EQ(render(s.on_data("AUTH PLAIN AGEAYg==\r\n")),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(render(s.on_data("MAIL FROM:<a@client.test>\r\nRCPT TO:<b@fake.test>\r\nDATA\r\n")),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(render(s.on_data("Subject: x\r\n\r\n..hidden\r\n.\r\nQUIT\r\n")),
            "250 2.0.0 Ok: queued as FAKE01\r\n221 2.0.0 Bye\r\n<close>");
  const auto& r = s.record();
  EXPECT_TRUE(r.starttls_accepted);
  EXPECT_EQ(r.after_220, "tls");
  EXPECT_TRUE(r.message_accepted);
  EXPECT_TRUE(r.message_in_tls);
  EXPECT_EQ(r.message, "Subject: x\r\n\r\n.hidden\r\n");
  ASSERT_EQ(r.commands.size(), 8u);
  EXPECT_FALSE(r.commands[0].tls);
  EXPECT_TRUE(r.commands[2].tls);
  EXPECT_EQ(r.commands[3].verb, "AUTH");
  // MAIL, RCPT and DATA came in one read: RCPT and DATA are early (pipelined).
  EXPECT_FALSE(r.commands[4].early);
  EXPECT_TRUE(r.commands[5].early);
  EXPECT_EQ(r.commands[5].early_after, "MAIL");
  EXPECT_TRUE(r.commands[6].early);
  // QUIT came in the read that ended the data, after the message: pipelined after DATA.
  EXPECT_EQ(r.commands[7].verb, "QUIT");
  EXPECT_TRUE(r.commands[7].early);
  EXPECT_TRUE(s.closed());
}

TEST_F(FakeServer, RepliesOfOneReadGoOutAsOneWrite) {
  auto s = make();
  s.on_connect();
  auto e = s.on_data("EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
  EXPECT_EQ(writes(e), 1u);
}

TEST_F(FakeServer, ForgedRepliesAfterThe220AreWrittenInTheSameWrite) {
  fake_server_config c;
  c.starttls_reply = "220 2.0.0 Ready\r\n250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n";
  auto s = make(c);
  s.on_connect();
  s.on_data("EHLO a\r\n");
  auto e = s.on_data("STARTTLS\r\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(std::get<write_effect>(e[0]).bytes, c.starttls_reply);
  EXPECT_TRUE(std::holds_alternative<tls_effect>(e[1]));
}

TEST_F(FakeServer, PlaintextPipelinedAfterStarttlsIsRecordedNotAnswered) {
  auto s = make();
  s.on_connect();
  s.on_data("EHLO a\r\n");
  EXPECT_EQ(render(s.on_data("STARTTLS\r\nEHLO a\r\n")), "220 2.0.0 Ready to start TLS\r\n<tls>");
  const auto& cmds = s.record().commands;
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[2].verb, "EHLO");
  EXPECT_FALSE(cmds[2].tls);
  EXPECT_TRUE(cmds[2].early);
  EXPECT_EQ(cmds[2].early_after, "STARTTLS");
}

TEST_F(FakeServer, StarttlsDelayHoldsThe220AndRecordsWhatArrivesMeanwhile) {
  fake_server_config c;
  c.starttls_delay = 3000ms;
  auto s = make(c);
  s.on_connect();
  s.on_data("EHLO a\r\n");
  EXPECT_EQ(render(s.on_data("STARTTLS\r\n")), "<wait 3000>");
  EXPECT_EQ(render(s.on_window("MAIL FROM:<a@b>\r\n")), "220 2.0.0 Ready to start TLS\r\n<tls>");
  const auto& cmds = s.record().commands;
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_TRUE(cmds[2].in_delay);
  EXPECT_EQ(cmds[2].early_after, "STARTTLS");
}

TEST_F(FakeServer, EhloDelayAnswersLaterCommandsAfterTheHeldReply) {
  fake_server_config c;
  c.ehlo = {"STARTTLS"};
  c.ehlo_delay = 3000ms;
  auto s = make(c);
  s.on_connect();
  EXPECT_EQ(render(s.on_data("EHLO a\r\n")), "<wait 3000>");
  EXPECT_EQ(render(s.on_window("STARTTLS\r\n")),
            "250-fake.test\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n<tls>");
  EXPECT_TRUE(s.record().commands[1].early);
  EXPECT_EQ(s.record().commands[1].early_after, "EHLO");
}

TEST_F(FakeServer, A454KeepsThePlaintextConversationGoing) {
  fake_server_config c;
  c.starttls_reply = "454 4.7.0 TLS not available due to temporary reason\r\n";
  auto s = make(c);
  s.on_connect();
  s.on_data("EHLO a\r\n");
  EXPECT_EQ(render(s.on_data("STARTTLS\r\n")), c.starttls_reply);
  EXPECT_EQ(render(s.on_data("MAIL FROM:<a@b>\r\n")), "250 2.1.0 Ok\r\n");
  EXPECT_FALSE(s.record().starttls_accepted);
}

TEST_F(FakeServer, StarttlsNotAdvertisedGets502AndWithAnArgument501) {
  fake_server_config c;
  c.ehlo = {"PIPELINING"};
  auto s = make(c);
  s.on_connect();
  s.on_data("EHLO a\r\n");
  EXPECT_EQ(render(s.on_data("STARTTLS\r\n")), "502 5.5.1 Error: command not implemented\r\n");
  auto t = make();
  t.on_connect();
  t.on_data("EHLO a\r\n");
  EXPECT_EQ(render(t.on_data("STARTTLS now\r\n")), "501 5.5.4 Syntax: STARTTLS\r\n");
}

TEST_F(FakeServer, SideSpecificRepliesAndResets) {
  fake_server_config c;
  c.replies["plain:EHLO"] = "500 5.5.1 go away\r\n";
  c.reset_after = {"tls:MAIL"};
  auto s = make(c);
  s.on_connect();
  EXPECT_EQ(render(s.on_data("EHLO a\r\n")), "500 5.5.1 go away\r\n");
  EXPECT_EQ(render(s.on_data("HELO a\r\n")), "250 fake.test\r\n");
  s.on_data("STARTTLS\r\n");
  s.on_tls_established(established());
  EXPECT_NE(render(s.on_data("EHLO a\r\n")).find("250-fake.test"), std::string::npos);
  EXPECT_EQ(render(s.on_data("MAIL FROM:<a@b>\r\n")), "<reset>");
  EXPECT_TRUE(s.closed());
}

TEST_F(FakeServer, A421ClosesAfterItIsWritten) {
  fake_server_config c;
  c.replies["MAIL"] = "421 4.3.0 closing\r\n";
  auto s = make(c);
  s.on_connect();
  s.on_data("EHLO a\r\n");
  EXPECT_EQ(render(s.on_data("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")),
            "421 4.3.0 closing\r\n<close>");
  EXPECT_EQ(s.record().commands.size(), 2u);  // RCPT was never read
}

TEST_F(FakeServer, AuthLoginAndCancelledChallenges) {
  auto s = make();
  s.on_connect();
  s.on_data("EHLO a\r\n");
  EXPECT_EQ(render(s.on_data("AUTH LOGIN\r\n")), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(render(s.on_data("dXNlcg==\r\n")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(render(s.on_data("cGFzcw==\r\n")), "235 2.7.0 Authentication successful\r\n");
  EXPECT_TRUE(s.record().commands[2].sasl_response);
  fake_server_config c;
  c.replies["AUTH"] = "334 !!!notbase64\r\n";
  auto t = make(c);
  t.on_connect();
  t.on_data("EHLO a\r\n");
  EXPECT_EQ(render(t.on_data("AUTH PLAIN\r\n")), "334 !!!notbase64\r\n");
  EXPECT_EQ(render(t.on_data("*\r\n")), "501 5.7.0 Authentication aborted\r\n");
}

TEST_F(FakeServer, WrapperModeStartsWithTlsAndGreetsInside) {
  fake_server_config c;
  c.wrapper = true;
  auto s = make(c);
  EXPECT_EQ(render(s.on_connect()), "<tls>");
  EXPECT_EQ(render(s.on_tls_established(established())), "220 fake.test ESMTP smtpsim\r\n");
  EXPECT_TRUE(s.record().wrapper);
}

TEST_F(FakeServer, PlaintextInsteadOfAClientHelloIsRecordedAndCloses) {
  auto s = make();
  s.on_connect();
  s.on_data("EHLO a\r\n");
  s.on_data("STARTTLS\r\n");
  tls_facts f;
  f.error = "plaintext instead of a ClientHello";
  EXPECT_EQ(render(s.on_tls_failed(f, "MAIL FROM:<a@b>\r\n")), "<close>");
  const auto& r = s.record();
  EXPECT_EQ(r.after_220, "plaintext");
  EXPECT_EQ(r.after_220_bytes, "MAIL FROM:<a@b>\r\n");
  EXPECT_EQ(r.commands.back().verb, "MAIL");
  EXPECT_FALSE(r.commands.back().tls);
}

TEST_F(FakeServer, PlaintextFaultWritesTheErrorAndServesOnInTheClear) {
  fake_server_config c;
  c.tls.fault = tls_fault::plaintext;
  auto s = make(c);
  s.on_connect();
  s.on_data("EHLO a\r\n");
  s.on_data("STARTTLS\r\n");
  EXPECT_EQ(render(s.on_fault_done()), "554 5.7.0 Unable to initialize security subsystem\r\n");
  EXPECT_FALSE(s.tls_active());
  EXPECT_EQ(render(s.on_data("MAIL FROM:<a@b>\r\n")), "250 2.1.0 Ok\r\n");
  EXPECT_FALSE(s.record().commands.back().tls);
}

TEST_F(FakeServer, GreetingDelayMarksEarlyTalkers) {
  fake_server_config c;
  c.greeting_delay = 500ms;
  auto s = make(c);
  EXPECT_EQ(render(s.on_connect()), "<wait 500>");
  EXPECT_EQ(render(s.on_window("EHLO a\r\n")).substr(0, 28), "220 fake.test ESMTP smtpsim\r");
  EXPECT_TRUE(s.record().commands[0].early);
  EXPECT_TRUE(s.record().commands[0].in_delay);
}

TEST_F(FakeServer, ConversationsAreBounded) {
  auto s = make();
  s.on_connect();
  std::string many;
  for (std::size_t i = 0; i < fake_server_session::max_commands + 10; ++i) {
    many += "NOOP\r\n";
  }
  const std::string out = render(s.on_data(many));
  EXPECT_NE(out.find("421 4.7.0"), std::string::npos);
  EXPECT_TRUE(s.closed());
  EXPECT_EQ(s.record().commands.size(), fake_server_session::max_commands);
}

TEST_F(FakeServer, EveryByteIsInTheTranscript) {
  auto s = make();
  s.on_connect();
  s.on_data("EHLO a\r\n");
  std::string in, out;
  for (const auto& e : log_.entries()) {
    if (e.dir == direction::received) {
      in += e.bytes;
    } else if (e.dir == direction::sent) {
      out += e.bytes;
    }
  }
  EXPECT_EQ(in, "EHLO a\r\n");
  EXPECT_EQ(out.substr(0, 4), "220 ");
  EXPECT_NE(out.find("250 8BITMIME\r\n"), std::string::npos);
}

}  // namespace
}  // namespace smtpsim::script
