// Server targets that smtpsim starts itself, through the smtpsim binary: a tiny fake target
// (tests/data/fake-target/ctl.sh runs `smtpsim serve` on the ports the harness allocated and
// passes its mail on to the harness's capture sink) shows setup, readiness, the sink feeding
// await_delivery, and a teardown that runs after a good run, a failed setup, a readiness
// timeout and an interrupt, leaving no process behind.

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

struct result {
  int code = -1;
  std::string output;
};

result run(const std::string& args) {
  result r;
  const std::string cmd = std::string(SMTPSIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return r;
  }
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) {
    r.output += buf.data();
  }
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string slurp(const fs::path& f) {
  std::ifstream in(f);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool alive(pid_t pid) {
  const std::string stat = slurp(fs::path("/proc") / std::to_string(pid) / "stat");
  const std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class StartedTarget : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("smtpsim-started-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // fake_target writes a target file for the fake target; `extra` adds fields.
  fs::path fake_target(const json& extra = json::object()) {
    const std::string ctl =
        (fs::path(SMTPSIM_SOURCE_DIR) / "tests/data/fake-target/ctl.sh").string();
    json t = {{"kind", "server"},
              {"name", "fake"},
              {"listeners", {{"starttls", "smtp://127.0.0.1"}, {"wrapper", "smtps://127.0.0.1"}}},
              {"setup",
               {"sh", ctl, "start", SMTPSIM_BINARY, "{instance_dir}", "{port:starttls}",
                "{port:wrapper}", "{sink_port}"}},
              {"teardown", {"sh", ctl, "stop", "{instance_dir}"}},
              {"ready_timeout_ms", 20000},
              {"sink", true},
              {"traits", {"public_mx"}},
              {"vars",
               {{"local_rcpt", "postmaster@mx.test"},
                {"auth_user", "alice@mx.test"},
                {"auth_password", "smtpsim-reference-password"}}},
              {"tls", {{"server_name", "mx.test"}}}};
    t.update(extra);
    fs::path f = dir_ / "fake.json";
    std::ofstream(f) << t.dump(2);
    return f;
  }

  fs::path instance() const { return dir_ / "out/targets/fake/instance"; }

  json run_json() const { return json::parse(slurp(dir_ / "out/run.json")); }

  fs::path dir_;
};

TEST_F(StartedTarget, StartsRunsDeliversThroughTheSinkAndStops) {
  const auto r = run("run --target " + fake_target().string() +
                     " --test reset.received-esmtps --test starttls.ready-220 --test "
                     "wrapper.tls-first --out " +
                     (dir_ / "out").string());
  EXPECT_EQ(r.code, 0) << r.output;
  const json doc = run_json();
  std::map<std::string, std::string> verdicts;
  for (const auto& c : doc.at("cases")) {
    verdicts[c.at("case_id")] = c.at("verdict");
  }
  // received-esmtps needs the sink: it passes only if the relayed message reached it.
  EXPECT_EQ(verdicts["reset.received-esmtps"], "PASS") << r.output;
  EXPECT_EQ(verdicts["starttls.ready-220"], "PASS");
  EXPECT_EQ(verdicts["wrapper.tls-first"], "PASS");
  // The report shows the ports the harness allocated; the setup got the same ones.
  std::istringstream ports(slurp(instance() / "setup-ran"));
  int starttls = 0;
  int wrapper = 0;
  int sink = 0;
  ports >> starttls >> wrapper >> sink;
  EXPECT_GT(sink, 0);
  const std::string urls = doc.at("targets").at(0).at("listeners").dump();
  EXPECT_NE(urls.find("smtp://127.0.0.1:" + std::to_string(starttls)), std::string::npos) << urls;
  EXPECT_NE(urls.find("smtps://127.0.0.1:" + std::to_string(wrapper)), std::string::npos) << urls;
  EXPECT_TRUE(fs::exists(instance() / "teardown-ran"));
  EXPECT_TRUE(fs::exists(dir_ / "out/targets/fake/pki/ca.pem"));
  EXPECT_TRUE(fs::exists(dir_ / "out/targets/fake/pki/fingerprints.txt"));
  const pid_t serve = std::stoi(slurp(instance() / "serve.pid"));
  EXPECT_FALSE(alive(serve)) << "the fake target's server outlived the run";
}

TEST_F(StartedTarget, AFailedSetupMakesEveryCaseAnErrorAndStillTearsDown) {
  const std::string marker = (dir_ / "torn-down").string();
  const auto r =
      run("run --target " +
          fake_target({{"setup", {"sh", "-c", "echo the MTA refused to start >&2; exit 4"}},
                       {"teardown", {"sh", "-c", "echo done > " + marker}}})
              .string() +
          " --test starttls.ready-220 --test wrapper.tls-first --out " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 3) << r.output;
  const auto doc = run_json();
  for (const auto& c : doc.at("cases")) {
    EXPECT_EQ(c.at("verdict"), "ERROR");
    EXPECT_NE(c.at("reason").get<std::string>().find("the MTA refused to start"), std::string::npos)
        << c.dump();
  }
  EXPECT_TRUE(fs::exists(marker));
}

TEST_F(StartedTarget, ListenersThatNeverAcceptEndTheWaitInTime) {
  const std::string marker = (dir_ / "torn-down").string();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run("run --target " +
                     fake_target({{"setup", {"true"}},
                                  {"teardown", {"sh", "-c", "echo done > " + marker}},
                                  {"ready_timeout_ms", 300}})
                         .string() +
                     " --test starttls.ready-220 --out " + (dir_ / "out").string());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_EQ(r.code, 3) << r.output;
  const auto cases = run_json().at("cases");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases.at(0).at("verdict"), "ERROR");
  EXPECT_NE(cases.at(0).at("reason").get<std::string>().find("did not accept connections"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(marker));
}

TEST_F(StartedTarget, AnInterruptDuringSetupStopsItAndTearsDown) {
  const std::string marker = (dir_ / "torn-down").string();
  const std::string pid_file = (dir_ / "setup.pid").string();
  const fs::path target =
      fake_target({{"setup", {"sh", "-c", "echo $$ > " + pid_file + "; exec sleep 60"}},
                   {"teardown", {"sh", "-c", "echo done > " + marker}}});
  const std::string binary = SMTPSIM_BINARY;
  const std::string out = (dir_ / "out").string();
  const std::string target_arg = target.string();
  std::vector<char*> argv{const_cast<char*>(binary.c_str()),
                          const_cast<char*>("run"),
                          const_cast<char*>("--target"),
                          const_cast<char*>(target_arg.c_str()),
                          const_cast<char*>("--test"),
                          const_cast<char*>("starttls.ready-220"),
                          const_cast<char*>("--out"),
                          const_cast<char*>(out.c_str()),
                          nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // Interrupt once the setup runs.
  for (int i = 0; i < 400 && !fs::exists(pid_file); ++i) {
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(fs::exists(pid_file));
  const auto t0 = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_TRUE(fs::exists(marker)) << "no teardown after the interrupt";
  const pid_t setup = std::stoi(slurp(pid_file));
  EXPECT_FALSE(alive(setup)) << "the interrupted setup is still running";
  EXPECT_EQ(run_json().at("interrupted"), true);
}

TEST_F(StartedTarget, AnInterruptDuringTheCasesStillTearsDown) {
  const fs::path target = fake_target();
  const std::string binary = SMTPSIM_BINARY;
  const std::string out = (dir_ / "out").string();
  const std::string target_arg = target.string();
  // inject.starttls-ehlo-probe waits seconds for replies that never come: time to interrupt.
  std::vector<char*> argv{const_cast<char*>(binary.c_str()),
                          const_cast<char*>("run"),
                          const_cast<char*>("--target"),
                          const_cast<char*>(target_arg.c_str()),
                          const_cast<char*>("--test"),
                          const_cast<char*>("inject.starttls-ehlo-probe"),
                          const_cast<char*>("--out"),
                          const_cast<char*>(out.c_str()),
                          nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  for (int i = 0; i < 800 && !fs::exists(instance() / "setup-ran"); ++i) {
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(fs::exists(instance() / "setup-ran"));
  std::this_thread::sleep_for(700ms);  // past the readiness wait, into the case
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_TRUE(fs::exists(instance() / "teardown-ran"));
  const pid_t serve = std::stoi(slurp(instance() / "serve.pid"));
  EXPECT_FALSE(alive(serve)) << "the fake target's server outlived the interrupted run";
  EXPECT_EQ(run_json().at("interrupted"), true);
}

TEST_F(StartedTarget, MissingProgramsSkipTheTargetWithoutStartingIt) {
  const auto r =
      run("run --target " + fake_target({{"requires_programs", {"no-such-mta-program"}}}).string() +
          " --test starttls.ready-220 --out " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 3) << r.output;
  const auto cases = run_json().at("cases");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases.at(0).at("verdict"), "SKIP");
  EXPECT_NE(cases.at(0).at("reason").get<std::string>().find("no-such-mta-program"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(instance() / "setup-ran"));
}

TEST_F(StartedTarget, ExpectedFailuresOfServerTargetsBecomeXfailAndXpass) {
  const auto r =
      run("run --target " +
          fake_target({{"expected_failures", {{"starttls.ready-220", "listed to see an XPASS"}}}})
              .string() +
          " --test starttls.ready-220 --out " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 1) << r.output;
  // The case, and the results of the four cross-cutting validators over its transcript.
  nlohmann::json cases = nlohmann::json::array();
  std::size_t validators = 0;
  const json report = run_json();  // named: a range-for over a temporary's member dangles
  for (const auto& c : report.at("cases")) {
    if (c.at("synthetic").get<bool>()) {
      ++validators;
    } else {
      cases.push_back(c);
    }
  }
  EXPECT_EQ(validators, 4u);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases.at(0).at("verdict"), "XPASS");
  EXPECT_TRUE(fs::exists(instance() / "teardown-ran"));
}

}  // namespace
