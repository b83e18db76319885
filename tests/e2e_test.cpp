// The suite over real loopback sockets: the built-in reference server passes everything, each
// fault variant fails exactly its cases, and hostile peers get verdicts within the timeouts.

#include <chrono>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "harness/run.hpp"
#include "reports/run_json.hpp"

#include "tests/support/fault_expectations.hpp"
#include "tests/support/hostile_peer.hpp"
#include <unistd.h>

namespace smtpsim::testing {
namespace {

namespace fs = std::filesystem;
using script::verdict;

harness::run_options base_options() {
  harness::run_options o;
  const char* src = std::getenv("SMTPSIM_SOURCE_DIR");
  o.scenario_dir = fs::path(src != nullptr ? src : ".") / "scenarios";
  o.write_reports = false;
  o.jobs = 32;
  return o;
}

TEST(ReferenceOverSockets, PassesEveryCaseAndWritesReadableReports) {
  auto o = base_options();
  o.write_reports = true;
  o.out_dir = fs::temp_directory_path() / ("smtpsim-e2e-reference-" + std::to_string(::getpid()));
  fs::remove_all(o.out_dir);
  reports::run_result run;
  std::ostringstream log;
  const int code = harness::run_suite(o, log, &run);
  EXPECT_EQ(code, 0) << log.str();
  const auto c = run.counts();
  EXPECT_EQ(c.fail, 0u) << log.str();
  EXPECT_EQ(c.error, 0u) << log.str();
  EXPECT_EQ(c.skip, 0u) << log.str();
  EXPECT_GE(c.pass, 20u);
  // The cross-cutting validators find nothing, and each has its PASS result.
  std::set<std::string> validators;
  for (const auto& r : run.cases) {
    if (r.synthetic) {
      validators.insert(r.case_id);
      EXPECT_EQ(r.outcome.final_verdict, verdict::pass) << r.case_id << ": " << r.outcome.reason;
    }
    for (const auto& f : r.outcome.validated.findings) {
      ADD_FAILURE() << r.case_id << ": " << f.validator << ": " << f.reason;
    }
  }
  EXPECT_EQ(validators,
            (std::set<std::string>{"a14.one-reply-per-command", "a14.multiline-same-code",
                                   "esc.prefix-all-replies", "esc.tls-codes"}));
  const auto back = reports::read_run_json(o.out_dir / "run.json");
  EXPECT_EQ(back.cases.size(), run.cases.size());
  EXPECT_EQ(back.exit_code, 0);
  EXPECT_TRUE(fs::exists(o.out_dir / "junit.xml"));
  EXPECT_TRUE(fs::exists(o.out_dir / "summary.md"));
}

TEST(FaultsOverSockets, EachFaultFailsExactlyItsCases) {
  for (const auto& e : fault_expectations()) {
    auto o = base_options();
    o.reference_faults = {std::string(reference::to_string(e.f))};
    o.limits.silence = std::chrono::milliseconds(500);
    o.limits.reply = std::chrono::milliseconds(3000);
    reports::run_result run;
    std::ostringstream log;
    const int code = harness::run_suite(o, log, &run);
    std::set<std::string> failed;
    std::set<std::string> warned;
    std::set<std::string> validators_failed;
    bool must_validator_failed = false;
    for (const auto& c : run.cases) {
      if (c.synthetic) {
        // FAIL for a MUST validator, WARN for a SHOULD one (esc.tls-codes), else PASS.
        const bool should = c.level == "SHOULD";
        EXPECT_TRUE(c.outcome.final_verdict == (should ? verdict::warn : verdict::fail) ||
                    c.outcome.final_verdict == verdict::pass)
            << o.reference_faults[0] << " / " << c.case_id << ": " << c.outcome.reason;
        if (c.outcome.final_verdict != verdict::pass) {
          validators_failed.insert(c.case_id);
          must_validator_failed = must_validator_failed || !should;
        }
        continue;
      }
      if (c.outcome.final_verdict == verdict::fail) {
        failed.insert(c.case_id);
      } else if (c.outcome.final_verdict == verdict::warn) {
        warned.insert(c.case_id);
      }
      EXPECT_NE(c.outcome.final_verdict, verdict::error)
          << o.reference_faults[0] << " / " << c.case_id << ": " << c.outcome.reason;
    }
    for (const auto& id : e.may_fail) {
      failed.erase(id);
    }
    EXPECT_EQ(failed, e.fail) << "fault " << o.reference_faults[0] << "\n" << log.str();
    EXPECT_EQ(warned, e.warn) << "fault " << o.reference_faults[0];
    std::set<std::string> expected_validators;
    for (const auto& [id, cases] : e.findings) {
      expected_validators.insert(id);
    }
    EXPECT_EQ(validators_failed, expected_validators) << "fault " << o.reference_faults[0];
    EXPECT_EQ(code, e.fail.empty() && !must_validator_failed ? 0 : 1) << o.reference_faults[0];
  }
}

struct hostile_case {
  hostile_mode mode;
  const char* name;
};

class HostilePeer : public ::testing::TestWithParam<hostile_case> {};

// A peer that stalls, drips, floods or babbles gets a verdict for every case within the
// configured timeouts: never a hang, never a PASS, and the exit code says "inconclusive" or
// "failure".
TEST_P(HostilePeer, GetsVerdictsWithinTheTimeouts) {
  hostile_peer peer(GetParam().mode, std::chrono::milliseconds(1000));
  auto o = base_options();
  o.targets = {fmt::format("smtp://127.0.0.1:{}", peer.port())};
  o.tests = {"starttls.*"};
  o.limits.greeting = std::chrono::milliseconds(1500);
  o.limits.reply = std::chrono::milliseconds(1500);
  o.limits.silence = std::chrono::milliseconds(500);
  o.limits.case_limit = std::chrono::milliseconds(6000);
  reports::run_result run;
  std::ostringstream log;
  const auto t0 = std::chrono::steady_clock::now();
  const int code = harness::run_suite(o, log, &run);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(10)) << log.str();
  ASSERT_GE(run.cases.size(), 10u);
  for (const auto& c : run.cases) {
    EXPECT_TRUE(c.outcome.final_verdict == verdict::error ||
                c.outcome.final_verdict == verdict::fail ||
                c.outcome.final_verdict == verdict::skip)
        << c.case_id << ": " << script::to_string(c.outcome.final_verdict) << " "
        << c.outcome.reason;
    EXPECT_LE(c.outcome.log.stored_bytes(), script::transcript::default_max_bytes);
  }
  EXPECT_TRUE(code == 1 || code == 3) << code;
}

INSTANTIATE_TEST_SUITE_P(Modes, HostilePeer,
                         ::testing::Values(hostile_case{hostile_mode::silent, "silent"},
                                           hostile_case{hostile_mode::drip, "drip"},
                                           hostile_case{hostile_mode::flood, "flood"},
                                           hostile_case{hostile_mode::close_at_once, "close"},
                                           hostile_case{hostile_mode::garbage, "garbage"}),
                         [](const ::testing::TestParamInfo<hostile_case>& p) {
                           return std::string(p.param.name);
                         });

TEST(UnreachableTarget, IsInconclusive) {
  // Bind a port, then close it: nothing listens there.
  std::uint16_t port = 0;
  {
    hostile_peer p(hostile_mode::close_at_once);
    port = p.port();
  }
  auto o = base_options();
  o.targets = {fmt::format("smtp://127.0.0.1:{}", port)};
  o.tests = {"starttls.ready-220"};
  reports::run_result run;
  std::ostringstream log;
  EXPECT_EQ(harness::run_suite(o, log, &run), 3);
  ASSERT_EQ(run.cases.size(), 1u);
  EXPECT_EQ(run.cases[0].outcome.final_verdict, verdict::error);
  EXPECT_NE(run.cases[0].outcome.reason.find("could not connect"), std::string::npos);
}

}  // namespace
}  // namespace smtpsim::testing
