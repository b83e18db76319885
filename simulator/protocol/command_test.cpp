#include "simulator/protocol/command.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

command parse_ok(std::string_view line) {
  auto c = parse_command(line);
  EXPECT_TRUE(c) << line << ": " << to_string(c.error());
  return c ? std::move(c).value() : command{};
}

TEST(ParseCommand, RecognisesVerbsCaseInsensitively) {
  // Check line.case-insensitive-verbs (RFC 5321 §2.4).
  EXPECT_EQ(parse_ok("ehlo a.test").cmd, verb::ehlo);
  EXPECT_EQ(parse_ok("StartTls").cmd, verb::starttls);
  EXPECT_EQ(parse_ok("mail from:<a@b.test>").cmd, verb::mail);
  EXPECT_EQ(parse_ok("rCpT tO:<a@b.test>").cmd, verb::rcpt);
  EXPECT_EQ(parse_ok("Quit").verb_text, "Quit");
  for (verb v : {verb::helo, verb::data, verb::rset, verb::noop, verb::quit, verb::help}) {
    EXPECT_EQ(parse_ok(std::string(to_string(v)) + (v == verb::helo ? " x" : "")).cmd, v);
  }
}

TEST(ParseCommand, ReportsEmptyLine) { EXPECT_EQ(parse_command("").error(), errc::command_empty); }

TEST(ParseCommand, ReturnsUnknownVerbsWithoutError) {
  command c = parse_ok("XYZZY plugh");
  EXPECT_EQ(c.cmd, verb::unknown);
  EXPECT_EQ(c.verb_text, "XYZZY");
  EXPECT_EQ(c.argument, "plugh");
  EXPECT_EQ(parse_ok("MAILFROM:<a@b.test>").cmd, verb::unknown);
  EXPECT_EQ(parse_ok("GET / HTTP/1.0").cmd, verb::unknown);
  command leading_space = parse_ok(" NOOP");
  EXPECT_EQ(leading_space.cmd, verb::unknown);
  EXPECT_EQ(leading_space.verb_text, "");
}

TEST(ParseCommand, ParsesMailFromWithEsmtpParameters) {
  command c = parse_ok("MAIL FROM:<a@x.test> SIZE=1000 BODY=8BITMIME SMTPUTF8");
  ASSERT_TRUE(c.address.has_value());
  EXPECT_EQ(c.address->box.to_string(), "a@x.test");
  ASSERT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.params[0].keyword, "SIZE");
  EXPECT_EQ(c.params[0].value, "1000");
  EXPECT_EQ(c.params[1].value, "8BITMIME");
  EXPECT_EQ(c.params[2].keyword, "SMTPUTF8");
  EXPECT_FALSE(c.params[2].value.has_value());
  EXPECT_FALSE(c.space_after_colon);
  EXPECT_EQ(c.argument, "FROM:<a@x.test> SIZE=1000 BODY=8BITMIME SMTPUTF8");
  ASSERT_NE(c.find_param("size"), nullptr);
  EXPECT_EQ(c.find_param("size")->value, "1000");
  EXPECT_EQ(c.find_param("RET"), nullptr);
}

TEST(ParseCommand, ParsesNullReversePath) {
  command c = parse_ok("MAIL FROM:<>");
  ASSERT_TRUE(c.address.has_value());
  EXPECT_TRUE(c.address->null);
}

TEST(ParseCommand, FlagsSpaceAfterColon) {
  command c = parse_ok("MAIL FROM: <a@x.test>");
  EXPECT_TRUE(c.space_after_colon);
  EXPECT_EQ(c.address->box.local_part, "a");
  EXPECT_TRUE(parse_ok("RCPT TO:  <b@x.test>").space_after_colon);
}

TEST(ParseCommand, AcceptsPathWithoutBracketsAndFlagsIt) {
  command c = parse_ok("MAIL FROM:a@x.test SIZE=5");
  ASSERT_TRUE(c.address.has_value());
  EXPECT_TRUE(c.address->brackets_missing);
  EXPECT_EQ(c.params.size(), 1u);
}

TEST(ParseCommand, RejectsMalformedMailAndRcpt) {
  for (std::string_view line :
       {"MAIL", "MAIL <a@x.test>", "MAIL FROM", "MAIL FROM:", "MAIL TO:<a@x.test>",
        "MAIL FROM:<a@x.test", "MAIL FROM:<a@>", "MAIL FROM:<a@x.test>SIZE=1",
        "MAIL FROM:<a@x.test> SIZE=", "MAIL FROM:<a@x.test> =1", "MAIL FROM:<a@x.test> -X=1",
        "MAIL FROM:<a@x.test> S_Z=1", "MAIL FROM:<a@x.test> X=a=b=\x01", "RCPT TO:<>",
        "RCPT FROM:<a@x.test>", "RCPT TO:"}) {
    EXPECT_EQ(parse_command(line).error(), errc::command_syntax) << line;
  }
}

TEST(ParseCommand, RejectsNulInThePath) {
  using namespace std::string_view_literals;
  // Check line.nul-in-command: the NUL never reaches the envelope.
  EXPECT_EQ(parse_command("MAIL FROM:<a\0b@x.test>"sv).error(), errc::command_syntax);
}

TEST(ParseCommand, FlagsEightBitPathForTheCallerToJudge) {
  // Check line.8bit-in-command: the server applies its SMTPUTF8 state.
  command c = parse_ok("MAIL FROM:<\xc3\xa9@x.test>");
  ASSERT_TRUE(c.address.has_value());
  EXPECT_TRUE(c.address->eight_bit);
}

TEST(ParseCommand, AcceptsPostmasterRecipient) {
  command c = parse_ok("RCPT TO:<Postmaster>");
  ASSERT_TRUE(c.address.has_value());
  EXPECT_EQ(c.address->box.local_part, "Postmaster");
  EXPECT_EQ(parse_command("MAIL FROM:<Postmaster>").error(), errc::command_syntax);
}

TEST(ParseCommand, ParsesAuthWithAndWithoutInitialResponse) {
  command plain = parse_ok("AUTH plain AGEAYg==");
  EXPECT_EQ(plain.cmd, verb::auth);
  EXPECT_EQ(plain.mechanism, "PLAIN");
  EXPECT_EQ(plain.initial_response, "AGEAYg==");

  command login = parse_ok("auth LOGIN");
  EXPECT_EQ(login.mechanism, "LOGIN");
  EXPECT_FALSE(login.initial_response.has_value());

  // RFC 4954 §4: "=" is an empty initial response.
  command empty = parse_ok("AUTH EXTERNAL =");
  ASSERT_TRUE(empty.initial_response.has_value());
  EXPECT_EQ(*empty.initial_response, "");
  EXPECT_EQ(parse_ok("AUTH SCRAM-SHA-256").mechanism, "SCRAM-SHA-256");
}

TEST(ParseCommand, RejectsMalformedAuth) {
  for (std::string_view line : {"AUTH", "AUTH ", "AUTH PL@IN", "AUTH PLAIN not*base64",
                                "AUTH PLAIN abc", "AUTH PLAIN a===", "AUTH PLAIN AGEAYg== extra",
                                "AUTH PLAIN ==AA", "AUTH ABCDEFGHIJKLMNOPQRSTU"}) {
    EXPECT_EQ(parse_command(line).error(), errc::command_syntax) << line;
  }
  EXPECT_TRUE(parse_command("AUTH ABCDEFGHIJKLMNOPQRST"));  // 20 characters
}

TEST(ParseCommand, KeepsStarttlsArgumentForThe501) {
  // RFC 3207 §4: STARTTLS takes no parameters; the caller answers 501 (check starttls.params-501).
  command c = parse_ok("STARTTLS x");
  EXPECT_EQ(c.cmd, verb::starttls);
  EXPECT_EQ(c.argument, "x");
  EXPECT_EQ(parse_ok("STARTTLS").argument, "");
  EXPECT_EQ(parse_ok("QUIT now").argument, "now");
  EXPECT_EQ(parse_ok("DATA x").argument, "x");
}

TEST(ParseCommand, ParsesEhloAndHeloDomains) {
  EXPECT_EQ(parse_ok("EHLO client.example.test").domain, "client.example.test");
  EXPECT_EQ(parse_ok("HELO [192.0.2.1]").domain, "[192.0.2.1]");
  EXPECT_EQ(parse_ok("EHLO my_host extra words").domain, "my_host");
  EXPECT_EQ(parse_command("EHLO").error(), errc::command_syntax);
  EXPECT_EQ(parse_command("HELO ").error(), errc::command_syntax);
}

TEST(ParseCommand, ParsesBdat) {
  command c = parse_ok("BDAT 1000 LAST");
  EXPECT_EQ(c.chunk_size, 1000u);
  EXPECT_TRUE(c.last_chunk);
  command middle = parse_ok("bdat 0");
  EXPECT_EQ(middle.chunk_size, 0u);
  EXPECT_FALSE(middle.last_chunk);
  for (std::string_view line :
       {"BDAT", "BDAT x", "BDAT -1", "BDAT 10 FIRST", "BDAT 1e3", "BDAT 1234567890123456789"}) {
    EXPECT_EQ(parse_command(line).error(), errc::command_syntax) << line;
  }
}

TEST(ParseCommand, RequiresVrfyAndExpnArguments) {
  EXPECT_EQ(parse_command("VRFY").error(), errc::command_syntax);
  EXPECT_EQ(parse_command("EXPN").error(), errc::command_syntax);
  EXPECT_EQ(parse_ok("VRFY postmaster").argument, "postmaster");
  // RFC 5321 §4.1.1.9: NOOP arguments are ignored (check line.noop-args-ignored).
  EXPECT_EQ(parse_ok("NOOP foo").argument, "foo");
}

TEST(SerializeCommand, RoundTripsCanonicalLines) {
  for (std::string_view line : {"EHLO client.test",
                                "HELO [192.0.2.1]",
                                "STARTTLS",
                                "STARTTLS x",
                                "MAIL FROM:<a@x.test>",
                                "MAIL FROM:<> BODY=8BITMIME SIZE=100",
                                "MAIL FROM: <a@x.test>",
                                "RCPT TO:<@r.test:\"q u\"@x.test> NOTIFY=NEVER",
                                "RCPT TO:<Postmaster>",
                                "MAIL FROM:a@x.test",
                                "AUTH PLAIN AGEAYg==",
                                "AUTH EXTERNAL =",
                                "AUTH LOGIN",
                                "BDAT 10 LAST",
                                "DATA",
                                "RSET",
                                "NOOP",
                                "QUIT",
                                "VRFY x",
                                "EXPN list",
                                "HELP",
                                "XYZZY plugh",
                                "noop lower case"}) {
    auto c = parse_command(line);
    ASSERT_TRUE(c) << line;
    EXPECT_EQ(serialize_command(*c), std::string(line) + "\r\n");
    auto again = parse_command(
        std::string_view(serialize_command(*c)).substr(0, serialize_command(*c).size() - 2));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *c);
  }
}

TEST(SerializeCommand, RendersStructuredFields) {
  command c = make_command(verb::mail, "FROM:<a@x.test>");
  c.params.push_back({"SIZE", "42"});
  c.address->box.local_part = "b";
  EXPECT_EQ(serialize_command(c), "MAIL FROM:<b@x.test> SIZE=42\r\n");
  command auth;
  auth.cmd = verb::auth;
  auth.mechanism = "PLAIN";
  auth.initial_response = "";
  EXPECT_EQ(serialize_command(auth), "AUTH PLAIN =\r\n");
}

TEST(SerializeCommand, NormalisesLenientSpellingButKeepsTheFields) {
  command c = parse_ok("mail from:<a@x.test>   SIZE=1  ");
  EXPECT_EQ(serialize_command(c), "mail FROM:<a@x.test> SIZE=1\r\n");
}

TEST(MakeCommand, BuildsAndParses) {
  command c = make_command(verb::rcpt, "TO:<b@x.test>");
  EXPECT_EQ(c.cmd, verb::rcpt);
  EXPECT_EQ(c.verb_text, "RCPT");
  ASSERT_TRUE(c.address.has_value());
  EXPECT_EQ(c.address->box.domain, "x.test");
  EXPECT_EQ(serialize_command(c), "RCPT TO:<b@x.test>\r\n");
  EXPECT_EQ(serialize_command(make_command(verb::starttls)), "STARTTLS\r\n");
  EXPECT_EQ(serialize_command(make_command(verb::ehlo, "probe.test")), "EHLO probe.test\r\n");
}

TEST(MakeCommand, KeepsAnUnparsableArgumentToSendOnPurpose) {
  command c = make_command(verb::mail, "FROM:<broken");
  EXPECT_EQ(c.cmd, verb::mail);
  EXPECT_FALSE(c.address.has_value());
  EXPECT_EQ(serialize_command(c), "MAIL FROM:<broken\r\n");
}

TEST(VerbToString, NamesEveryVerb) {
  EXPECT_EQ(to_string(verb::starttls), "STARTTLS");
  EXPECT_EQ(to_string(verb::bdat), "BDAT");
  EXPECT_EQ(to_string(verb::unknown), "");
}

}  // namespace
}  // namespace smtpsim::protocol
