// Deliberately bad clients (tests/data/bad-clients/*.py, one misbehaviour each) prove the FAIL
// side of the client checks that no reference-client fault reaches: each must fail (FAIL or WARN)
// exactly the cases listed for it in expectations-*.json, and nothing may end in ERROR.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/run.hpp"

namespace smtpsim {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path source_dir() {
  const char* dir = std::getenv("SMTPSIM_SOURCE_DIR");
  return dir != nullptr ? fs::path(dir) : fs::path(SMTPSIM_SOURCE_DIR_DEFAULT);
}

struct bad_client {
  std::string script;
  nlohmann::json spec;
};

void PrintTo(const bad_client& b, std::ostream* os) { *os << b.script; }

std::vector<bad_client> bad_clients() {
  std::vector<bad_client> out;
  for (const char* name : {"expectations-b1.json", "expectations-b2.json"}) {
    std::ifstream in(source_dir() / "tests/data/bad-clients" / name);
    if (!in) {
      continue;
    }
    const auto doc = nlohmann::json::parse(in);
    for (const auto& [script, spec] : doc.items()) {
      out.push_back(bad_client{script, spec});
    }
  }
  return out;
}

class BadClient : public ::testing::TestWithParam<bad_client> {};

TEST_P(BadClient, FailsExactlyItsChecks) {
  const auto& b = GetParam();
  harness::run_options o;
  o.tests = {"c.*"};
  o.write_reports = false;
  o.jobs = 4;
  o.scenario_dir = source_dir() / "scenarios";
  o.client_policy = b.spec.value("policy", "may");
  o.client_wrapper = b.spec.value("wrapper", false);
  o.client_timeout = 15000ms;
  if (b.spec.contains("capabilities")) {
    o.client_capabilities = b.spec["capabilities"].get<std::vector<std::string>>();
  }
  std::vector<std::string> args = {"{host}", "{port}"};
  if (b.spec.contains("args")) {
    args = b.spec["args"].get<std::vector<std::string>>();
  }
  o.clients = {fmt::format("/usr/bin/python3 {} {}",
                           (source_dir() / "tests/data/bad-clients" / b.script).string(),
                           fmt::join(args, " "))};
  reports::run_result run;
  std::ostringstream log;
  harness::run_suite(o, log, &run);
  std::set<std::string> failed;
  std::string all;
  for (const auto& c : run.cases) {
    const auto v = c.outcome.final_verdict;
    all += fmt::format("{} {}: {}\n", script::to_string(v), c.case_id, c.outcome.reason);
    EXPECT_NE(v, script::verdict::error) << c.case_id << ": " << c.outcome.reason;
    if (v == script::verdict::fail || v == script::verdict::warn) {
      failed.insert(c.case_id);
    }
  }
  const auto expected = b.spec["fails"].get<std::set<std::string>>();
  EXPECT_EQ(failed, expected) << all;
}

INSTANTIATE_TEST_SUITE_P(Scripts, BadClient, ::testing::ValuesIn(bad_clients()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.script;
                           n = n.substr(0, n.find('.'));
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace smtpsim
