// Each fault of the built-in reference client (the smtpsim binary's `send --fault`) fails
// exactly the client checks listed for it (tests/support/client_expectations_*.cpp), and nothing
// else; every client check is failed by some fault or listed bad client.

#include "simulator/reference/client_fault.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "harness/run.hpp"

#include "tests/support/client_expectations.hpp"
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

namespace smtpsim {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

harness::run_options client_options() {
  harness::run_options o;
  o.self_exe = SMTPSIM_BINARY;
  o.tests = {"c.*"};
  o.write_reports = false;
  o.jobs = 8;
  if (const char* dir = std::getenv("SMTPSIM_SOURCE_DIR")) {
    o.scenario_dir = fs::path(dir) / "scenarios";
  }
  return o;
}

std::string verdicts_of(const reports::run_result& run) {
  std::string out;
  for (const auto& c : run.cases) {
    out += fmt::format("{} {}@{}: {}\n", script::to_string(c.outcome.final_verdict), c.case_id,
                       c.target, c.outcome.reason);
  }
  return out;
}

class ClientFault : public ::testing::TestWithParam<std::string> {};

TEST_P(ClientFault, FailsExactlyItsChecks) {
  const auto expectations = testing::all_client_expectations();
  const auto it = expectations.find(GetParam());
  ASSERT_NE(it, expectations.end()) << "no expectation for fault " << GetParam();
  auto o = client_options();
  o.reference_client_faults = {GetParam()};
  reports::run_result run;
  std::ostringstream log;
  harness::run_suite(o, log, &run);
  std::set<std::string> failed;
  for (const auto& c : run.cases) {
    const auto v = c.outcome.final_verdict;
    EXPECT_NE(v, script::verdict::error)
        << c.case_id << "@" << c.target << ": " << c.outcome.reason;
    if (v == script::verdict::fail || v == script::verdict::warn) {
      failed.insert(c.case_id + "@" + c.target);
    }
  }
  EXPECT_EQ(failed, it->second) << verdicts_of(run);
}

std::vector<std::string> fault_names() {
  std::vector<std::string> out;
  for (const auto& [name, checks] : testing::all_client_expectations()) {
    out.push_back(name);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Reference, ClientFault, ::testing::ValuesIn(fault_names()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(ClientFaultTable, EveryFaultOfTheReferenceClientIsExpectedToFailSomething) {
  const auto expectations = testing::all_client_expectations();
  for (const auto& [name, checks] : expectations) {
    EXPECT_TRUE(reference::client::parse_client_fault(name).has_value()) << name;
    EXPECT_FALSE(checks.empty()) << name << " fails nothing";
  }
}

}  // namespace
}  // namespace smtpsim
