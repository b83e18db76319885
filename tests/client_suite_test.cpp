// The client half of the suite over real processes and sockets: the built-in reference client
// (the smtpsim binary's `send`) passes every client check under every policy, each of its
// faults fails exactly the checks listed for it, and hostile clients (never connect, stall,
// flood, cannot start) get a verdict within the deadline and leave no process behind.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "harness/run.hpp"

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

// processes_mentioning counts live processes whose command line mentions `needle`.
int processes_mentioning(const std::string& needle) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream in(entry.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream st(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(st)), std::istreambuf_iterator<char>());
    const bool zombie = stat.find(") Z ") != std::string::npos;
    if (!zombie && cmd.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// open_sockets counts this process's socket descriptors (listeners and connections).
int open_sockets() {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = fs::read_symlink(entry.path(), ec);
    if (!ec && target.string().rfind("socket:", 0) == 0) {
      ++n;
    }
  }
  return n;
}

TEST(ClientSuite, ReferenceClientPassesEveryClientCheckUnderEveryPolicy) {
  auto o = client_options();
  reports::run_result run;
  std::ostringstream log;
  harness::run_suite(o, log, &run);
  ASSERT_FALSE(run.cases.empty());
  std::set<std::string> targets;
  for (const auto& c : run.cases) {
    targets.insert(c.target);
    const auto v = c.outcome.final_verdict;
    EXPECT_TRUE(v == script::verdict::pass || v == script::verdict::info ||
                v == script::verdict::skip)
        << c.case_id << "@" << c.target << ": " << script::to_string(v) << " " << c.outcome.reason
        << "\n"
        << (c.outcome.judgments.empty() ? "" : c.outcome.judgments.front().observed);
  }
  EXPECT_EQ(targets.size(), 6u);  // none, may, encrypt, verify, secure, wrapper
}

// A client target's setup runs once before its cases and its teardown once after; a failing
// setup turns its cases into ERRORs that say so.
TEST(ClientTarget, SetupAndTeardownRunOnceAroundTheCases) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("smtpsim-setup-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path marks = dir / "marks";
  auto write_target = [&](const std::string& name, const std::string& setup) {
    fs::path file = dir / (name + ".json");
    std::ofstream(file) << fmt::format(
        R"({{"kind": "client", "name": "{}", "policy": "may",
  "command": ["{}", "send", "--host", "{{host}}", "--port", "{{port}}", "--policy", "may"],
  "setup": ["sh", "-c", "{}"],
  "teardown": ["sh", "-c", "echo teardown >> {}"]}})",
        name, SMTPSIM_BINARY, setup, marks.string());
    return file;
  };
  auto o = client_options();
  o.self_exe.clear();
  o.tests = {"c.starttls.*"};
  o.targets = {write_target("good", "echo setup >> " + marks.string()).string()};
  reports::run_result run;
  std::ostringstream log;
  harness::run_suite(o, log, &run);
  ASSERT_GT(run.cases.size(), 1u);
  std::ifstream in(marks);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "setup\nteardown\n");
  for (const auto& c : run.cases) {
    EXPECT_NE(c.outcome.final_verdict, script::verdict::error) << c.case_id << c.outcome.reason;
  }

  o.targets = {write_target("bad", "echo broken >&2; exit 4").string()};
  reports::run_result bad;
  harness::run_suite(o, log, &bad);
  ASSERT_FALSE(bad.cases.empty());
  for (const auto& c : bad.cases) {
    if (c.outcome.final_verdict != script::verdict::skip) {
      EXPECT_EQ(c.outcome.final_verdict, script::verdict::error);
      EXPECT_NE(c.outcome.reason.find("setup failed: setup exited with status 4"),
                std::string::npos)
          << c.outcome.reason;
    }
  }
  fs::remove_all(dir);
}

// A hostile client: the verdict arrives within the client's deadline (plus the kill grace),
// and no process of the client is left.
struct hostile_case {
  const char* name;
  const char* command;
  script::verdict expected;
};

class HostileClient : public ::testing::TestWithParam<hostile_case> {};

TEST_P(HostileClient, GetsAVerdictInTimeAndLeavesNothingBehind) {
  const auto& h = GetParam();
  const std::string marker = fmt::format("smtpsim-hostile-{}-{}", h.name, ::getpid());
  auto o = client_options();
  o.self_exe.clear();
  o.tests = {"c.starttls.used-when-offered"};
  o.client_policy = "encrypt";
  o.client_timeout = 4000ms;
  o.clients = {fmt::format(fmt::runtime(h.command), fmt::arg("marker", marker),
                           fmt::arg("source", std::getenv("SMTPSIM_SOURCE_DIR")))};
  reports::run_result run;
  std::ostringstream log;
  const int sockets_before = open_sockets();
  const auto t0 = std::chrono::steady_clock::now();
  harness::run_suite(o, log, &run);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LE(open_sockets(), sockets_before) << "a fake server's port or connection was left open";
  ASSERT_EQ(run.cases.size(), 1u);
  EXPECT_EQ(run.cases[0].outcome.final_verdict, h.expected)
      << run.cases[0].outcome.reason << "\n"
      << run.cases[0].outcome.judgments.front().observed;
  EXPECT_LT(took, 15s);
  EXPECT_EQ(processes_mentioning(marker), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Clients, HostileClient,
    ::testing::Values(
        // never connects, and forks a grandchild that would outlive it
        hostile_case{"never_connects", "sh -c 'sleep 60 & sleep 61; : {marker}'",
                     script::verdict::error},
        // exits at once without connecting
        hostile_case{"exits_at_once", "sh -c 'exit 3; : {marker}'", script::verdict::error},
        // connects, then stays silent
        hostile_case{
            "stalls",
            "/usr/bin/python3 {source}/tests/data/hostile-clients/stall.py {{host}} {{port}} "
            "{marker}",
            script::verdict::error},
        // floods garbage lines without end
        hostile_case{
            "floods",
            "/usr/bin/python3 {source}/tests/data/hostile-clients/flood.py {{host}} {{port}} "
            "{marker}",
            script::verdict::fail},
        // cannot be started at all
        hostile_case{"missing_program", "/nonexistent/{marker}", script::verdict::error}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace smtpsim
