#include "reports/terminal.hpp"

#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

using namespace std::chrono_literals;
using script::verdict;

// small_run is what the printer sees: three cases on one target.
run_result small_run() {
  run_result run;
  run.duration_seconds = 4.0;
  run.exit_code = 1;
  run.targets = {target_info{"reference", "reference", "", {}}};
  run.cases = {testing::make_case("starttls.ready-220", verdict::pass),
               testing::make_case("inject.starttls-rset-same-segment", verdict::fail),
               testing::make_case("auth.only-after-tls", verdict::skip)};
  run.cases[0].outcome.duration = 210ms;
  run.cases[1].outcome.duration = 1500ms;
  run.cases[1].outcome.reason = "server executed RSET\r\nsent before the TLS handshake";
  run.cases[2].outcome.duration = 0ms;
  run.cases[2].outcome.reason = "no credentials given for the target";
  return run;
}

void play(progress_printer& printer, const run_result& run) {
  printer.start(run.cases.size());
  for (const auto& r : run.cases) {
    printer.case_started(r.case_id);
    printer.case_finished(r);
  }
  printer.finish(run, {"out/run.json", "out/junit.xml"});
}

TEST(ProgressPrinter, PlainModePrintsOneLinePerCaseThenTheSummary) {
  std::ostringstream out;
  progress_printer printer(out, false);
  play(printer, small_run());
  EXPECT_EQ(out.str(),
            "PASS  starttls.ready-220  (0.21 s)\n"
            "FAIL  inject.starttls-rset-same-segment  (1.50 s)  server executed RSET  sent before "
            "the TLS handshake\n"
            "SKIP  auth.only-after-tls  (0.00 s)  no credentials given for the target\n"
            "3 cases in 4.0 s: PASS 1  FAIL 1  SKIP 1\n"
            "\n"
            "Not passed:\n"
            "  FAIL  inject.starttls-rset-same-segment: server executed RSET  sent before the TLS "
            "handshake\n"
            "\n"
            "Reports:\n"
            "  out/run.json\n"
            "  out/junit.xml\n");
}

TEST(ProgressPrinter, PlainModeNamesTargetsWhenThereAreSeveral) {
  std::ostringstream out;
  progress_printer printer(out, false);
  printer.start(2, 2);
  printer.case_finished(testing::make_case("starttls.ready-220", verdict::pass, "mx1"));
  printer.case_finished(testing::make_case("starttls.ready-220", verdict::pass, "mx2"));
  EXPECT_EQ(out.str(),
            "PASS  starttls.ready-220 [mx1]  (0.21 s)\n"
            "PASS  starttls.ready-220 [mx2]  (0.21 s)\n");
}

TEST(ProgressPrinter, PlainModeWritesNoEscapeSequences) {
  std::ostringstream out;
  progress_printer printer(out, false);
  const run_result run = testing::make_sample_run();
  play(printer, run);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(ProgressPrinter, FinishListsEveryFailErrorXpassAndWarnWorstFirst) {
  std::ostringstream out;
  progress_printer printer(out, false);
  run_result run = testing::make_sample_run();
  run.strict = true;
  printer.start(run.cases.size(), run.targets.size());
  printer.finish(run);
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("10 cases in 12.2 s: PASS 2  FAIL 2  WARN 1  INFO 1  SKIP 1  ERROR 1  "
                       "XFAIL 1  XPASS 1\n",
                       0),
            0U)
      << text;
  const std::size_t list = text.find("Not passed:\n");
  ASSERT_NE(list, std::string::npos) << text;
  EXPECT_EQ(text.substr(list),
            "Not passed:\n"
            "  FAIL  inject.starttls-rset-same-segment [reference]: server executed | RSET sent in "
            "the <same> segment as STARTTLS & before TLS ]]> \"quoted\"\n"
            "  XPASS pipelining.reply-order [reference]: listed in the baseline as failing, but "
            "passed\n"
            "  FAIL  starttls.ready-220 [smtp://127.0.0.1:2525]: no 220 reply to STARTTLS: 502 "
            "5.5.1 Unrecognized command\n"
            "  ERROR greeting.banner-delay [reference]: no greeting within 5 s; peer sent    [2J  "
            "and \xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xa7\n"
            "  WARN  ehlo.reissue-after-tls/tls1.2 [reference]: EHLO after TLS still lists "
            "STARTTLS\n"
            "  (--strict: WARN counts as FAIL)\n");
}

TEST(ProgressPrinter, LiveModeRewritesOneProgressLineInPlace) {
  std::ostringstream out;
  progress_printer printer(out, true);
  play(printer, small_run());
  const std::string text = out.str();
  EXPECT_NE(text.find("\r\x1b[K[  1/3] 0 running  PASS 1  last: starttls.ready-220"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\r\x1b[K[  2/3] 1 running  PASS 1  FAIL 1  last: "
                      "inject.starttls-rset-same-segment"),
            std::string::npos)
      << text;
  // PASS results only move the counters; the others stay on screen as whole lines.
  EXPECT_EQ(text.find("starttls.ready-220  (0.21 s)"), std::string::npos) << text;
  EXPECT_NE(text.find("inject.starttls-rset-same-segment  (1.50 s)  server executed RSET  sent "
                      "before the TLS handshake\n"),
            std::string::npos)
      << text;
  // finish erases the progress line before the summary, which ends the output.
  EXPECT_NE(text.find("\r\x1b[K3 cases in 4.0 s: "), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 14), "out/junit.xml\n");
  const char* no_colour = std::getenv("NO_COLOR");  // NOLINT(concurrency-mt-unsafe)
  if (no_colour == nullptr || *no_colour == '\0') {
    EXPECT_NE(text.find("\x1b[1;31mFAIL\x1b[0m"), std::string::npos) << text;
  }
}

TEST(ProgressPrinter, LiveLineNeverWrapsTheTerminal) {
  std::ostringstream out;
  progress_printer printer(out, true, 40);
  printer.start(500);
  printer.case_started("a.very-long-case-id-that-would-not-fit-on-a-forty-column-line");
  printer.case_finished(
      testing::make_case("b.another-long-case-id-\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", verdict::pass));
  const std::string text = out.str();
  std::size_t pos = 0;
  std::size_t segments = 0;
  while ((pos = text.find("\r\x1b[K", pos)) != std::string::npos) {
    pos += 4;
    const std::size_t end = std::min(text.find('\r', pos), text.size());
    const std::string segment = text.substr(pos, end - pos);
    EXPECT_LE(segment.size(), 39U) << segment;
    ++segments;
  }
  EXPECT_GE(segments, 3U);
}

TEST(ProgressPrinter, KeepsLinesWholeWhenCasesFinishOnSeveralThreads) {
  std::ostringstream out;
  progress_printer printer(out, false);
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  printer.start(threads * per_thread);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&printer, t] {
      for (int i = 0; i < per_thread; ++i) {
        const case_result r =
            testing::make_case(fmt::format("thread{}.case{}", t, i), verdict::pass);
        printer.case_started(r.case_id);
        printer.case_finished(r);
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  std::istringstream lines(out.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.rfind("PASS  thread", 0), 0U) << line;
    EXPECT_EQ(line.substr(line.size() - 10), "  (0.21 s)") << line;
    ++count;
  }
  EXPECT_EQ(count, threads * per_thread);
}

}  // namespace
}  // namespace smtpsim::reports
