// The smtpsim binary as users run it: exit codes, error messages, files written, and an
// interrupted run that still leaves a valid report.

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct result {
  int code = -1;
  std::string output;  // stdout and stderr
};

fs::path source_dir() {
  const char* src = std::getenv("SMTPSIM_SOURCE_DIR");
  return src != nullptr ? fs::path(src) : fs::path(".");
}

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

fs::path temp(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("smtpsim-cli-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

TEST(Cli, VersionAndHelpExitZero) {
  EXPECT_EQ(run("--version").code, 0);
  EXPECT_EQ(run("run --help").code, 0);
}

TEST(Cli, UnknownFlagIsUsageError) { EXPECT_EQ(run("run --no-such-flag").code, 2); }

TEST(Cli, ValidateNamesFilePointerAndPosition) {
  const auto r =
      run("validate " + (source_dir() / "tests/data/bad-scenarios/unknown-field.json").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown-field.json:10:22: /steps/2/colour: unknown field \"colour\""),
            std::string::npos)
      << r.output;
}

TEST(Cli, ValidateAcceptsTheShippedScenarios) {
  const auto r = run("validate " + (source_dir() / "scenarios").string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("0 invalid"), std::string::npos);
}

TEST(Cli, SelectionThatMatchesNothingIsUsageError) {
  const auto r = run("run --test 'no.such.*' --out " + temp("nothing").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("matches the selection"), std::string::npos) << r.output;
}

TEST(Cli, BadTargetUrlIsUsageError) {
  const auto r = run("run --target smtp://localhost --test starttls.ready-220");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("a port is required"), std::string::npos) << r.output;
}

TEST(Cli, UnknownReferenceFaultIsUsageError) {
  EXPECT_EQ(run("run --reference-fault no_such_fault").code, 2);
}

TEST(Cli, FaultyReferenceExitsOneAndNamesTheFailure) {
  const fs::path out = temp("fault");
  const auto r =
      run("run --progress plain --reference-fault keep_ehlo_across_tls --test 'reset.*' --out " +
          out.string());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  reset.helo-forgotten"), std::string::npos) << r.output;
  std::ifstream in(out / "run.json");
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc.at("exit_code"), 1);
}

TEST(Cli, PlayPrintsTheTranscriptAndVerdict) {
  const auto r = run("play starttls.ready-220");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("C> STARTTLS\\r\\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("S> 220 2.0.0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("== PASS"), std::string::npos) << r.output;
}

TEST(Cli, PkiWritesKeysPrivateAndPrintsFingerprints) {
  const fs::path out = temp("pki");
  const auto r = run("pki --out " + out.string());
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* name :
       {"ca", "server", "client1", "client2", "expired", "wrong-name", "self-signed"}) {
    EXPECT_TRUE(fs::exists(out / (std::string(name) + ".pem"))) << name;
    struct stat st {};
    ASSERT_EQ(::stat((out / (std::string(name) + ".key")).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  EXPECT_NE(r.output.find("client1"), std::string::npos);
  EXPECT_NE(r.output.find("sha256"), std::string::npos);
}

// An interrupted run writes the report of what finished, marked interrupted, and exits 3.
TEST(Cli, InterruptedRunLeavesAValidReport) {
  const fs::path out = temp("interrupt");
  const std::string binary = SMTPSIM_BINARY;
  std::vector<std::string> args = {binary,   "run", "--progress", "plain",
                                   "--jobs", "2",   "--out",      out.string()};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  fs::create_directories(out);
  const std::string progress = (out / "progress.txt").string();
  posix_spawn_file_actions_addopen(&actions, 1, progress.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  ASSERT_EQ(posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // Interrupt once a case has finished (its progress line is out), however slow the machine.
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream p(progress);
    std::string text((std::istreambuf_iterator<char>(p)), std::istreambuf_iterator<char>());
    if (text.find("PASS ") != std::string::npos || text.find("INFO ") != std::string::npos) {
      break;
    }
  }
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  std::ifstream in(out / "run.json");
  ASSERT_TRUE(in.good());
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc.at("interrupted"), true);
  EXPECT_GT(doc.at("cases").size(), 0u);
  EXPECT_LT(doc.at("cases").size(), 31u);
  const std::string check = "/usr/bin/python3 -m jsonschema -i " + (out / "run.json").string() +
                            " " + (source_dir() / "reports/schema/run.schema.json").string();
  EXPECT_EQ(std::system(check.c_str()), 0);
}

}  // namespace
