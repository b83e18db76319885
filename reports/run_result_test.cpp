#include "reports/run_result.hpp"

#include <gtest/gtest.h>

#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

using script::verdict;

TEST(VerdictCounts, AddsEachVerdictToItsOwnCounter) {
  verdict_counts c;
  for (const verdict v : all_verdicts) {
    c.add(v);
  }
  c.add(verdict::fail);
  EXPECT_EQ(c.pass, 1U);
  EXPECT_EQ(c.fail, 2U);
  EXPECT_EQ(c.warn, 1U);
  EXPECT_EQ(c.info, 1U);
  EXPECT_EQ(c.skip, 1U);
  EXPECT_EQ(c.error, 1U);
  EXPECT_EQ(c.xfail, 1U);
  EXPECT_EQ(c.xpass, 1U);
  EXPECT_EQ(c.total(), 9U);
}

TEST(VerdictCounts, CountReadsTheCounterAddFills) {
  for (const verdict v : all_verdicts) {
    verdict_counts c;
    c.add(v);
    c.add(v);
    EXPECT_EQ(c.count(v), 2U) << script::to_string(v);
    EXPECT_EQ(c.total(), 2U) << script::to_string(v);
  }
}

TEST(RunResult, CountsTheFinalVerdictOfEveryCase) {
  const run_result run = testing::make_sample_run();
  const verdict_counts c = run.counts();
  EXPECT_EQ(c.total(), run.cases.size());
  EXPECT_EQ(c.pass, 2U);
  EXPECT_EQ(c.fail, 2U);
  EXPECT_EQ(c.warn, 1U);
  EXPECT_EQ(c.info, 1U);
  EXPECT_EQ(c.skip, 1U);
  EXPECT_EQ(c.error, 1U);
  EXPECT_EQ(c.xfail, 1U);
  EXPECT_EQ(c.xpass, 1U);
}

TEST(RunResult, CountsEmptyRunAsZero) { EXPECT_EQ(run_result{}.counts(), verdict_counts{}); }

TEST(RunResult, CountsPerTargetAddUpToTheTotal) {
  const run_result run = testing::make_sample_run();
  const verdict_counts reference = run.counts_for_target("reference");
  const verdict_counts url = run.counts_for_target("smtp://127.0.0.1:2525");
  EXPECT_EQ(reference.total(), 8U);
  EXPECT_EQ(url.total(), 2U);
  EXPECT_EQ(url.fail, 1U);
  for (const verdict v : all_verdicts) {
    EXPECT_EQ(reference.count(v) + url.count(v), run.counts().count(v));
  }
  EXPECT_EQ(run.counts_for_target("nobody").total(), 0U);
}

TEST(RunResult, TargetNamesListDeclaredTargetsThenTargetsOnlySeenInCases) {
  run_result run;
  run.targets = {target_info{"b", "url", "", {}}, target_info{"a", "url", "", {}}};
  run.cases = {testing::make_case("x.one", verdict::pass, "c"),
               testing::make_case("x.two", verdict::pass, "a"),
               testing::make_case("x.three", verdict::pass, "c")};
  EXPECT_EQ(run.target_names(), (std::vector<std::string>{"b", "a", "c"}));
}

TEST(CaseResult, WePlayedClientUnlessTheTargetIsAClient) {
  case_result r;
  r.role = "server";
  EXPECT_TRUE(r.we_played_client());
  r.role = "client";
  EXPECT_FALSE(r.we_played_client());
}

}  // namespace
}  // namespace smtpsim::reports
