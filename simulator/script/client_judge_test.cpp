#include "simulator/script/client_judge.hpp"

#include <gtest/gtest.h>

namespace smtpsim::script {
namespace {

using namespace std::chrono_literals;

client_command cmd(const std::string& line, bool tls, bool early = false, std::string after = {}) {
  client_command c;
  c.line = line;
  const auto sp = line.find(' ');
  c.verb = line.substr(0, sp);
  c.argument = sp == std::string::npos ? std::string() : line.substr(sp + 1);
  c.tls = tls;
  c.early = early;
  c.early_after = std::move(after);
  c.wire_length = line.size() + 2;
  return c;
}

connection_record starttls_session(bool deliver = true) {
  connection_record r;
  r.commands = {cmd("EHLO c", false),       cmd("STARTTLS", false),
                cmd("EHLO c", true),        cmd("MAIL FROM:<a@b>", true),
                cmd("RCPT TO:<c@d>", true), cmd("DATA", true),
                cmd("QUIT", true)};
  r.starttls_accepted = true;
  r.after_220 = "tls";
  r.tls_attempted = true;
  r.tls_established = true;
  r.message_accepted = deliver;
  r.message_in_tls = true;
  return r;
}

client_rule rule(client_condition w, verdict v, std::vector<std::string> policies = {}) {
  client_rule r;
  r.when = std::move(w);
  r.v = v;
  r.reason = "rule";
  r.policies = std::move(policies);
  return r;
}

const client_rule pass{{}, {}, verdict::pass, "fine", "/otherwise"};

TEST(ClientJudge, FirstApplyingRuleWins) {
  client_facts f;
  f.connections = {starttls_session()};
  client_condition plain_mail;
  plain_mail.sent = {"MAIL", "AUTH"};
  plain_mail.side = "plaintext";
  client_condition no_tls;
  no_tls.handshake = "none";
  EXPECT_EQ(judge_client({rule(plain_mail, verdict::fail), rule(no_tls, verdict::warn)}, pass, f).v,
            verdict::pass);
  f.connections[0].commands[3].tls = false;
  const judgment j = judge_client({rule(plain_mail, verdict::fail)}, pass, f);
  EXPECT_EQ(j.v, verdict::fail);
  EXPECT_NE(j.observed.find("[plaintext] \"MAIL FROM:<a@b>\""), std::string::npos) << j.observed;
  EXPECT_NE(j.expected.find("sent MAIL|AUTH in plaintext"), std::string::npos) << j.expected;
}

TEST(ClientJudge, PoliciesLimitRules) {
  client_facts f;
  connection_record r;
  r.commands = {cmd("EHLO c", false), cmd("MAIL FROM:<a@b>", false)};
  r.message_accepted = true;
  f.connections = {r};
  client_condition plain_mail;
  plain_mail.sent = {"MAIL"};
  plain_mail.side = "plaintext";
  const std::vector<client_rule> rules = {
      rule(plain_mail, verdict::fail, {"encrypt", "verify", "secure"}),
      rule(plain_mail, verdict::info, {"may", "none"})};
  f.policy = "encrypt";
  EXPECT_EQ(judge_client(rules, pass, f).v, verdict::fail);
  f.policy = "may";
  EXPECT_EQ(judge_client(rules, pass, f).v, verdict::info);
}

TEST(ClientJudge, EarlyCommandsAfterAVerb) {
  client_facts f;
  auto r = starttls_session();
  r.commands.insert(r.commands.begin() + 2, cmd("EHLO c", false, true, "STARTTLS"));
  f.connections = {r};
  client_condition w;
  w.early_after = {"STARTTLS"};
  EXPECT_EQ(judge_client({rule(w, verdict::fail)}, pass, f).v, verdict::fail);
  w.early_after = {"EHLO"};
  EXPECT_EQ(judge_client({rule(w, verdict::fail)}, pass, f).v, verdict::pass);
}

TEST(ClientJudge, FirstCommandInsideTls) {
  client_facts f;
  auto r = starttls_session();
  client_condition w;
  w.first_in_tls_not = {"EHLO", "HELO"};
  f.connections = {r};
  EXPECT_EQ(judge_client({rule(w, verdict::fail)}, pass, f).v, verdict::pass);
  r.commands.erase(r.commands.begin() + 2);  // no EHLO after TLS: MAIL first
  f.connections = {r};
  const auto j = judge_client({rule(w, verdict::fail)}, pass, f);
  EXPECT_EQ(j.v, verdict::fail);
  EXPECT_NE(j.observed.find("was MAIL"), std::string::npos);
}

TEST(ClientJudge, ConnectionFacts) {
  client_facts f;
  client_condition never;
  never.connected = false;
  EXPECT_EQ(judge_client({rule(never, verdict::error)}, pass, f).v, verdict::error);
  f.connections = {starttls_session()};
  EXPECT_EQ(judge_client({rule(never, verdict::error)}, pass, f).v, verdict::pass);

  client_condition delivered_plain;
  delivered_plain.delivered = true;
  delivered_plain.delivered_side = "plaintext";
  EXPECT_EQ(judge_client({rule(delivered_plain, verdict::fail)}, pass, f).v, verdict::pass);
  connection_record retry;
  retry.connection = 1;
  retry.commands = {cmd("EHLO c", false), cmd("MAIL FROM:<a@b>", false)};
  retry.message_accepted = true;
  f.connections.push_back(retry);
  EXPECT_EQ(judge_client({rule(delivered_plain, verdict::fail)}, pass, f).v, verdict::fail);
  client_condition two;
  two.connections_at_least = 2;
  EXPECT_EQ(judge_client({rule(two, verdict::info)}, pass, f).v, verdict::info);
}

TEST(ClientJudge, HandshakeAfter220AndCloseNotify) {
  client_facts f;
  auto r = starttls_session();
  r.tls_established = false;
  r.after_220 = "plaintext";
  r.after_220_bytes = "EHLO x\r\n";
  f.connections = {r};
  client_condition plain;
  plain.after_220 = "plaintext";
  const auto j = judge_client({rule(plain, verdict::fail)}, pass, f);
  EXPECT_EQ(j.v, verdict::fail);
  EXPECT_NE(j.observed.find("EHLO x"), std::string::npos);
  client_condition failed;
  failed.handshake = "failed";
  EXPECT_EQ(judge_client({rule(failed, verdict::info)}, pass, f).v, verdict::info);

  auto w = starttls_session();
  w.client_closed = true;
  w.close_notify = false;
  f.connections = {w};
  client_condition abrupt;
  abrupt.close_notify = false;
  EXPECT_EQ(judge_client({rule(abrupt, verdict::warn)}, pass, f).v, verdict::warn);
  f.connections[0].close_notify = true;
  EXPECT_EQ(judge_client({rule(abrupt, verdict::warn)}, pass, f).v, verdict::pass);
}

TEST(ClientJudge, LinePrefixArgumentsAndLength) {
  client_facts f;
  auto r = starttls_session();
  r.commands.push_back(cmd("AUTH PLAIN AGEAYg==", false));
  r.commands.push_back(cmd("STARTTLS now", false));
  f.connections = {r};
  client_condition plain_auth;
  plain_auth.line_prefix = {"auth plain"};
  EXPECT_EQ(judge_client({rule(plain_auth, verdict::fail)}, pass, f).v, verdict::fail);
  client_condition arg;
  arg.sent = {"STARTTLS"};
  arg.with_argument = true;
  EXPECT_EQ(judge_client({rule(arg, verdict::fail)}, pass, f).v, verdict::fail);
  client_condition longer;
  longer.sent = {"AUTH"};
  longer.longer_than = 512;
  EXPECT_EQ(judge_client({rule(longer, verdict::fail)}, pass, f).v, verdict::pass);
}

TEST(ClientJudge, SaslResponsesAreNotCommands) {
  client_facts f;
  connection_record r;
  auto resp = cmd("MAIL FROM:<looks like a command>", false);
  resp.sasl_response = true;
  r.commands = {cmd("AUTH LOGIN", false), resp};
  f.connections = {r};
  client_condition w;
  w.sent = {"MAIL"};
  EXPECT_EQ(judge_client({rule(w, verdict::fail)}, pass, f).v, verdict::pass);
}

TEST(ClientJudge, OtherwiseCarriesASummary) {
  client_facts f;
  f.connections = {starttls_session()};
  const auto j = judge_client({}, pass, f);
  EXPECT_EQ(j.v, verdict::pass);
  EXPECT_EQ(j.step_pointer, "/otherwise");
  EXPECT_NE(j.observed.find("TLS established, message accepted"), std::string::npos) << j.observed;
}

TEST(ClientJudge, TlsWait) {
  client_facts f;
  connection_record r;
  r.wrapper = true;
  r.tls_attempted = true;
  r.tls_wait = 3500ms;
  f.connections = {r};
  client_condition slow;
  slow.tls_wait_over = 3000ms;
  EXPECT_EQ(judge_client({rule(slow, verdict::fail)}, pass, f).v, verdict::fail);
  f.connections[0].tls_wait = 5ms;
  EXPECT_EQ(judge_client({rule(slow, verdict::fail)}, pass, f).v, verdict::pass);
}

}  // namespace
}  // namespace smtpsim::script
