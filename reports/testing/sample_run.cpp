#include "reports/testing/sample_run.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

namespace smtpsim::reports::testing {

namespace {

using namespace std::chrono_literals;
using script::direction;
using script::verdict;

script::cert_info leaf_cert() {
  script::cert_info c;
  c.subject = "CN=mx.test";
  c.issuer = "CN=smtpsim test intermediate CA,O=smtpsim";
  c.serial = "3A7F0C21";
  c.not_before = "2026-01-01T00:00:00Z";
  c.not_after = "2027-01-01T00:00:00Z";
  c.dns_names = {"mx.test", "mail.test"};
  c.ip_addresses = {"127.0.0.1", "::1"};
  c.self_signed = false;
  c.sha256 =
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89";
  c.pubkey_sha256 =
      "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
      "CD:EF";
  return c;
}

script::cert_info intermediate_cert() {
  script::cert_info c;
  c.subject = "CN=smtpsim test intermediate CA,O=smtpsim";
  c.issuer = "CN=smtpsim test root CA,O=smtpsim";
  c.serial = "02";
  c.not_before = "2026-01-01T00:00:00Z";
  c.not_after = "2031-01-01T00:00:00Z";
  c.sha256 =
      "FE:DC:BA:98:76:54:32:10:FE:DC:BA:98:76:54:32:10:FE:DC:BA:98:76:54:32:10:FE:DC:BA:98:76:54:"
      "32:10";
  c.pubkey_sha256 =
      "10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:"
      "DC:FE";
  return c;
}

script::tls_facts tls13_session() {
  script::tls_facts t;
  t.established = true;
  t.version = "TLSv1.3";
  t.cipher = "TLS_AES_256_GCM_SHA384";
  t.sni = "mx.test";
  t.peer_chain = {leaf_cert(), intermediate_cert()};
  t.peer_verified = true;
  t.client_cert_requested = true;
  t.client_cert_sent = false;
  return t;
}

// starttls_session records a plain STARTTLS exchange as smtpsim the client sees it.
script::transcript starttls_session() {
  script::transcript t;
  t.add_event(0us, false, 0, "connected to 127.0.0.1:2525");
  t.add_bytes(1200us, direction::received, false, 0, "220 mx.test ESMTP\r\n");
  t.add_bytes(1500us, direction::sent, false, 0, "EHLO probe.test\r\n");
  t.add_bytes(2100us, direction::received, false, 0,
              "250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
  t.add_bytes(2300us, direction::sent, false, 0, "STARTTLS\r\n");
  t.add_bytes(2900us, direction::received, false, 0, "220 2.0.0 Ready to start TLS\r\n");
  t.add_event(9800us, true, 0, "TLS established: TLSv1.3 TLS_AES_256_GCM_SHA384");
  t.add_bytes(10100us, direction::sent, true, 0, "EHLO probe.test\r\n");
  t.add_bytes(10700us, direction::received, true, 0, "250-mx.test\r\n250 8BITMIME\r\n");
  t.add_bytes(11000us, direction::sent, true, 0, "QUIT\r\n");
  t.add_bytes(11400us, direction::received, true, 0, "221 2.0.0 Bye\r\n");
  t.add_event(11500us, true, 0, "closed by peer");
  return t;
}

script::judgment judged(verdict v, std::string reason, std::size_t step, std::string expected,
                        std::string observed, std::size_t from, std::size_t to) {
  script::judgment g;
  g.v = v;
  g.reason = std::move(reason);
  g.step = step;
  g.step_pointer = fmt::format("/steps/{}", step);
  g.expected = std::move(expected);
  g.observed = std::move(observed);
  g.transcript_from = from;
  g.transcript_to = to;
  return g;
}

case_result base_case(std::string case_id, std::string target) {
  case_result r;
  r.case_id = std::move(case_id);
  const std::size_t slash = r.case_id.find('/');
  r.scenario_id = r.case_id.substr(0, slash);
  r.variant = slash == std::string::npos ? "" : r.case_id.substr(slash + 1);
  r.target = std::move(target);
  r.title = "Server offers STARTTLS and answers 220 to it";
  r.level = "MUST";
  r.role = "server";
  r.file = "server/" + r.scenario_id + ".json";
  r.references = {"RFC 3207 §4"};
  r.tags = {"starttls"};
  r.started_at = "2026-03-01T10:00:01Z";
  return r;
}

}  // namespace

std::string all_byte_values() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  return bytes;
}

case_result make_case(std::string case_id, verdict v, std::string target) {
  case_result r = base_case(std::move(case_id), std::move(target));
  r.outcome.final_verdict = v;
  r.outcome.reason = v == verdict::pass ? "" : fmt::format("judged {}", script::to_string(v));
  r.outcome.duration = 210ms;
  r.outcome.log = starttls_session();
  r.outcome.judgments.push_back(
      judged(v, r.outcome.reason, 2, "220 reply to STARTTLS", "220 2.0.0 Ready", 3, 5));
  return r;
}

run_result make_sample_run() {
  run_result run;
  run.tool_version = "0.1.0";
  run.command_line = {"smtpsim", "run", "--target", "smtp://127.0.0.1:2525", "--out", "out"};
  run.started_at = "2026-03-01T10:00:00Z";
  run.finished_at = "2026-03-01T10:00:12Z";
  run.duration_seconds = 12.25;
  run.exit_code = 1;

  target_info reference;
  reference.name = "reference";
  reference.kind = "reference";
  reference.description = "built-in reference server";
  reference.listeners = {{"starttls", "smtp://127.0.0.1:40025"},
                         {"wrapper", "smtps://127.0.0.1:40465"}};
  target_info url;
  url.name = "smtp://127.0.0.1:2525";
  url.kind = "url";
  url.description = "";
  url.listeners = {{"starttls", "smtp://127.0.0.1:2525"}};
  run.targets = {reference, url};

  // PASS, with a verified TLS 1.3 session.
  case_result pass = make_case("starttls.ready-220", verdict::pass);
  pass.outcome.tls = {tls13_session()};
  pass.outcome.judgments = {judged(verdict::pass, "the server answered 220 to STARTTLS", 3,
                                   "220 reply", "220 2.0.0 Ready to start TLS", 4, 6)};
  run.cases.push_back(pass);

  // FAIL: command injection, with metacharacters of every output format in the reason.
  case_result fail = make_case("inject.starttls-rset-same-segment", verdict::fail);
  fail.title = "Commands pipelined behind STARTTLS are discarded";
  fail.references = {"RFC 3207 §4.2", "CVE-2011-0411"};
  fail.tags = {"starttls", "injection", "security"};
  fail.outcome.reason =
      "server executed | RSET sent in the <same> segment as STARTTLS & before TLS ]]> \"quoted\"";
  fail.outcome.duration = 1500ms;
  script::transcript injected;
  injected.add_event(0us, false, 0, "connected");
  injected.add_bytes(900us, direction::received, false, 0, "220 mx.test ESMTP\r\n");
  injected.add_bytes(1000us, direction::sent, false, 0, "STARTTLS\r\nRSET\r\n");
  injected.add_bytes(1400us, direction::received, false, 0, "220 2.0.0 Ready to start TLS\r\n");
  injected.add_event(8000us, true, 0, "TLS established: TLSv1.3 TLS_AES_128_GCM_SHA256");
  injected.add_bytes(8300us, direction::received, true, 0, "250 2.0.0 Flushed\r\n");
  fail.outcome.log = injected;
  fail.outcome.tls = {tls13_session()};
  fail.outcome.judgments = {
      judged(verdict::pass, "220 to STARTTLS", 1, "220", "220 2.0.0 Ready to start TLS", 2, 4),
      judged(verdict::fail, fail.outcome.reason, 2, "no reply before the client's next command",
             "250 2.0.0 Flushed", 2, 6)};
  run.cases.push_back(fail);

  // WARN on a variant.
  case_result warn = make_case("ehlo.reissue-after-tls/tls1.2", verdict::warn);
  warn.level = "SHOULD";
  warn.references = {"RFC 3207 §4.2"};
  warn.outcome.reason = "EHLO after TLS still lists STARTTLS";
  warn.outcome.tls = {tls13_session()};
  warn.outcome.tls[0].version = "TLSv1.2";
  warn.outcome.tls[0].cipher = "ECDHE-RSA-AES256-GCM-SHA384";
  run.cases.push_back(warn);

  // INFO: an unverified, self-signed certificate is recorded, not judged.
  case_result info = make_case("tls.cert-self-signed", verdict::info);
  info.level = "IMPL";
  info.outcome.reason = "the server presented a self-signed certificate";
  script::tls_facts self_signed = tls13_session();
  self_signed.peer_chain = {leaf_cert()};
  self_signed.peer_chain[0].self_signed = true;
  self_signed.peer_chain[0].issuer = self_signed.peer_chain[0].subject;
  self_signed.peer_verified = false;
  self_signed.verify_error = "self-signed certificate";
  info.outcome.tls = {self_signed};
  run.cases.push_back(info);

  // SKIP: nothing ran.
  case_result skip = make_case("auth.only-after-tls", verdict::skip);
  skip.outcome.reason = "no credentials given for the target";
  skip.outcome.duration = 0ms;
  skip.outcome.log = script::transcript();
  skip.outcome.judgments.clear();
  run.cases.push_back(skip);

  // ERROR: a hostile peer's bytes (NUL, C0 controls, ESC, invalid UTF-8, every byte value) and a
  // failed handshake. The reason holds XML-illegal but valid UTF-8 control characters.
  case_result error = make_case("greeting.banner-delay", verdict::error);
  error.outcome.reason = std::string("no greeting within 5 s; peer sent \x01\x02\x1b[2J\x7f and ") +
                         "\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa7";
  script::transcript hostile;
  hostile.add_event(0us, false, 0, "connected");
  hostile.add_bytes(100us, direction::received, false, 0, std::string("22\0 mx\r\n", 8));
  hostile.add_bytes(200us, direction::received, false, 0, "\xff\xfe\x80 broken utf-8 \xc0\xaf\r\n");
  hostile.add_bytes(300us, direction::received, false, 0, "\x1b[31mred\x1b[0m\x0b\x0c\r\n");
  hostile.add_bytes(400us, direction::received, false, 0, all_byte_values());
  hostile.add_bytes(500us, direction::received, false, 1, "h\xc3\xa9llo w\xc3\xb6rld\t\r\n");
  hostile.add_event(5000100us, false, 1, "timeout waiting for the greeting");
  error.outcome.log = hostile;
  script::tls_facts failed;
  failed.established = false;
  failed.sni = "mx.test";
  failed.alert_received = "handshake_failure";
  failed.error = "tlsv1 alert handshake failure";
  error.outcome.tls = {failed};
  error.outcome.judgments = {
      judged(verdict::error, error.outcome.reason, 0, "a 220 greeting", "bytes, no reply", 0, 7)};
  run.cases.push_back(error);

  // XFAIL: the judgment says FAIL, the baseline expected it.
  case_result xfail = make_case("data.bare-lf-smuggling", verdict::xfail);
  xfail.references = {"RFC 5321 §4.1.1.4", "CVE-2023-51764"};
  xfail.outcome.reason = "baseline: known smuggling issue (ticket 42)";
  xfail.outcome.judgments = {judged(verdict::fail, "accepted <LF>.<LF> as end of data", 5,
                                    "<CRLF>.<CRLF> only", "250 after <LF>.<LF>", 6, 9)};
  run.cases.push_back(xfail);

  // XPASS: listed in the baseline but passed.
  case_result xpass = make_case("pipelining.reply-order", verdict::xpass);
  xpass.outcome.reason = "listed in the baseline as failing, but passed";
  xpass.outcome.judgments = {
      judged(verdict::pass, "replies in order", 2, "250 250 354", "250 250 354", 2, 5)};
  run.cases.push_back(xpass);

  // Second target: a PASS with a truncated transcript from a client-role case, and a FAIL.
  case_result truncated = make_case("c.inject.after-220", verdict::pass, url.name);
  truncated.role = "client";
  truncated.file = "client/inject/after-220.json";
  script::transcript small(24);
  small.add_event(0us, false, 0, "client connected");
  small.add_bytes(10us, direction::sent, false, 0, "220 mx.test ESMTP\r\n");
  small.add_bytes(20us, direction::received, false, 0, "EHLO client.test\r\n");
  small.add_bytes(30us, direction::received, false, 0, "MAIL FROM:<a@b.test>\r\n");
  truncated.outcome.log = small;
  run.cases.push_back(truncated);

  run.cases.push_back(make_case("starttls.ready-220", verdict::fail, url.name));
  run.cases.back().outcome.reason = "no 220 reply to STARTTLS: 502 5.5.1 Unrecognized command";
  return run;
}

scratch_dir::scratch_dir() {
  static std::atomic<unsigned> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = info != nullptr ? info->name() : "test";
  path_ = std::filesystem::temp_directory_path() /
          fmt::format("smtpsim-reports-{}-{}-{}", ::getpid(), counter.fetch_add(1), name);
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

scratch_dir::~scratch_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

command_result run_command(const std::string& command) {
  command_result result;
  const std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) {
    result.output = "popen failed";
    return result;
  }
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::filesystem::path source_dir() {
  const char* dir = std::getenv("SMTPSIM_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  if (dir == nullptr || *dir == '\0') {
    ADD_FAILURE() << "SMTPSIM_SOURCE_DIR is not set; run the tests with ctest, which sets it";
    return {};
  }
  return dir;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path.string());
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

}  // namespace smtpsim::reports::testing
