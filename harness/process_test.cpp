#include "harness/process.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace smtpsim::harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ProcessTest gives each test (and each process: ctest runs tests concurrently) its own folder.
class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("smtpsim-process-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static process_spec shell(const std::string& script) {
    return {.argv = {"/bin/sh", "-c", script}};
  }

  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // wait_for_pid reads the process id a script wrote to `file` (waits at most 10 s).
  static pid_t wait_for_pid(const fs::path& file) {
    const auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
      const std::string text = read(file);
      if (!text.empty() && text.back() == '\n') {
        return static_cast<pid_t>(std::stol(text));
      }
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no pid in " << file;
    return -1;
  }

  // is_running: the process exists and is not a zombie (orphans are the init process's to
  // reap, which may take a moment or, in some containers, forever).
  static bool is_running(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) {
      return false;
    }
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) {
      return false;
    }
    const std::size_t close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
  }

  static bool stops_running_soon(pid_t pid) {
    const auto deadline = clock_type::now() + 2s;
    while (is_running(pid) && clock_type::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return !is_running(pid);
  }

  // not_our_child: the program was reaped (no zombie left behind).
  static bool not_our_child(pid_t pid) {
    int st = 0;
    return ::waitpid(pid, &st, WNOHANG) == -1 && errno == ECHILD;
  }

  fs::path dir_;
};

TEST_F(ProcessTest, ReportsExitCodes) {
  auto three = child_process::spawn(shell("exit 3"));
  EXPECT_EQ(three.wait_for(10s), 3);
  EXPECT_FALSE(three.killed());
  EXPECT_TRUE(three.exited_at().has_value());
  EXPECT_GE(*three.exited_at(), three.started_at());
  auto ok = child_process::spawn({.argv = {"true"}});  // found in PATH
  EXPECT_EQ(ok.wait_for(10s), 0);
  EXPECT_TRUE(not_our_child(ok.pid()));
}

TEST_F(ProcessTest, ReportsSignalsAs128PlusTheNumber) {
  auto term = child_process::spawn(shell("kill -TERM $$"));
  EXPECT_EQ(term.wait_for(10s), 128 + SIGTERM);
  auto killed9 = child_process::spawn(shell("kill -KILL $$"));
  EXPECT_EQ(killed9.wait_for(10s), 128 + SIGKILL);
}

TEST_F(ProcessTest, PollReportsTheStatusOnceExitedAndKeepsIt) {
  auto child = child_process::spawn(shell("read x; exit 7"));  // stdin is /dev/null: EOF
  ASSERT_EQ(child.wait_for(10s), 7);
  EXPECT_EQ(child.poll(), 7);
  EXPECT_EQ(child.poll(), 7);
  EXPECT_EQ(child.status(), 7);
  EXPECT_FALSE(child.running());
}

TEST_F(ProcessTest, BoundedWaitReturnsWithinTheBound) {
  auto child = child_process::spawn({.argv = {"sleep", "30"}});
  EXPECT_FALSE(child.poll().has_value());
  const auto start = clock_type::now();
  EXPECT_FALSE(child.wait_for(200ms).has_value());
  const auto took = clock_type::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1200ms);
  EXPECT_TRUE(child.running());
  child.kill_group();
  EXPECT_TRUE(child.killed());
  EXPECT_EQ(child.status(), 128 + SIGTERM);
}

TEST_F(ProcessTest, KillGroupEndsTheProgramAndWhatItForked) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  auto child =
      child_process::spawn(shell("sleep 30 & echo $! > '" + pid_file.string() + "'; sleep 30"));
  const pid_t grandchild = wait_for_pid(pid_file);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(is_running(grandchild));
  EXPECT_EQ(::getpgid(grandchild), child.pid());  // the program leads its own group
  EXPECT_NE(::getpgid(grandchild), ::getpgrp());

  const auto start = clock_type::now();
  child.kill_group();
  EXPECT_LT(clock_type::now() - start, 2s);
  EXPECT_TRUE(child.killed());
  EXPECT_EQ(child.status(), 128 + SIGTERM);
  EXPECT_TRUE(not_our_child(child.pid()));
  EXPECT_TRUE(stops_running_soon(grandchild));
}

TEST_F(ProcessTest, KillGroupFallsBackToSigkill) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  // Ignored signals stay ignored across fork and exec: every process here ignores SIGTERM.
  auto child = child_process::spawn(
      shell("trap '' TERM; sleep 30 & echo $! > '" + pid_file.string() + "'; sleep 30"));
  const pid_t grandchild = wait_for_pid(pid_file);
  ASSERT_GT(grandchild, 0);
  const auto start = clock_type::now();
  child.kill_group(200ms);
  const auto took = clock_type::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(child.status(), 128 + SIGKILL);
  EXPECT_TRUE(not_our_child(child.pid()));
  EXPECT_TRUE(stops_running_soon(grandchild));
}

TEST_F(ProcessTest, KillGroupEndsWhatAnExitedProgramLeftBehind) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  auto child = child_process::spawn(shell("sleep 30 & echo $! > '" + pid_file.string() + "'"));
  const pid_t grandchild = wait_for_pid(pid_file);
  EXPECT_EQ(child.wait_for(10s), 0);
  EXPECT_TRUE(is_running(grandchild));
  child.kill_group();
  EXPECT_FALSE(child.killed());  // the program itself had ended on its own
  EXPECT_EQ(child.status(), 0);
  EXPECT_TRUE(stops_running_soon(grandchild));
}

TEST_F(ProcessTest, DestructorEndsTheGroup) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  pid_t leader = -1;
  pid_t grandchild = -1;
  {
    auto child =
        child_process::spawn(shell("sleep 30 & echo $! > '" + pid_file.string() + "'; sleep 30"));
    leader = child.pid();
    grandchild = wait_for_pid(pid_file);
  }
  EXPECT_TRUE(not_our_child(leader));
  EXPECT_TRUE(stops_running_soon(grandchild));
}

TEST_F(ProcessTest, MovesOwnership) {
  auto a = child_process::spawn({.argv = {"sleep", "30"}});
  const pid_t pid = a.pid();
  child_process b = std::move(a);
  EXPECT_EQ(b.pid(), pid);
  EXPECT_EQ(a.pid(), -1);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  child_process c;
  c = std::move(b);
  EXPECT_EQ(c.pid(), pid);
  c.kill_group();
  EXPECT_TRUE(not_our_child(pid));
}

TEST_F(ProcessTest, BlockedSignalsInTheHarnessAreNotInherited) {
  // main.cpp blocks signals in every thread; the child must still obey SIGTERM.
  sigset_t term;
  sigset_t old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  auto child = child_process::spawn({.argv = {"sleep", "30"}});
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  child.kill_group(5s);
  EXPECT_EQ(child.status(), 128 + SIGTERM);
}

TEST_F(ProcessTest, MissingProgramIsAClearError) {
  try {
    child_process::spawn({.argv = {"smtpsim-no-such-program"}});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot start 'smtpsim-no-such-program': No such file or directory");
  }
  try {
    child_process::spawn({.argv = {"/nonexistent/swaks", "--help"}});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot start '/nonexistent/swaks': No such file or directory");
  }
  try {
    child_process::spawn({.argv = {dir_.string()}});  // a folder
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }
  process_spec bad_cwd{.argv = {"true"}};
  bad_cwd.cwd = dir_ / "missing";
  EXPECT_THROW(child_process::spawn(bad_cwd), std::runtime_error);
  EXPECT_THROW(child_process::spawn({}), std::runtime_error);
}

TEST_F(ProcessTest, CapturesStdoutAndStderr) {
  process_spec spec = shell("echo out; echo err >&2");
  spec.stdout_file = dir_ / "out.log";
  spec.stderr_file = dir_ / "err.log";
  auto child = child_process::spawn(spec);
  ASSERT_EQ(child.wait_for(10s), 0);
  EXPECT_EQ(read(spec.stdout_file), "out\n");
  EXPECT_EQ(read(spec.stderr_file), "err\n");

  process_spec both = shell("echo one; echo two >&2; echo three");
  both.stdout_file = dir_ / "both.log";
  both.stderr_file = dir_ / "both.log";
  auto child2 = child_process::spawn(both);
  ASSERT_EQ(child2.wait_for(10s), 0);
  EXPECT_EQ(read(both.stdout_file), "one\ntwo\nthree\n");
}

TEST_F(ProcessTest, PassesTheEnvironmentAndTheWorkingFolder) {
  ASSERT_EQ(::setenv("SMTPSIM_PROCESS_TEST_OWN", "inherited", 1), 0);
  process_spec spec = shell(R"(printf '%s|%s|%s' "$SMTPSIM_X" "$SMTPSIM_PROCESS_TEST_OWN" "$PWD")");
  spec.env_extra = {{"SMTPSIM_X", "a b=c"}};
  spec.cwd = dir_;
  spec.stdout_file = dir_ / "out.log";
  auto child = child_process::spawn(spec);
  ASSERT_EQ(child.wait_for(10s), 0);
  EXPECT_EQ(read(spec.stdout_file), "a b=c|inherited|" + dir_.string());

  process_spec over = shell(R"(printf '%s' "$SMTPSIM_PROCESS_TEST_OWN")");
  over.env_extra = {{"SMTPSIM_PROCESS_TEST_OWN", "overridden"}};
  over.stdout_file = dir_ / "over.log";
  auto child2 = child_process::spawn(over);
  ASSERT_EQ(child2.wait_for(10s), 0);
  EXPECT_EQ(read(over.stdout_file), "overridden");
  ::unsetenv("SMTPSIM_PROCESS_TEST_OWN");
}

TEST_F(ProcessTest, RelativeProgramPathsAreTakenFromTheWorkingFolder) {
  const fs::path script = dir_ / "client.sh";
  std::ofstream(script) << "#!/bin/sh\necho \"$1\"\n";
  fs::permissions(script, fs::perms::owner_all);
  process_spec spec{.argv = {"./client.sh", "x"}};
  spec.cwd = dir_;
  spec.stdout_file = dir_ / "out.log";
  auto child = child_process::spawn(spec);
  ASSERT_EQ(child.wait_for(10s), 0);
  EXPECT_EQ(read(spec.stdout_file), "x\n");
}

TEST_F(ProcessTest, KeepsArgvZeroAsGiven) {
  auto child = child_process::spawn({.argv = {"sleep", "30"}});  // run as /usr/bin/sleep
  // posix_spawn returns once exec has begun; the kernel fills in the arguments a moment later.
  std::string cmdline;
  const auto deadline = clock_type::now() + 5s;
  while (cmdline.empty() && clock_type::now() < deadline) {
    cmdline = read("/proc/" + std::to_string(child.pid()) + "/cmdline");
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(cmdline, std::string("sleep\0"
                                 "30\0",
                                 9));
  child.kill_group();
}

TEST(FindProgram, LooksInPathAndChecksTheExecutableBit) {
  const auto sh = find_program("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ(sh->filename(), "sh");
  EXPECT_FALSE(find_program("smtpsim-no-such-program").has_value());
  EXPECT_FALSE(find_program("").has_value());
  EXPECT_FALSE(find_program("/tmp").has_value());  // a folder
  EXPECT_EQ(find_program("/bin/sh"), std::filesystem::path("/bin/sh"));
  EXPECT_EQ(find_program_in("sh", "/nonexistent:/bin"), std::filesystem::path("/bin/sh"));
  EXPECT_FALSE(find_program_in("sh", "/nonexistent").has_value());
}

TEST_F(ProcessTest, TailOfFileKeepsTheLastBytes) {
  const fs::path log = dir_ / "log";
  std::ofstream(log, std::ios::binary) << "hello world";
  EXPECT_EQ(tail_of_file(log, 5), "world");
  EXPECT_EQ(tail_of_file(log, 100), "hello world");
  EXPECT_EQ(tail_of_file(log, 0), "");
  EXPECT_EQ(tail_of_file(dir_ / "missing", 10), "");
  std::ofstream(log, std::ios::binary) << "a\xC3\xA9z";  // "aéz": a cut é is dropped
  EXPECT_EQ(tail_of_file(log, 2), "z");
  EXPECT_EQ(tail_of_file(log, 3), "\xC3\xA9z");
}

}  // namespace
}  // namespace smtpsim::harness
