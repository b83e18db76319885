// The whole scenario suite against the reference server's sans-I/O session, in memory: the
// conformant server passes everything, every fault fails exactly its cases, and an I/O failure
// injected at any step of any case still ends in a verdict.

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "simulator/reference/fault.hpp"

#include "harness/scenario_loader.hpp"

#include "tests/support/fault_expectations.hpp"
#include "tests/support/loopback.hpp"

namespace smtpsim::testing {
namespace {

using script::verdict;

std::filesystem::path scenario_dir() {
  const char* src = std::getenv("SMTPSIM_SOURCE_DIR");
  return std::filesystem::path(src != nullptr ? src : ".") / "scenarios";
}

class LoopbackSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ = new harness::scenario_set(harness::load_scenarios(scenario_dir()));
    ASSERT_TRUE(set_->errors.empty()) << set_->errors.front().what();
    for (const auto& s : set_->scenarios) {
      for (auto& c : script::expand_cases(*s)) {
        cases_->push_back(c);
      }
    }
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }

  static std::map<std::string, script::case_outcome> run_all(reference::fault_set faults) {
    loopback lb(faults);
    lb.set_fuzz_corpus(harness::fuzz_corpus(*set_, lb.target_view().vars));
    std::map<std::string, script::case_outcome> out;
    for (const auto& c : *cases_) {
      out[c.case_id] = lb.run(c);
    }
    return out;
  }

  static harness::scenario_set* set_;
  static std::vector<script::scenario_case>* cases_;
};

harness::scenario_set* LoopbackSuite::set_ = nullptr;
std::vector<script::scenario_case>* LoopbackSuite::cases_ = new std::vector<script::scenario_case>;

TEST_F(LoopbackSuite, ReferenceServerPassesEveryCase) {
  ASSERT_GE(cases_->size(), 30u);
  for (const auto& [id, o] : run_all({})) {
    EXPECT_TRUE(o.final_verdict == verdict::pass || o.final_verdict == verdict::info)
        << id << ": " << script::to_string(o.final_verdict) << ": " << o.reason << "\n"
        << script::render_transcript(o.log);
    for (const auto& f : o.validated.findings) {
      ADD_FAILURE() << id << ": " << f.validator << " at entry " << f.entry << "+" << f.offset
                    << ": " << f.reason << "\n"
                    << script::render_transcript(o.log);
    }
  }
}

// The cross-cutting validators find exactly the violations each fault causes, and nothing in
// the other cases.
TEST_F(LoopbackSuite, EachFaultTripsExactlyItsValidators) {
  for (const auto& e : fault_expectations()) {
    std::map<std::string, std::set<std::string>> found;
    std::string detail;
    for (const auto& [id, o] : run_all({e.f})) {
      for (const auto& f : o.validated.findings) {
        found[f.validator].insert(id);
        detail += id + ": " + f.validator + ": " + f.reason + "\n";
      }
    }
    EXPECT_EQ(found, e.findings) << "fault " << reference::to_string(e.f) << "\n" << detail;
  }
}

TEST_F(LoopbackSuite, EachFaultFailsExactlyItsCases) {
  for (const auto& e : fault_expectations()) {
    std::set<std::string> failed;
    std::set<std::string> warned;
    for (const auto& [id, o] : run_all({e.f})) {
      if (o.final_verdict == verdict::fail) {
        failed.insert(id);
      } else if (o.final_verdict == verdict::warn) {
        warned.insert(id);
      }
      EXPECT_NE(o.final_verdict, verdict::error)
          << reference::to_string(e.f) << " / " << id << ": " << o.reason;
    }
    for (const auto& id : e.may_fail) {
      failed.erase(id);
    }
    EXPECT_EQ(failed, e.fail) << "fault " << reference::to_string(e.f);
    EXPECT_EQ(warned, e.warn) << "fault " << reference::to_string(e.f);
  }
}

TEST_F(LoopbackSuite, EveryFaultIsInTheExpectationTable) {
  std::set<std::string> listed;
  for (const auto& e : fault_expectations()) {
    listed.insert(std::string(reference::to_string(e.f)));
  }
  for (const auto& info : reference::all_faults()) {
    EXPECT_EQ(listed.count(std::string(info.name)), 1u) << info.name << " has no expectations";
  }
}

// Every case that can FAIL or WARN has a fault that makes it do so: no scenario is proven only
// one way.
TEST_F(LoopbackSuite, EveryJudgingCaseIsFailedBySomeFault) {
  std::set<std::string> covered;
  for (const auto& e : fault_expectations()) {
    covered.insert(e.fail.begin(), e.fail.end());
    covered.insert(e.warn.begin(), e.warn.end());
  }
  for (const auto& c : *cases_) {
    bool can_fail = false;
    for (const auto& st : c.sc->steps) {
      for (const auto& oc : st.expect) {
        can_fail = can_fail || (oc.v && (*oc.v == verdict::fail || *oc.v == verdict::warn));
      }
      if (st.otherwise && st.otherwise->v) {
        can_fail =
            can_fail || *st.otherwise->v == verdict::fail || *st.otherwise->v == verdict::warn;
      }
    }
    if (can_fail) {
      EXPECT_EQ(covered.count(c.case_id), 1u) << c.case_id << " is failed by no fault";
    }
  }
}

// style.md §7.2: rerun each case with a failure injected at every action in turn. The runner
// must always end with a verdict and evidence, never loop or crash.
TEST_F(LoopbackSuite, FailureAtEveryStepEndsInAVerdict) {
  loopback lb;
  lb.set_fuzz_corpus(harness::fuzz_corpus(*set_, lb.target_view().vars));
  std::size_t runs = 0;
  for (const auto& c : *cases_) {
    std::size_t actions = 0;
    lb.run(c, std::nullopt, &actions);
    // A fuzz case asks for about a thousand actions: every 29th of them is enough to reach each
    // of its phases (line, QUIT, reconnect, greeting) many times.
    const std::size_t stride = actions > 300 ? 29 : 1;
    for (std::size_t i = 0; i < actions; i += stride) {
      for (auto k : {script::io_result::kind::error, script::io_result::kind::timeout,
                     script::io_result::kind::eof}) {
        std::size_t used = 0;
        const auto o = lb.run(c, injected_failure{i, k}, &used);
        ++runs;
        EXPECT_LT(used, std::max<std::size_t>(1000, 2 * actions)) << c.case_id;
        if (o.final_verdict != verdict::pass) {
          EXPECT_FALSE(o.reason.empty()) << c.case_id << " action " << i;
          EXPECT_FALSE(o.judgments.empty()) << c.case_id << " action " << i;
        }
      }
    }
  }
  EXPECT_GT(runs, 500u);
}

}  // namespace
}  // namespace smtpsim::testing
