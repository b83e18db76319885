// The client runner driven by hand, step by step, with byte vectors (style.md §7.1): what it
// asks the engine to do, and how it judges what comes back.

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/script/client_runner.hpp"

#include "harness/scenario_loader.hpp"

namespace smtpsim::script {
namespace {

using kind = action::kind;
using rk = io_result::kind;

// driver feeds results to a runner and checks the actions it asks for.
class driver {
 public:
  explicit driver(const std::string& json, target_view view = default_view(), timeouts t = {})
      : sc_(harness::parse_scenario(json, "test.json")),
        case_(expand_cases(sc_).front()),
        runner_(case_, std::move(view), t) {
    now_ = clock::time_point{} + std::chrono::hours(1);
    next_ = runner_.start(now_);
  }
  static target_view default_view() {
    target_view v;
    v.listeners = {"starttls", "wrapper"};
    v.vars = {{"local_rcpt", "postmaster@mx.test"}, {"case_token", "tok"}};
    v.tls_defaults.sni = "mx.test";
    return v;
  }
  const action& next() const { return next_; }
  // feed returns the next action after `r`, `ms` milliseconds later.
  const action& feed(io_result r, int ms = 1) {
    now_ += std::chrono::milliseconds(ms);
    r.at = now_;
    next_ = runner_.resume(r);
    return next_;
  }
  const action& ok() { return feed(io_result{}); }
  const action& data(std::string bytes) {
    io_result r;
    r.k = rk::data;
    r.data = std::move(bytes);
    return feed(r);
  }
  const action& timeout(int ms) {
    io_result r;
    r.k = rk::timeout;
    return feed(r, ms);
  }
  const action& eof(bool clean) {
    io_result r;
    r.k = rk::eof;
    r.clean_eof = clean;
    return feed(r);
  }
  // finish closes (if asked) and returns the outcome.
  const case_outcome& finish() {
    if (next_.k == kind::close) {
      ok();
    }
    EXPECT_EQ(next_.k, kind::done);
    return runner_.result();
  }

 private:
  scenario sc_;
  scenario_case case_;
  client_runner runner_;
  clock::time_point now_;
  action next_;
};

std::string wrap(const std::string& steps, const std::string& extra = "") {
  return R"({"id": "t.case", "title": "t", "role": "server", "level": "MUST",
             "references": ["RFC 0"], )" +
         extra + R"("steps": [)" + steps + "]}";
}

TEST(ClientRunner, AsksForConnectThenReadsTheGreeting) {
  driver d(wrap(R"({"connect": "starttls"}, {"greeting": {}})"));
  ASSERT_EQ(d.next().k, kind::connect);
  EXPECT_EQ(d.next().listener, "starttls");
  ASSERT_EQ(d.ok().k, kind::read);
  EXPECT_EQ(d.next().timeout, std::chrono::milliseconds(10000));  // greeting phase default
  d.data("220 mx.test ESMTP\r\n");
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::pass);
}

TEST(ClientRunner, ReadsAMultiLineReplyDeliveredByteByByte) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}, "expect": [
      {"reply": "250", "has_extension": "STARTTLS", "verdict": "PASS", "reason": "listed"}]})"));
  d.ok();
  const std::string reply = "250-mx.test\r\n250 STARTTLS\r\n";
  for (char c : reply) {
    ASSERT_EQ(d.next().k, kind::read);
    d.data(std::string(1, c));
  }
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::pass);
  EXPECT_EQ(o.reason, "listed");
}

TEST(ClientRunner, ReadReplyCountWaitsForThatManyReplies) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {"count": 3}, "expect": [
      {"timeout": true, "verdict": "FAIL", "reason": "lost"},
      {"reply": "354", "verdict": "PASS", "reason": "all"}]})"));
  d.ok();
  ASSERT_EQ(d.next().k, kind::read);
  d.data("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
  ASSERT_EQ(d.next().k, kind::read);  // two of three: keep reading
  d.data("354 go ahead\r\n");
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::pass);
  EXPECT_EQ(o.reason, "all");
}

TEST(ClientRunner, ReadReplyCountKeepsWhatCameBeforeATimeout) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {"count": 3}, "expect": [
      {"timeout": true, "verdict": "FAIL", "reason": "lost"},
      {"reply": "250", "verdict": "PASS", "reason": "all"}]})"));
  d.ok();
  d.data("250 2.1.0 Ok\r\n");
  d.timeout(10000);
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::fail);
  EXPECT_EQ(o.reason, "lost");
  ASSERT_FALSE(o.judgments.empty());
  EXPECT_NE(o.judgments.back().observed.find("250"), std::string::npos)
      << o.judgments.back().observed;
}

TEST(ClientRunner, ReadReplyCountDefaultNamesTheShortfall) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {"count": 2}})"));
  d.ok();
  d.data("250 2.1.0 Ok\r\n");
  d.timeout(10000);
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::error);
  EXPECT_NE(o.reason.find("only 1 of 2 replies"), std::string::npos) << o.reason;
}

TEST(ClientRunner, TextMatchesSearchesTheReplyTextInAnyCase) {
  const std::string steps = R"j({"connect": "starttls"}, {"read_reply": {}, "expect": [
      {"reply": "250", "text_matches": "\\nX{7,}[A-Z]?(\\n|$)", "verdict": "INFO",
       "reason": "masked"},
      {"reply": "250", "verdict": "PASS", "reason": "plain"}]})j";
  {
    driver d(wrap(steps));
    d.ok();
    d.data("250-mx.test\r\n250-xxxxxxxa\r\n250 PIPELINING\r\n");
    EXPECT_EQ(d.finish().reason, "masked");
  }
  {
    driver d(wrap(steps));
    d.ok();
    d.data("250-xxxxxxxa.example greets you\r\n250 STARTTLS\r\n");
    EXPECT_EQ(d.finish().reason, "plain");
  }
}

TEST(ClientRunner, FirstMatchingOutcomeWins) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}, "expect": [
      {"reply": "5xx", "verdict": "WARN", "reason": "first"},
      {"reply": "501", "verdict": "FAIL", "reason": "second"}]})"));
  d.ok();
  d.data("501 5.5.4 nope\r\n");
  EXPECT_EQ(d.finish().final_verdict, verdict::warn);
}

TEST(ClientRunner, UnmatchedReplyIsAFailWithEvidence) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}, "expect": [{"reply": "220"}]})"));
  d.ok();
  d.data("554 5.7.1 go away\r\n");
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::fail);
  ASSERT_EQ(o.judgments.size(), 1u);
  EXPECT_EQ(o.judgments[0].step_pointer, "/steps/1");
  EXPECT_NE(o.judgments[0].expected.find("reply 220 -> continue"), std::string::npos);
  EXPECT_NE(o.judgments[0].observed.find("reply 554"), std::string::npos);
}

TEST(ClientRunner, A421IsAnErrorNotAFail) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}, "expect": [{"reply": "220"}]})"));
  d.ok();
  d.data("421 4.3.2 busy\r\n");
  EXPECT_EQ(d.finish().final_verdict, verdict::error);
}

TEST(ClientRunner, NoReplyWithinTheTimeoutIsAnError) {
  timeouts t;
  t.reply = std::chrono::milliseconds(300);
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}})"), driver::default_view(), t);
  d.ok();
  ASSERT_EQ(d.next().k, kind::read);
  EXPECT_EQ(d.next().timeout, std::chrono::milliseconds(300));
  d.timeout(300);
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::error);
  EXPECT_NE(o.reason.find("no reply within"), std::string::npos);
}

// A peer that drips one byte at a time still gets its verdict at the step's deadline, not one
// timeout per byte.
TEST(ClientRunner, SlowDripIsBoundedByTheStepDeadline) {
  timeouts t;
  t.reply = std::chrono::milliseconds(1000);
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}})"), driver::default_view(), t);
  d.ok();
  int reads = 0;
  while (d.next().k == kind::read) {
    ++reads;
    io_result r;
    r.k = rk::data;
    r.data = "2";
    d.feed(r, 300);  // one byte every 300 ms
  }
  EXPECT_LE(reads, 5);
  EXPECT_EQ(d.finish().final_verdict, verdict::error);
}

TEST(ClientRunner, SilenceWindowCollectsEveryReplyAndMatchesAny) {
  driver d(wrap(R"({"connect": "starttls"}, {"wait_silence": {}, "expect": [
      {"reply": "250", "verdict": "FAIL", "reason": "executed"}]})"));
  d.ok();
  d.data("220 ready\r\n");
  ASSERT_EQ(d.next().k, kind::read);  // keeps reading until the window ends
  d.data("250 ok\r\n");
  d.timeout(2000);
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::fail);
  EXPECT_NE(o.judgments[0].observed.find("reply 250"), std::string::npos);
}

TEST(ClientRunner, SilenceWithNothingContinues) {
  driver d(wrap(R"({"connect": "starttls"}, {"wait_silence": {}})"));
  d.ok();
  EXPECT_EQ(d.next().timeout, std::chrono::milliseconds(2000));
  d.timeout(2000);
  EXPECT_EQ(d.finish().final_verdict, verdict::pass);
}

TEST(ClientRunner, TellsACleanTlsCloseFromATruncatedOne) {
  const std::string s = R"({"connect": "wrapper"}, {"read_reply": {}, "expect": [
      {"closed": "clean", "verdict": "PASS", "reason": "clean"},
      {"closed": "unclean", "verdict": "WARN", "reason": "unclean"}]})";
  driver clean(wrap(s));
  clean.ok();
  clean.eof(true);
  EXPECT_EQ(clean.finish().final_verdict, verdict::pass);
  driver unclean(wrap(s));
  unclean.ok();
  unclean.eof(false);
  EXPECT_EQ(unclean.finish().final_verdict, verdict::warn);
}

TEST(ClientRunner, WritesSendRawInOneActionAndRecordsIt) {
  driver d(
      wrap(R"({"connect": "starttls"}, {"send_raw": ["STARTTLS\r\n", {"repeat": "A", "count": 3},
      {"hex": "0d0a"}]})"));
  d.ok();
  ASSERT_EQ(d.next().k, kind::write);
  EXPECT_EQ(d.next().bytes, "STARTTLS\r\nAAA\r\n");
  d.ok();
  const auto& o = d.finish();
  bool seen = false;
  for (const auto& e : o.log.entries()) {
    seen = seen || (e.dir == direction::sent && e.bytes == "STARTTLS\r\nAAA\r\n");
  }
  EXPECT_TRUE(seen) << "the write is one transcript entry, as one segment";
}

TEST(ClientRunner, SubstitutesTargetValues) {
  driver d(wrap(R"({"connect": "starttls"}, {"send": "RCPT TO:<${local_rcpt}>"})"));
  d.ok();
  EXPECT_EQ(d.next().bytes, "RCPT TO:<postmaster@mx.test>\r\n");
}

TEST(ClientRunner, VariantValuesFillAndOverrideTargetValues) {
  driver d(
      wrap(R"({"connect": "starttls"}, {"send_raw": "${seq}<${local_rcpt}>"})",
           R"("variants": [{"name": "a", "vars": {"seq": "\r.\r", "local_rcpt": "x@y.test"}}],)"));
  d.ok();
  EXPECT_EQ(d.next().k, kind::write);
  EXPECT_EQ(d.next().bytes, "\r.\r<x@y.test>");
}

TEST(ClientRunner, SkipsWhenAValueIsMissing) {
  driver d(wrap(R"({"connect": "starttls"}, {"send": "AUTH PLAIN ${auth_plain}"})"));
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::skip);
  EXPECT_NE(o.reason.find("${auth_plain}"), std::string::npos);
}

TEST(ClientRunner, SkipsWhenNoListenerIsDeclared) {
  driver d(wrap(R"({"connect": ["tls_required", "ccert_required"]})"));
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::skip);
  EXPECT_EQ(o.reason, "the target declares no tls_required or ccert_required listener");
}

TEST(ClientRunner, UsesTheFirstDeclaredListener) {
  driver d(wrap(R"({"connect": ["plaintext_auth", "starttls"]})"));
  EXPECT_EQ(d.next().listener, "starttls");
}

TEST(ClientRunner, SkipsWhenATraitIsMissing) {
  driver d(wrap(R"({"connect": "starttls"})", R"("requires": ["sink"], )"));
  EXPECT_EQ(d.finish().final_verdict, verdict::skip);
}

TEST(ClientRunner, EhloMacroSkipsWhenARequiredExtensionIsMissing) {
  driver d(
      wrap(R"({"connect": "starttls"}, {"ehlo": "probe.test", "require_extensions": "STARTTLS"})"));
  d.ok();
  ASSERT_EQ(d.next().bytes, "EHLO probe.test\r\n");
  d.ok();
  d.data("250-mx.test\r\n250 PIPELINING\r\n");
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::skip);
  EXPECT_NE(o.reason.find("STARTTLS"), std::string::npos);
}

TEST(ClientRunner, HandshakeUsesVariantAndTargetParameters) {
  driver d(wrap(R"({"connect": "starttls"}, {"tls_handshake": {"client_cert": "client1"}})",
                R"("variants": [{"name": "v12", "tls": {"max_version": "1.2"}}], )"));
  d.ok();
  ASSERT_EQ(d.next().k, kind::tls_handshake);
  EXPECT_EQ(d.next().tls.max_version.value_or(""), "1.2");
  EXPECT_EQ(d.next().tls.client_cert.value_or(""), "client1");
  EXPECT_EQ(d.next().tls.sni.value_or(""), "mx.test");
}

TEST(ClientRunner, DetectsPlaintextSentInsteadOfTls) {
  driver d(wrap(R"({"connect": "wrapper"}, {"tls_handshake": {}, "expect": [
      {"handshake_failed": true, "peer_plaintext": true, "verdict": "FAIL", "reason": "plaintext"},
      {"handshake_failed": true, "verdict": "ERROR", "reason": "other"}]})"));
  d.ok();
  io_result r;
  r.k = rk::error;
  r.error = "wrong version number";
  r.peer_bytes = "220 mx.test ESMTP\r\n";
  d.feed(r);
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::fail);
  bool plaintext_logged = false;
  for (const auto& e : o.log.entries()) {
    plaintext_logged = plaintext_logged || (e.dir == direction::received && !e.tls &&
                                            e.bytes == "220 mx.test ESMTP\r\n");
  }
  EXPECT_TRUE(plaintext_logged);
}

// checks.md A10: the certificate filters read the engine's cert_checks; the name checked is the
// target's server name even when the step sends another SNI.
TEST(ClientRunner, CertificateFiltersJudgeTheEnginesChecks) {
  const std::string steps = R"({"connect": "wrapper"}, {"tls_handshake": {"sni": "other.test"},
      "expect": [
        {"handshake_ok": true, "name_matches": false, "verdict": "FAIL", "reason": "name"},
        {"handshake_ok": true, "name_matches": true, "verdict": "PASS", "reason": "fine"},
        {"handshake_ok": true, "verdict": "SKIP", "reason": "unchecked"}]})";
  for (auto [checked, verdict_expected] : {std::pair{std::optional<bool>(false), verdict::fail},
                                           std::pair{std::optional<bool>(true), verdict::pass},
                                           std::pair{std::optional<bool>(), verdict::skip}}) {
    driver d(wrap(steps));
    d.ok();
    ASSERT_EQ(d.next().k, kind::tls_handshake);
    EXPECT_EQ(d.next().tls.sni.value_or(""), "other.test");
    EXPECT_EQ(d.next().tls.cert_name.value_or(""), "mx.test");
    io_result r;
    r.tls = script::tls_facts{};
    r.tls->established = true;
    r.tls->checks.name_matches = checked;
    if (checked == false) {
      r.tls->checks.problems.emplace_back("the leaf is not for mx.test");
    }
    d.feed(r);
    const auto& o = d.finish();
    EXPECT_EQ(o.final_verdict, verdict_expected);
    if (checked == false) {
      EXPECT_NE(o.judgments.back().observed.find("not for mx.test"), std::string::npos);
    }
  }
}

TEST(ClientRunner, AlertFilterMatchesTheAlertReceived) {
  driver d(wrap(R"({"connect": "wrapper"}, {"tls_handshake": {}, "expect": [
      {"handshake_failed": true, "alert": "protocol_version", "verdict": "PASS", "reason": "old"},
      {"handshake_failed": true, "verdict": "FAIL", "reason": "other"}]})"));
  d.ok();
  io_result r;
  r.k = rk::error;
  r.error = "tlsv1 alert protocol version";
  r.tls = script::tls_facts{};
  r.tls->alert_received = "protocol_version";
  d.feed(r);
  EXPECT_EQ(d.finish().final_verdict, verdict::pass);
}

TEST(ClientRunner, RecordsPlaintextDiscardedAtTheHandshake) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}}, {"tls_handshake": {}},
      {"wait_silence": {}})"));
  d.ok();
  d.data("220 go ahead\r\n250 injected\r\n");  // the 250 is still buffered at the handshake
  ASSERT_EQ(d.next().k, kind::tls_handshake);
  d.ok();
  ASSERT_EQ(d.next().k, kind::read);
  d.timeout(2000);
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::pass);  // discarded, as RFC 3207 §4.2 requires
  bool noted = false;
  for (const auto& e : o.log.entries()) {
    noted = noted || e.note.find("discarded 14 octets") != std::string::npos;
  }
  EXPECT_TRUE(noted);
}

TEST(ClientRunner, KeepsTheSecondReplyOfOneReadForTheNextStep) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}, "expect": [{"reply": "220"}]},
      {"read_reply": {}, "expect": [{"reply": "250", "verdict": "PASS", "reason": "second"}]})"));
  d.ok();
  d.data("220 a\r\n250 b\r\n");
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::pass);
  EXPECT_EQ(o.reason, "second");
}

TEST(ClientRunner, MalformedReplyIsAFail) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}})"));
  d.ok();
  d.data("HTTP/1.0 400 Bad Request\r\n");
  EXPECT_EQ(d.finish().final_verdict, verdict::fail);
}

TEST(ClientRunner, ContinuingWarnIsKeptAsTheVerdict) {
  driver d(wrap(R"({"connect": "starttls"}, {"read_reply": {}, "expect": [
      {"reply": "250", "verdict": "WARN", "reason": "odd", "then": "continue"}]},
      {"read_reply": {}, "expect": [{"reply": "250", "verdict": "PASS", "reason": "fine"}]})"));
  d.ok();
  d.data("250 a\r\n");
  d.data("250 b\r\n");
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::warn);
  EXPECT_EQ(o.judgments.size(), 2u);
}

TEST(ClientRunner, CaseTimeLimitEndsTheCase) {
  timeouts t;
  t.case_limit = std::chrono::milliseconds(1000);
  driver d(wrap(R"({"connect": "starttls"}, {"wait_silence": {}}, {"wait_silence": {}},
      {"wait_silence": {}})"),
           driver::default_view(), t);
  d.ok();
  while (d.next().k == kind::read) {
    d.timeout(2000);
  }
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::error);
  EXPECT_NE(o.reason.find("time limit"), std::string::npos);
}

TEST(ClientRunner, ReconnectClosesTheOldConnectionFirst) {
  driver d(wrap(R"({"connect": "starttls"}, {"connect": "wrapper"})"));
  d.ok();
  ASSERT_EQ(d.next().k, kind::close);
  ASSERT_EQ(d.ok().k, kind::connect);
  EXPECT_EQ(d.next().listener, "wrapper");
}

TEST(ClientRunner, AwaitDeliveryMatchesMessageText) {
  target_view v = driver::default_view();
  v.traits = {"sink"};
  driver d(wrap(R"({"connect": "starttls"}, {"await_delivery": {}, "expect": [
      {"delivered": true, "text_contains": "with ESMTPS", "verdict": "PASS", "reason": "tls"},
      {"delivered": true, "verdict": "WARN", "reason": "plain"}]})"),
           v);
  d.ok();
  ASSERT_EQ(d.next().k, kind::await_delivery);
  EXPECT_EQ(d.next().bytes, "tok");
  io_result r;
  r.messages = {"Received: from x by y with ESMTPS id 1\r\n\r\nbody tok\r\n"};
  d.feed(r);
  EXPECT_EQ(d.finish().final_verdict, verdict::pass);
}

TEST(ClientRunner, ClosedMatchesTheAlertThatEndedTheConnection) {
  // TLS 1.3: a server that requires a client certificate refuses it with an alert after the
  // client's Finished; the first read sees the alert and the close.
  const std::string steps = R"({"connect": "starttls"}, {"read_reply": {}, "expect": [
      {"closed": true, "alert": "certificate_required", "verdict": "PASS", "reason": "refused"},
      {"closed": true, "verdict": "WARN", "reason": "closed"}]})";
  for (const std::string alert : {"certificate_required", "", "unknown_ca"}) {
    driver d(wrap(steps));
    d.ok();
    io_result r;
    r.k = rk::eof;
    r.alert = alert;
    d.feed(r);
    const auto& o = d.finish();
    EXPECT_EQ(o.final_verdict, alert == "certificate_required" ? verdict::pass : verdict::warn)
        << alert;
  }
}

// ---- the fuzz step (line.fuzz-grammar) ----

// fake_mta answers the fuzz step's lines: `answer` maps a line (without CRLF) and its number
// (counting every line written, QUIT included) to what the server does.
struct mta_move {
  std::vector<std::string> replies;  // each delivered by its own read
  bool close = false;                // then close the connection
  bool hang = false;                 // never answer
};

struct fuzz_run {
  case_outcome outcome;
  std::vector<std::string> written;
  std::size_t connects = 0;
};

fuzz_run play_fuzz(const std::string& fuzz,
                   const std::function<mta_move(const std::string&, std::size_t)>& answer,
                   const std::string& greeting = "220 mx.test ESMTP\r\n") {
  driver d(wrap(R"({"connect": "starttls"}, {"greeting": {}}, {"fuzz": )" + fuzz + "}"));
  fuzz_run run;
  std::deque<std::string> pending;
  bool closed = false;
  EXPECT_EQ(d.next().k, kind::connect);
  d.ok();
  ++run.connects;
  pending.emplace_back("220 mx.test ESMTP\r\n");
  for (int guard = 0; guard < 20000 && d.next().k != kind::done; ++guard) {
    switch (d.next().k) {
      case kind::connect:
        ++run.connects;
        closed = false;
        pending.clear();
        if (!greeting.empty()) {
          pending.push_back(greeting);
        }
        d.ok();
        break;
      case kind::close:
        pending.clear();
        d.ok();
        break;
      case kind::write: {
        const std::string bytes = d.next().bytes;
        EXPECT_TRUE(bytes.size() >= 2 && bytes.substr(bytes.size() - 2) == "\r\n");
        const std::string line = bytes.substr(0, bytes.size() - 2);
        EXPECT_EQ(line.find('\n'), std::string::npos);
        EXPECT_LE(line.size(), 510U);
        run.written.push_back(line);
        if (!closed) {
          mta_move m = answer(line, run.written.size());
          if (m.hang) {
            pending.clear();
          } else {
            pending.insert(pending.end(), m.replies.begin(), m.replies.end());
          }
          closed = m.close;
        }
        d.ok();
        break;
      }
      case kind::read:
        if (!pending.empty()) {
          const std::string r = pending.front();
          pending.pop_front();
          d.data(r);
        } else if (closed) {
          d.eof(false);
        } else {
          d.timeout(static_cast<int>(d.next().timeout.count()));
        }
        break;
      default:
        d.ok();
        break;
    }
  }
  run.outcome = d.finish();
  return run;
}

mta_move polite(const std::string& line, std::size_t /*n*/) {
  if (line == "QUIT") {
    return {{"221 2.0.0 Bye\r\n"}, true};
  }
  return {{"250 2.0.0 Ok\r\n"}};
}

TEST(ClientRunnerFuzz, OneReplyPerLinePasses) {
  const auto run = play_fuzz(R"({"lines": 50, "seed": 5, "lines_per_session": 10})", polite);
  EXPECT_EQ(run.outcome.final_verdict, verdict::pass) << run.outcome.reason;
  EXPECT_NE(run.outcome.reason.find("50 generated lines (seed 5)"), std::string::npos);
  // 5 sessions of 10 lines and a QUIT, then the survival check with its own QUIT-less close.
  EXPECT_EQ(std::count(run.written.begin(), run.written.end(), "QUIT"), 5);
  EXPECT_EQ(run.written.size(), 55U);
  EXPECT_EQ(run.connects, 6U);
}

TEST(ClientRunnerFuzz, QuitEveryNthSessionTheOthersAreClosed) {
  const auto run = play_fuzz(R"({"lines": 30, "seed": 5, "lines_per_session": 5, "quit_every": 3})",
                             [](const std::string& line, std::size_t n) {
                               // A generated QUIT gets 250 here, so only the fuzzer's end sessions.
                               return line == "QUIT" && n != 16 && n != 32
                                          ? mta_move{{"250 2.0.0 Ok\r\n"}}
                                          : polite(line, n);
                             });
  EXPECT_EQ(run.outcome.final_verdict, verdict::pass) << run.outcome.reason;
  // Sessions end after lines 5, 10, 15, 20, 25: only the third gets QUIT; the last line's too.
  ASSERT_EQ(run.written.size(), 32U);
  EXPECT_EQ(run.written[15], "QUIT");
  EXPECT_EQ(run.written[31], "QUIT");
  EXPECT_EQ(run.connects, 7U);
}

TEST(ClientRunnerFuzz, SameSeedSameLines) {
  const auto a = play_fuzz(R"({"lines": 30, "seed": 9})", polite);
  const auto b = play_fuzz(R"({"lines": 30, "seed": 9})", polite);
  const auto c = play_fuzz(R"({"lines": 30, "seed": 10})", polite);
  EXPECT_EQ(a.written, b.written);
  EXPECT_NE(a.written, c.written);
}

TEST(ClientRunnerFuzz, RunSeedReplacesTheStepsSeed) {
  target_view v = driver::default_view();
  v.fuzz_seed = 10;
  driver d(wrap(R"({"connect": "starttls"}, {"greeting": {}}, {"fuzz": {"lines": 1, "seed": 9}})"),
           v);
  d.ok();
  d.data("220 mx.test\r\n");
  ASSERT_EQ(d.next().k, kind::write);
  protocol::grammar_fuzzer g(10);
  EXPECT_EQ(d.next().bytes, g.next() + "\r\n");
}

TEST(ClientRunnerFuzz, ErrorRepliesEndTheSessionWithQuit) {
  const auto run = play_fuzz(
      R"({"lines": 20, "errors_per_session": 3})", [](const std::string& line, std::size_t n) {
        return line == "QUIT" ? polite(line, n) : mta_move{{"500 5.5.2 what?\r\n"}};
      });
  EXPECT_EQ(run.outcome.final_verdict, verdict::pass) << run.outcome.reason;
  // No session holds more than 3 lines before its QUIT (a generated QUIT ends one sooner).
  std::size_t in_session = 0;
  for (const auto& line : run.written) {
    in_session = line == "QUIT" ? 0 : in_session + 1;
    EXPECT_LE(in_session, 3U);
  }
  EXPECT_GE(std::count(run.written.begin(), run.written.end(), "QUIT"), 7);  // ceil(20 / 3)
}

TEST(ClientRunnerFuzz, TwoRepliesInOneReadFail) {
  const auto run = play_fuzz(R"({"lines": 20})", [](const std::string& line, std::size_t n) {
    return n == 4 ? mta_move{{"250 one\r\n250 two\r\n"}} : polite(line, n);
  });
  EXPECT_EQ(run.outcome.final_verdict, verdict::fail);
  EXPECT_NE(run.outcome.reason.find("two replies (250 and then 250)"), std::string::npos)
      << run.outcome.reason;
  EXPECT_EQ(run.written.size(), 4U);
}

TEST(ClientRunnerFuzz, SurplusReplyShowsAtQuit) {
  const auto run = play_fuzz(R"({"lines": 10, "lines_per_session": 10})",
                             [](const std::string& line, std::size_t n) {
                               // Line 4 gets two replies, each in its own read; the QUIT after line
                               // 10 (the 11th line written) finds the surplus. A generated QUIT
                               // gets 250 here, so nothing ends sooner.
                               if (n == 4) {
                                 return mta_move{{"250 one\r\n", "250 two\r\n"}};
                               }
                               return n == 11 ? polite(line, n) : mta_move{{"250 2.0.0 Ok\r\n"}};
                             });
  EXPECT_EQ(run.outcome.final_verdict, verdict::fail);
  EXPECT_NE(run.outcome.reason.find("QUIT got 2 replies"), std::string::npos) << run.outcome.reason;
  ASSERT_FALSE(run.outcome.judgments.empty());
  EXPECT_NE(run.outcome.judgments.back().observed.find("replay with --fuzz-seed 1"),
            std::string::npos);
}

TEST(ClientRunnerFuzz, CloseRightAfterAReplyIsDeliberate) {
  // Exim closes after its third unknown command: the next line finds the connection closed, is
  // resent in a new session and answered there.
  const auto run = play_fuzz(R"({"lines": 12})", [](const std::string& line, std::size_t n) {
    if (n % 3 == 0 && line != "QUIT") {
      return mta_move{{"500 5.5.1 Too many unrecognized commands\r\n"}, true};
    }
    return polite(line, n);
  });
  EXPECT_EQ(run.outcome.final_verdict, verdict::pass) << run.outcome.reason;
  EXPECT_GT(run.connects, 4U);
}

TEST(ClientRunnerFuzz, ALineThatEndsTwoSessionsFails) {
  std::string deadly;
  const auto run = play_fuzz(R"({"lines": 20})", [&](const std::string& line, std::size_t n) {
    if (n == 5) {
      deadly = line;
    }
    if (!deadly.empty() && line == deadly) {
      return mta_move{{}, true};
    }
    return polite(line, n);
  });
  EXPECT_EQ(run.outcome.final_verdict, verdict::fail);
  EXPECT_NE(run.outcome.reason.find("two sessions in a row"), std::string::npos)
      << run.outcome.reason;
  EXPECT_EQ(std::count(run.written.begin(), run.written.end(), deadly), 2);
}

TEST(ClientRunnerFuzz, NoReplyIsAHang) {
  const auto run = play_fuzz(R"({"lines": 20})", [](const std::string& line, std::size_t n) {
    return n == 3 ? mta_move{{}, false, true} : polite(line, n);
  });
  EXPECT_EQ(run.outcome.final_verdict, verdict::fail);
  EXPECT_NE(run.outcome.reason.find("the server hangs"), std::string::npos) << run.outcome.reason;
}

TEST(ClientRunnerFuzz, MalformedReplyFails) {
  const auto run = play_fuzz(R"({"lines": 20})", [](const std::string& line, std::size_t n) {
    return n == 2 ? mta_move{{"hello there\r\n"}} : polite(line, n);
  });
  EXPECT_EQ(run.outcome.final_verdict, verdict::fail);
  EXPECT_NE(run.outcome.reason.find("malformed reply"), std::string::npos) << run.outcome.reason;
}

TEST(ClientRunnerFuzz, A354IsEndedWithADot) {
  const auto run = play_fuzz(R"({"lines": 6})", [](const std::string& line, std::size_t n) {
    if (n == 2) {
      return mta_move{{"354 go ahead\r\n"}};
    }
    if (line == ".") {
      return mta_move{{"250 2.0.0 queued\r\n"}};
    }
    return polite(line, n);
  });
  EXPECT_EQ(run.outcome.final_verdict, verdict::pass) << run.outcome.reason;
  ASSERT_GE(run.written.size(), 3U);
  EXPECT_EQ(run.written[2], ".");
}

TEST(ClientRunnerFuzz, NoGreetingAfterTheLastLineFails) {
  const auto run = play_fuzz(R"({"lines": 5})", polite, "");
  EXPECT_EQ(run.outcome.final_verdict, verdict::fail);
  EXPECT_NE(run.outcome.reason.find("no greeting"), std::string::npos) << run.outcome.reason;
}

TEST(ClientRunnerFuzz, NeedsAPlaintextConnection) {
  driver d(wrap(R"({"connect": "starttls"}, {"close": {}}, {"fuzz": {}})"));
  d.ok();
  const auto& o = d.finish();
  EXPECT_EQ(o.final_verdict, verdict::error);
  EXPECT_NE(o.reason.find("no connection"), std::string::npos) << o.reason;
}

}  // namespace
}  // namespace smtpsim::script
