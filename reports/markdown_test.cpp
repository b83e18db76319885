#include "reports/markdown.hpp"

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

using script::verdict;

std::string markdown_of(const run_result& run, const markdown_options& options = {}) {
  std::ostringstream out;
  write_markdown(run, out, options);
  return out.str();
}

TEST(MarkdownCell, EscapesPipesAndMarkupAndFlattensLines) {
  EXPECT_EQ(markdown_cell("a | b"), "a \\| b");
  EXPECT_EQ(markdown_cell("<script> & *bold* _it_ `code` [x]"),
            "\\<script\\> \\& \\*bold\\* \\_it\\_ \\`code\\` \\[x\\]");
  EXPECT_EQ(markdown_cell("two\r\nlines\tand tab"), "two  lines and tab");
  EXPECT_EQ(markdown_cell("back\\slash"), "back\\\\slash");
  EXPECT_EQ(markdown_cell("starttls.ready-220/tls1.3"), "starttls.ready-220/tls1.3");
  EXPECT_EQ(markdown_cell("RFC 3207 §4"), "RFC 3207 §4");
}

TEST(MarkdownCell, ReplacesControlCharactersAndBrokenUtf8) {
  EXPECT_EQ(markdown_cell(std::string("a\0b\x1b", 4)),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd");
  EXPECT_EQ(markdown_cell("\xff"), "\xef\xbf\xbd");
}

TEST(Markdown, StartsWithTheOutcomeAndTotals) {
  const std::string md = markdown_of(testing::make_sample_run());
  EXPECT_EQ(md.rfind("## smtpsim: not conformant (10 cases, exit code 1)\n", 0), 0U) << md;
  EXPECT_NE(md.find("**PASS** 2 · **FAIL** 2 · **WARN** 1 · **INFO** 1 · **SKIP** 1 · "
                    "**ERROR** 1 · **XFAIL** 1 · **XPASS** 1\n"),
            std::string::npos)
      << md;
}

TEST(Markdown, TabulatesVerdictCountsPerTarget) {
  const std::string md = markdown_of(testing::make_sample_run());
  EXPECT_NE(
      md.find("| Target | PASS | FAIL | WARN | INFO | SKIP | ERROR | XFAIL | XPASS | Total |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
              "| reference | 1 | 1 | 1 | 1 | 1 | 1 | 1 | 1 | 8 |\n"
              "| smtp://127.0.0.1:2525 | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 2 |\n"),
      std::string::npos)
      << md;
}

TEST(Markdown, ListsCasesThatDidNotPassWorstFirstWithEscapedCells) {
  const std::string md = markdown_of(testing::make_sample_run());
  const std::string header =
      "| Verdict | Case | Target | Reason | Reference |\n|---|---|---|---|---|\n";
  const std::size_t table = md.find(header);
  ASSERT_NE(table, std::string::npos) << md;
  const std::string rows = md.substr(table + header.size());
  EXPECT_EQ(rows.rfind("| FAIL | inject.starttls-rset-same-segment | reference | server executed "
                       "\\| RSET sent in the \\<same\\> segment as STARTTLS \\& before TLS "
                       "\\]\\]\\> \"quoted\" | RFC 3207 §4.2, CVE-2011-0411 |\n",
                       0),
            0U)
      << rows;
  // FAIL and XPASS, then ERROR, WARN, XFAIL, INFO, SKIP; PASS never.
  const auto at = [&](std::string_view verdict_cell) { return rows.find(verdict_cell); };
  EXPECT_LT(at("| XPASS |"), at("| ERROR |"));
  EXPECT_LT(at("| ERROR |"), at("| WARN |"));
  EXPECT_LT(at("| WARN |"), at("| XFAIL |"));
  EXPECT_LT(at("| XFAIL |"), at("| INFO |"));
  EXPECT_LT(at("| INFO |"), at("| SKIP |"));
  EXPECT_EQ(at("| PASS |"), std::string::npos);
  // Every row has exactly six unescaped pipes: the reason's own pipes cannot add a column.
  std::istringstream lines(rows);
  std::string line;
  while (std::getline(lines, line) && !line.empty()) {
    std::size_t pipes = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) {
        ++pipes;
      }
    }
    EXPECT_EQ(pipes, 6U) << line;
  }
}

TEST(Markdown, CapsTheCaseTableAndCountsTheRest) {
  const std::string md = markdown_of(testing::make_sample_run(), markdown_options{3});
  EXPECT_NE(md.find("… and 5 more; the run JSON and JUnit XML list every case.\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("| SKIP | auth"), std::string::npos) << md;
}

TEST(Markdown, SaysSoWhenEverythingPassed) {
  run_result run;
  run.targets = {target_info{"reference", "reference", "", {}}};
  run.cases = {testing::make_case("starttls.ready-220", verdict::pass)};
  const std::string md = markdown_of(run);
  EXPECT_EQ(md.rfind("## smtpsim: conformant (1 case, exit code 0)\n", 0), 0U) << md;
  EXPECT_NE(md.find("All cases passed.\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("did not pass"), std::string::npos) << md;
}

TEST(Markdown, HeadlineFollowsInterruptionAndExitCode) {
  run_result run;
  run.exit_code = 3;
  EXPECT_EQ(markdown_of(run).rfind("## smtpsim: inconclusive (0 cases, exit code 3)", 0), 0U);
  run.interrupted = true;
  EXPECT_EQ(markdown_of(run).rfind("## smtpsim: interrupted", 0), 0U);
}

}  // namespace
}  // namespace smtpsim::reports

namespace smtpsim::reports {
namespace {

TEST(Markdown, ListsValidatorFindingsWithTheirCaseAndEntry) {
  run_result run;
  run.targets = {target_info{"reference", "reference", "", {}}};
  case_result c = testing::make_case("smuggle.lf-dot-lf", script::verdict::fail);
  c.outcome.validated.findings.push_back(script::finding{"a14.one-reply-per-command",
                                                         script::verdict::fail, 11, 36,
                                                         "250 2.1.0 Ok", "a second reply"});
  case_result v = testing::make_case("a14.one-reply-per-command", script::verdict::fail);
  v.synthetic = true;
  run.cases = {c, v};
  const std::string md = markdown_of(run);
  EXPECT_NE(md.find("### Validator findings"), std::string::npos) << md;
  EXPECT_NE(md.find("| a14.one-reply-per-command | smuggle.lf-dot-lf | reference | 11+36 | a "
                    "second reply |"),
            std::string::npos)
      << md;
}

}  // namespace
}  // namespace smtpsim::reports
