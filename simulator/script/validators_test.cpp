// The cross-cutting validators on byte-vector transcripts: a clean transcript has no finding,
// and each violation gives exactly the finding expected, including the readings a strict server
// and a lenient one would both allow.

#include "simulator/script/validators.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace smtpsim::script {
namespace {

// session builds a transcript the way client_runner records one.
class session {
 public:
  session() { connect(); }

  session& connect() {
    t_.add_event(tick(), false, conn_, "connected to starttls 127.0.0.1:25");
    return *this;
  }
  session& reconnect() {
    t_.add_event(tick(), tls_, conn_, "closed the connection");
    ++conn_;
    tls_ = false;
    return connect();
  }
  // c: octets the client (smtpsim) sent; s: octets the server sent.
  session& c(std::string_view bytes) {
    t_.add_bytes(tick(), direction::sent, tls_, conn_, bytes);
    return *this;
  }
  session& s(std::string_view bytes) {
    t_.add_bytes(tick(), direction::received, tls_, conn_, bytes);
    return *this;
  }
  session& tls() {
    tls_ = true;
    t_.add_event(tick(), true, conn_, "TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384");
    return *this;
  }
  session& closed() {
    t_.add_event(tick(), tls_, conn_, "connection closed by the peer");
    return *this;
  }
  // ehlo: EHLO and a reply that advertises ENHANCEDSTATUSCODES (or not).
  session& ehlo(bool esc = true) {
    c("EHLO probe.test\r\n");
    return s(esc ? "250-mx.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"
                 : "250-mx.test\r\n250 PIPELINING\r\n");
  }
  std::size_t last() const { return t_.entries().size() - 1; }
  validation run() const { return validate_server_transcript(t_); }

 private:
  std::chrono::microseconds tick() { return std::chrono::microseconds(++us_); }
  transcript t_;
  std::uint32_t conn_ = 0;
  bool tls_ = false;
  std::int64_t us_ = 0;
};

std::size_t count(const validation& v, std::string_view id) {
  return static_cast<std::size_t>(std::count_if(
      v.findings.begin(), v.findings.end(), [&](const finding& f) { return f.validator == id; }));
}

bool checked(const validation& v, std::string_view id) {
  return std::find(v.checked.begin(), v.checked.end(), id) != v.checked.end();
}

std::string dump(const validation& v) {
  std::string out;
  for (const auto& f : v.findings) {
    out += f.validator + " @" + std::to_string(f.entry) + "+" + std::to_string(f.offset) + " " +
           f.line + ": " + f.reason + "\n";
  }
  return out;
}

TEST(Validators, CleanSessionWithDataHasNoFinding) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("MAIL FROM:<a@x.test>\r\n").s("250 2.1.0 Ok\r\n");
  x.c("RCPT TO:<b@x.test>\r\n").s("250 2.1.5 Ok\r\n");
  x.c("DATA\r\n").s("354 End data with <CR><LF>.<CR><LF>\r\n");
  // Content lines that look like replies and commands, a dot-stuffed line, then the end.
  x.c("Subject: t\r\n\r\n250 2.0.0 fake\r\nMAIL FROM:<s@spoof.test>\r\n..\r\nQUIT\r\n");
  x.c("\r\n.\r\n").s("250 2.0.0 Ok: queued\r\n");
  x.c("QUIT\r\n").s("221 2.0.0 Bye\r\n").closed();
  const auto v = x.run();
  EXPECT_TRUE(v.findings.empty()) << dump(v);
  EXPECT_TRUE(checked(v, one_reply_validator));
  EXPECT_TRUE(checked(v, multiline_validator));
  EXPECT_TRUE(checked(v, esc_validator));
}

TEST(Validators, SecondReplyToOneCommandIsFlaggedAtItsOffset) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("NOOP\r\n").s("250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
  const std::size_t entry = x.last();
  const auto v = x.run();
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  const finding& f = v.findings.front();
  EXPECT_EQ(f.validator, one_reply_validator);
  EXPECT_EQ(f.v, verdict::fail);
  EXPECT_EQ(f.entry, entry);
  EXPECT_EQ(f.offset, 14U);
  EXPECT_EQ(f.line, "250 2.0.0 Ok");
  EXPECT_NE(f.reason.find("no command outstanding"), std::string::npos) << f.reason;
}

TEST(Validators, SeveralCommandsInOneWriteEachGetOneReply) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("NOOP\r\nRSET\r\nNOOP\r\n").s("250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
  x.s("250 2.0.0 Ok\r\n");
  EXPECT_TRUE(x.run().findings.empty());
  x.s("250 2.0.0 Ok\r\n");
  EXPECT_EQ(count(x.run(), one_reply_validator), 1U);
}

TEST(Validators, PipelinedCommandDiscardedAtStarttlsNeedsNoReply) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("STARTTLS\r\nRSET\r\n").s("220 2.0.0 Ready to start TLS\r\n").tls();
  x.ehlo().c("QUIT\r\n").s("221 2.0.0 Bye\r\n");
  const auto v = x.run();
  EXPECT_TRUE(v.findings.empty()) << dump(v);
}

TEST(Validators, PlaintextReplyToThePipelinedCommandIsNotThisValidatorsBusiness) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("STARTTLS\r\nRSET\r\n").s("220 2.0.0 Ready to start TLS\r\n250 2.0.0 Ok\r\n").tls();
  x.ehlo();
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());
}

TEST(Validators, PipelinedCommandAnsweredInsideTlsIsASecondReply) {
  // CVE-2011-0411: the RSET sent in plaintext is answered inside TLS.
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("STARTTLS\r\nRSET\r\n").s("220 2.0.0 Ready to start TLS\r\n").tls();
  x.s("250 2.0.0 Ok\r\n");
  const auto v = x.run();
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_EQ(v.findings.front().validator, one_reply_validator);
  EXPECT_NE(v.findings.front().reason.find("inside TLS"), std::string::npos);
}

TEST(Validators, WrapperModeGreetingInsideTls) {
  session x;
  x.tls().s("220 mx.test ESMTP\r\n").ehlo().c("QUIT\r\n").s("221 2.0.0 Bye\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());
}

TEST(Validators, AuthExchangeResponsesAreCommands) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("AUTH LOGIN\r\n").s("334 VXNlcm5hbWU6\r\n");
  x.c("dXNlcg==\r\n").s("334 UGFzc3dvcmQ6\r\n");
  x.c("cGFzcw==\r\n").s("235 2.7.0 Authentication successful\r\n");
  x.c("AUTH PLAIN\r\n").s("334 \r\n").c("*\r\n").s("501 5.7.0 Authentication aborted\r\n");
  auto v = x.run();
  EXPECT_TRUE(v.findings.empty()) << dump(v);
  x.s("235 2.7.0 Authentication successful\r\n");
  v = x.run();
  EXPECT_EQ(count(v, one_reply_validator), 1U) << dump(v);
  EXPECT_EQ(v.findings.size(), 1U) << dump(v);
}

TEST(Validators, Unsolicited421BeforeTheCloseIsAllowed) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.s("421 4.4.2 mx.test Error: timeout exceeded\r\n").closed();
  auto v = x.run();
  EXPECT_TRUE(v.findings.empty()) << dump(v);

  session y;
  y.s("220 mx.test ESMTP\r\n").ehlo().c("NOOP\r\n");
  y.s("421 4.4.2 shutting down\r\n250 2.0.0 Ok\r\n");  // 421 answers NOOP: one reply too many
  EXPECT_EQ(count(y.run(), one_reply_validator), 1U) << dump(y.run());

  session z;
  z.s("220 mx.test ESMTP\r\n").ehlo();
  z.s("421 4.4.2 shutting down\r\n").c("NOOP\r\n").s("250 2.0.0 Ok\r\n");
  v = z.run();
  ASSERT_EQ(count(v, one_reply_validator), 1U) << dump(v);
  EXPECT_NE(v.findings.front().reason.find("421"), std::string::npos);
}

TEST(Validators, Unsolicited421WithoutEnhancedCodeIsAnEscFinding) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.s("421 mx.test closing\r\n").closed();
  const auto v = x.run();
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_EQ(v.findings.front().validator, esc_validator);
}

TEST(Validators, MixedCodesInAMultilineReply) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo(false);
  x.c("HELP\r\n").s("214-Commands:\r\n250 HELO EHLO MAIL\r\n");
  const auto v = x.run();
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_EQ(v.findings.front().validator, multiline_validator);
  EXPECT_EQ(v.findings.front().line, "214-Commands:");
  EXPECT_FALSE(checked(v, esc_validator));
}

TEST(Validators, EscMissingClassMismatchContinuationAndThreeHundreds) {
  auto one = [](std::string_view command, std::string_view reply) {
    session x;
    x.s("220 mx.test ESMTP\r\n").ehlo();
    x.c(command).s(reply);
    return x.run();
  };
  EXPECT_TRUE(one("NOOP\r\n", "250 2.0.0 Ok\r\n").findings.empty());
  EXPECT_TRUE(one("DATA\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n").findings.empty());
  EXPECT_TRUE(one("RCPT TO:<x@y>\r\n", "550-5.7.1 no\r\n550 5.7.1 really\r\n").findings.empty());
  for (const auto& [command, reply] : {std::pair{"NOOP\r\n", "250 Ok\r\n"},
                                       {"NOOP\r\n", "250 5.0.0 Ok\r\n"},
                                       {"RCPT TO:<x@y>\r\n", "550-5.7.1 no\r\n550 really\r\n"},
                                       {"RCPT TO:<x@y>\r\n", "550-5.7.1 no\r\n550 5.1.1 no\r\n"},
                                       {"DATA\r\n", "354 2.0.0 go ahead\r\n"}}) {
    const auto v = one(command, reply);
    ASSERT_EQ(v.findings.size(), 1U) << reply << dump(v);
    EXPECT_EQ(v.findings.front().validator, esc_validator) << reply;
  }
}

TEST(Validators, EscAppliesOnlyAfterAnAdvertisingEhloOnTheSameSide) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo(false).c("NOOP\r\n").s("250 Ok\r\n");
  EXPECT_TRUE(x.run().findings.empty());
  EXPECT_FALSE(checked(x.run(), esc_validator));

  // Advertised in plaintext; after STARTTLS the new session has no EHLO yet.
  session y;
  y.s("220 mx.test ESMTP\r\n").ehlo().c("STARTTLS\r\n").s("220 2.0.0 Ready\r\n").tls();
  y.c("NOOP\r\n").s("250 Ok\r\n");
  EXPECT_TRUE(y.run().findings.empty()) << dump(y.run());
  y.ehlo().c("NOOP\r\n").s("250 Ok\r\n");
  EXPECT_EQ(count(y.run(), esc_validator), 1U) << dump(y.run());

  // HELO replies are exempt and end the extended session; a failed EHLO changes nothing.
  session z;
  z.s("220 mx.test ESMTP\r\n").ehlo().c("EHLO\r\n").s("501 Syntax: EHLO hostname\r\n");
  z.c("NOOP\r\n").s("250 2.0.0 Ok\r\n");
  z.c("HELO probe.test\r\n").s("250 mx.test\r\n").c("NOOP\r\n").s("250 Ok\r\n");
  EXPECT_TRUE(z.run().findings.empty()) << dump(z.run());
}

// esc.tls-codes: one reply after an advertising EHLO; `auth` first runs an AUTH exchange up to
// the 334 that the reply under test answers.
validation tls_code_case(std::string_view command, std::string_view reply, bool esc = true) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo(esc);
  x.c(command).s(reply);
  return x.run();
}

validation after_auth_challenge(std::string_view response, std::string_view reply) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("AUTH LOGIN\r\n").s("334 VXNlcm5hbWU6\r\n");
  x.c(response).s(reply);
  return x.run();
}

TEST(Validators, TlsCodesAsTheRfcsGiveThemAreNotFindings) {
  const std::string long_auth = "AUTH PLAIN " + std::string(13000, 'A') + "\r\n";
  for (const auto& v :
       {tls_code_case("MAIL FROM:<a@x.test>\r\n",
                      "530 5.7.0 Must issue a STARTTLS command first\r\n"),
        tls_code_case("STARTTLS\r\n", "454 4.7.0 TLS not available\r\n"),
        tls_code_case("AUTH PLAIN AGEAYg==\r\n",
                      "535 5.7.8 Authentication credentials invalid\r\n"),
        tls_code_case("AUTH PLAIN AGEAYg==\r\n", "538 5.7.11 Encryption required\r\n"),
        after_auth_challenge("dXNlcg==\r\n", "534 5.7.9 Mechanism too weak\r\n"),
        after_auth_challenge("dXNlcg==\r\n", "454 4.7.0 Temporary authentication failure\r\n"),
        tls_code_case(long_auth, "500 5.5.6 Authentication exchange line is too long\r\n")}) {
    EXPECT_TRUE(v.findings.empty()) << dump(v);
    EXPECT_TRUE(checked(v, esc_tls_codes_validator)) << dump(v);
  }
}

TEST(Validators, TlsCodeWithAnotherDetailIsAWarning) {
  const std::string long_auth = "AUTH PLAIN " + std::string(13000, 'A') + "\r\n";
  for (const auto& [v, want] :
       {std::pair{tls_code_case("AUTH PLAIN AGEAYg==\r\n", "535 5.7.1 Authentication failed\r\n"),
                  "5.7.8"},
        std::pair{tls_code_case("MAIL FROM:<a@x.test>\r\n",
                                "530 5.7.1 Must issue a STARTTLS command first\r\n"),
                  "5.7.0"},
        std::pair{tls_code_case("STARTTLS\r\n", "454 4.3.0 TLS not available\r\n"), "4.7.0"},
        std::pair{after_auth_challenge("dXNlcg==\r\n", "454 4.7.1 Try later\r\n"), "4.7.0"},
        std::pair{tls_code_case(long_auth, "500 5.5.2 Error: command too long\r\n"), "5.5.6"}}) {
    ASSERT_EQ(v.findings.size(), 1U) << dump(v);
    const finding& f = v.findings.front();
    EXPECT_EQ(f.validator, esc_tls_codes_validator);
    EXPECT_EQ(f.v, verdict::warn);
    EXPECT_NE(f.reason.find(std::string("the code for it is ") + want), std::string::npos)
        << f.reason;
    EXPECT_TRUE(checked(v, esc_tls_codes_validator));
  }
  // An AUTH exchange line is named as such, not by its base64 text.
  const auto v = after_auth_challenge("dXNlcg==\r\n", "535 5.7.1 no\r\n");
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_NE(v.findings.front().reason.find("(to an AUTH exchange line)"), std::string::npos)
      << v.findings.front().reason;
}

TEST(Validators, TlsCodesLeaveOtherRepliesAlone) {
  const std::string long_noop = "NOOP " + std::string(13000, 'A') + "\r\n";
  // 454 outside STARTTLS and AUTH, 500 to a short AUTH line or a long other command: ordinary.
  for (const auto& v :
       {tls_code_case("RCPT TO:<a@x.test>\r\n", "454 4.7.1 Relay access denied\r\n"),
        tls_code_case("AUTH PLAIN AGEAYg==\r\n", "500 5.5.2 Syntax error\r\n"),
        tls_code_case(long_noop, "500 5.5.2 Error: command too long\r\n"),
        tls_code_case("MAIL FROM:<a@x.test>\r\n", "530 5.7.1 nope\r\n", false)}) {
    EXPECT_TRUE(v.findings.empty()) << dump(v);
    EXPECT_FALSE(checked(v, esc_tls_codes_validator)) << dump(v);
  }
  // A missing code is esc.prefix-all-replies' finding only.
  const auto v = tls_code_case("AUTH PLAIN AGEAYg==\r\n", "535 Authentication failed\r\n");
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_EQ(v.findings.front().validator, esc_validator);
}

TEST(Validators, DataEndedAtLfDotLfShowsAsExtraReplies) {
  auto smuggle = [](std::string_view server) {
    session x;
    x.s("220 mx.test ESMTP\r\n").ehlo();
    x.c("MAIL FROM:<a@x.test>\r\n").s("250 2.1.0 Ok\r\n");
    x.c("RCPT TO:<b@x.test>\r\n").s("250 2.1.5 Ok\r\n");
    x.c("DATA\r\n").s("354 go ahead\r\n");
    x.c("From: a@x.test\r\n\r\ntext\n.\nMAIL FROM:<s@spoof.test>\r\nRCPT TO:<b@x.test>\r\n"
        "DATA\r\nFrom: s@spoof.test\r\n\r\nSMUGGLED\r\n.\r\n");
    x.s(server);
    return x.run();
  };
  EXPECT_TRUE(smuggle("250 2.0.0 Ok: queued\r\n").findings.empty());
  const auto v = smuggle(
      "250 2.0.0 Ok: queued\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n250 2.0.0 Ok\r\n");
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_EQ(v.findings.front().validator, one_reply_validator);
  EXPECT_EQ(v.findings.front().offset, 22U);
  EXPECT_NE(v.findings.front().reason.find("3 more"), std::string::npos);
}

TEST(Validators, DataEndedAtDotWithExtraCrIsNotAFinding) {
  // checks.md A12 smuggle.extra-cr: a server may end DATA at "\r\n.\r\r\n" (WARN there).
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo(false);
  x.c("DATA\r\n").s("354 go ahead\r\n");
  x.c("text\r\n.\r\r\nNOOP\r\n\r\n.\r\n").s("250 Ok\r\n250 Ok\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());
}

TEST(Validators, PipelinedDataWaitsForThe354) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo();
  x.c("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n");
  x.c("Subject: x\r\n\r\n250 2.0.0 fake\r\nRSET\r\n.\r\n");
  x.s("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n250 2.0.0 queued\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());

  // DATA refused: what followed were commands (three lines, three replies).
  session y;
  y.s("220 mx.test ESMTP\r\n").ehlo();
  y.c("DATA\r\n").c("Subject: x\r\nRSET\r\n.\r\n");
  y.s("503 5.5.1 need RCPT\r\n500 5.5.2 no\r\n250 2.0.0 Ok\r\n500 5.5.2 no\r\n");
  EXPECT_TRUE(y.run().findings.empty()) << dump(y.run());
}

TEST(Validators, OverlongLineTailExecutedIsASecondReply) {
  std::string line = "NOOP " + std::string(3000, 'A') + "QUIT\r\n";
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo().c(line).s("500 5.5.2 Error: command too long\r\n");
  EXPECT_TRUE(x.run().findings.empty());
  x.s("221 2.0.0 Bye\r\n").closed();
  EXPECT_EQ(count(x.run(), one_reply_validator), 1U) << dump(x.run());
}

TEST(Validators, ReplyToAnIncompleteLongLineCountsOnce) {
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo().c("NOOP " + std::string(5000, 'A'));
  x.s("500 5.5.2 line too long\r\n").c("\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());
  x.c("NOOP\r\n").s("250 2.0.0 Ok\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());
}

TEST(Validators, BareLfCommandToleratedOrNot) {
  // A tolerant server answers "NOOP\n" (checks.md line.bare-lf-command: WARN, not FAIL).
  session x;
  x.s("220 mx.test ESMTP\r\n").ehlo().c("NOOP\n").s("250 2.0.0 Ok\r\n");
  x.c("QUIT\r\n").s("221 2.0.0 Bye\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());
  // A strict one sees one line "NOOP\nQUIT".
  session y;
  y.s("220 mx.test ESMTP\r\n").ehlo().c("NOOP\n").c("QUIT\r\n").s("500 5.5.2 Error\r\n");
  EXPECT_TRUE(y.run().findings.empty()) << dump(y.run());
}

TEST(Validators, BinaryOrUnparsableBytesStopTheCount) {
  const std::string hello("\x16\x03\x01\x00\x44\x01\x00\x00\x40\x03\x03", 11);
  session x;
  x.s("220 mx.test ESMTP\r\n").c(hello).s("500 5.5.2 Error: bad syntax\r\n500 5.5.2 again\r\n");
  EXPECT_TRUE(x.run().findings.empty()) << dump(x.run());

  session y;
  y.s("220 mx.test ESMTP\r\n").c("GET / HTTP/1.0\r\n\r\n");
  y.s("HTTP/1.0 400 Bad Request\r\n500 5.5.2 x\r\n500 5.5.2 y\r\n500 5.5.2 z\r\n");
  EXPECT_EQ(count(y.run(), one_reply_validator), 0U) << dump(y.run());
}

TEST(Validators, BdatChunkIsCountedByOctets) {
  const std::string chunk = "x\r\n.\r\nMAIL FROM:<s@spoof.test>\r\n";
  auto run = [&](std::string_view server) {
    session x;
    x.s("220 mx.test ESMTP\r\n").ehlo();
    x.c("BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk).s(server);
    return x.run();
  };
  EXPECT_TRUE(run("250 2.0.0 Ok\r\n").findings.empty());
  EXPECT_EQ(count(run("250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n"), one_reply_validator), 1U);
}

TEST(Validators, EachConnectionStartsWithItsGreeting) {
  session x;
  x.s("220 mx.test ESMTP\r\n").c("QUIT\r\n").s("221 2.0.0 Bye\r\n");
  x.reconnect().s("220 mx.test ESMTP\r\n").s("220 mx.test ESMTP\r\n");
  const auto v = x.run();
  ASSERT_EQ(v.findings.size(), 1U) << dump(v);
  EXPECT_NE(v.findings.front().reason.find("connection 1"), std::string::npos);
}

TEST(Validators, NothingToCheckWithoutReplies) {
  session x;
  const auto v = x.run();
  EXPECT_TRUE(v.findings.empty());
  EXPECT_TRUE(v.checked.empty());
}

}  // namespace
}  // namespace smtpsim::script
