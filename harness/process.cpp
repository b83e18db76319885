#include "harness/process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" {
extern char** environ;  // POSIX: declared by no header unless _GNU_SOURCE
}

namespace smtpsim::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How often the waits below look at the child: short enough that exited_at is precise to a few
// milliseconds, long enough to cost nothing.
constexpr auto poll_interval = 5ms;
// How long kill_group waits, after SIGKILL, for the rest of the group to disappear.
constexpr auto after_kill_bound = 1s;

std::string errno_text(int code) {
  return std::error_code(code, std::generic_category()).message();
}

[[noreturn]] void cannot_start(const std::string& program, const std::string& why) {
  throw std::runtime_error("cannot start '" + program + "': " + why);
}

// unique_fd closes a descriptor opened for the child once it has been spawned.
class unique_fd {
 public:
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// open_for_child opens a file close-on-exec, so concurrent spawns on other threads never
// inherit it; posix_spawn's dup2 onto 0/1/2 clears the flag in our child only.
unique_fd open_for_child(const std::string& program, const fs::path& file, int flags) {
  const int fd = ::open(file.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    cannot_start(program, "'" + file.string() + "': " + errno_text(err));
  }
  return unique_fd(fd);
}

unique_fd open_output(const std::string& program, const fs::path& file) {
  if (file.empty()) {
    return open_for_child(program, "/dev/null", O_WRONLY);
  }
  return open_for_child(program, file, O_WRONLY | O_CREAT | O_TRUNC);
}

bool is_executable_file(const fs::path& p) {
  struct stat sb {};
  return ::stat(p.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// why_not_executable explains, like execve would, why `p` cannot be run.
std::string why_not_executable(const fs::path& p) {
  struct stat sb {};
  if (::stat(p.c_str(), &sb) != 0) {
    return errno_text(errno);
  }
  if (!S_ISREG(sb.st_mode)) {
    return errno_text(EACCES) + " (not a regular file)";
  }
  return errno_text(EACCES);
}

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string key(entry.substr(0, entry.find('=')));
    if (extra.count(key) == 0) {
      env.emplace_back(entry);
    }
  }
  for (const auto& [key, value] : extra) {
    std::string entry = key;
    entry += '=';
    entry += value;
    env.push_back(std::move(entry));
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// spawn_attributes: the child gets its own process group (so kill_group reaches everything it
// forks), no blocked signals and default dispositions. The harness blocks signals in every
// thread (main.cpp) and may ignore SIGPIPE; a child inheriting that would ignore SIGTERM.
class spawn_attributes {
 public:
  spawn_attributes() {
    ::posix_spawnattr_init(&attr_);
    sigset_t none;
    sigset_t all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    ::posix_spawnattr_setpgroup(&attr_, 0);
    ::posix_spawnattr_setsigmask(&attr_, &none);
    ::posix_spawnattr_setsigdefault(&attr_, &all);
    ::posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  spawn_attributes(const spawn_attributes&) = delete;
  spawn_attributes& operator=(const spawn_attributes&) = delete;
  ~spawn_attributes() { ::posix_spawnattr_destroy(&attr_); }
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_{};
};

class spawn_file_actions {
 public:
  spawn_file_actions() { ::posix_spawn_file_actions_init(&actions_); }
  spawn_file_actions(const spawn_file_actions&) = delete;
  spawn_file_actions& operator=(const spawn_file_actions&) = delete;
  ~spawn_file_actions() { ::posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

// group_member_alive tells whether a process other than a zombie is in process group `pgid`.
// Zombies count as gone: an orphaned grandchild is the init process's to reap, and some init
// processes (in containers) never do.
bool group_member_alive(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) {
    return false;
  }
  std::error_code ec;
  fs::directory_iterator it("/proc", ec);
  if (ec) {
    return true;  // no /proc: kill() said the group exists
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      break;
    }
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream in(it->path() / "stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) {
      continue;  // ended meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    char state = '?';
    long ppid = 0;
    long pgrp = 0;
    std::istringstream fields(stat.substr(close + 1));
    if (!(fields >> state >> ppid >> pgrp)) {
      continue;
    }
    if (pgrp == pgid && state != 'Z' && state != 'X') {
      return true;
    }
  }
  return false;
}

}  // namespace

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(std::exchange(other.status_, std::nullopt)),
      killed_(std::exchange(other.killed_, false)),
      started_at_(other.started_at_),
      exited_at_(std::exchange(other.exited_at_, std::nullopt)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
    killed_ = std::exchange(other.killed_, false);
    started_at_ = other.started_at_;
    exited_at_ = std::exchange(other.exited_at_, std::nullopt);
  }
  return *this;
}

child_process::~child_process() { release(); }

void child_process::release() noexcept {
  try {
    if (pid_ > 0 && (!status_ || group_alive())) {
      kill_group();
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
  pid_ = -1;
}

child_process child_process::spawn(const process_spec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    throw std::runtime_error("cannot start a program: the command is empty");
  }
  const std::string& program = spec.argv[0];
  for (const auto& [key, value] : spec.env_extra) {
    if (key.empty() || key.find('=') != std::string::npos) {
      cannot_start(program, "bad environment variable name '" + key + "'");
    }
  }
  if (!spec.cwd.empty()) {
    struct stat sb {};
    if (::stat(spec.cwd.c_str(), &sb) != 0) {
      const int err = errno;
      cannot_start(program, "working folder '" + spec.cwd.string() + "': " + errno_text(err));
    }
    if (!S_ISDIR(sb.st_mode)) {
      cannot_start(program, "working folder '" + spec.cwd.string() + "': " + errno_text(ENOTDIR));
    }
  }

  // Resolve the program here, not in the child, so the error says what went wrong.
  fs::path resolved;
  if (program.find('/') != std::string::npos) {
    resolved = program;
    if (resolved.is_relative() && !spec.cwd.empty()) {
      resolved = spec.cwd / resolved;  // as exec after chdir(cwd) would see it
    }
    if (!is_executable_file(resolved)) {
      cannot_start(program, why_not_executable(resolved));
    }
  } else {
    const auto path_var = spec.env_extra.find("PATH");
    const char* own_path = std::getenv("PATH");
    auto found = path_var != spec.env_extra.end()
                     ? find_program_in(program, path_var->second)
                     : find_program_in(program, own_path != nullptr ? own_path : "/bin:/usr/bin");
    if (!found) {
      cannot_start(program, errno_text(ENOENT));
    }
    resolved = std::move(*found);
  }
  if (resolved.is_relative()) {
    resolved = fs::absolute(resolved);
  }

  const unique_fd in = open_for_child(program, "/dev/null", O_RDONLY);
  const unique_fd out = open_output(program, spec.stdout_file);
  const bool same_file = !spec.stdout_file.empty() && !spec.stderr_file.empty() &&
                         fs::absolute(spec.stdout_file).lexically_normal() ==
                             fs::absolute(spec.stderr_file).lexically_normal();
  const unique_fd err = same_file ? unique_fd(-1) : open_output(program, spec.stderr_file);

  spawn_file_actions actions;
  ::posix_spawn_file_actions_adddup2(actions.get(), in.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), out.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), same_file ? out.get() : err.get(),
                                     STDERR_FILENO);
  if (!spec.cwd.empty()) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), spec.cwd.c_str());
  }
  const spawn_attributes attributes;

  std::vector<std::string> argv = spec.argv;
  std::vector<std::string> env = child_environment(spec.env_extra);
  const std::vector<char*> argv_c = c_strings(argv);
  const std::vector<char*> env_c = c_strings(env);

  child_process child;
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, resolved.c_str(), actions.get(), attributes.get(),
                               argv_c.data(), env_c.data());
  if (rc != 0) {
    cannot_start(program, errno_text(rc));
  }
  child.pid_ = pid;
  child.started_at_ = clock::now();
  return child;
}

void child_process::reap(int wait_status) {
  if (WIFEXITED(wait_status)) {
    status_ = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status_ = 128 + WTERMSIG(wait_status);
  } else {
    status_ = -1;
  }
  exited_at_ = clock::now();
}

std::optional<int> child_process::poll() {
  if (pid_ <= 0 || status_) {
    return status_;
  }
  for (;;) {
    int wait_status = 0;
    const pid_t r = ::waitpid(pid_, &wait_status, WNOHANG);
    if (r == pid_) {
      reap(wait_status);
      break;
    }
    if (r == 0) {
      break;
    }
    if (errno != EINTR) {
      // ECHILD: reaped elsewhere (SIGCHLD set to SIG_IGN). It has ended; its status is lost.
      status_ = -1;
      exited_at_ = clock::now();
      break;
    }
  }
  return status_;
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  std::chrono::nanoseconds step = 500us;
  while (!poll()) {
    const auto now = clock::now();
    if (now >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(step, deadline - now));
    step = std::min<std::chrono::nanoseconds>(step * 2, poll_interval);
  }
  return status_;
}

bool child_process::group_alive() const { return pid_ > 0 && group_member_alive(pid_); }

void child_process::kill_group(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return;
  }
  poll();
  if (status_ && !group_alive()) {
    return;
  }
  if (!status_) {
    killed_ = true;
  }
  ::kill(-pid_, SIGTERM);
  ::kill(-pid_, SIGCONT);  // a stopped process acts on SIGTERM only once continued
  const auto deadline = clock::now() + grace;
  while (clock::now() < deadline) {
    poll();
    if (status_ && !group_alive()) {
      return;
    }
    std::this_thread::sleep_for(poll_interval);
  }
  ::kill(-pid_, SIGKILL);
  while (!status_) {
    int wait_status = 0;
    const pid_t r = ::waitpid(pid_, &wait_status, 0);  // SIGKILL cannot be refused
    if (r == pid_) {
      reap(wait_status);
    } else if (r < 0 && errno != EINTR) {
      status_ = -1;
      exited_at_ = clock::now();
    }
  }
  const auto gone_by = clock::now() + after_kill_bound;
  while (group_alive() && clock::now() < gone_by) {
    std::this_thread::sleep_for(1ms);
  }
}

std::optional<fs::path> find_program_in(std::string_view name, std::string_view path_var) {
  if (name.empty()) {
    return std::nullopt;
  }
  if (name.find('/') != std::string_view::npos) {
    fs::path p(name);
    if (is_executable_file(p)) {
      return p;
    }
    return std::nullopt;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = path_var.find(':', start);
    std::string_view dir = path_var.substr(
        start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    if (dir.empty()) {
      dir = ".";  // POSIX: an empty PATH entry is the current folder
    }
    fs::path candidate = fs::path(dir) / name;
    if (is_executable_file(candidate)) {
      return candidate;
    }
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    start = colon + 1;
  }
}

std::optional<fs::path> find_program(std::string_view name) {
  const char* path = std::getenv("PATH");
  return find_program_in(name, path != nullptr ? path : "/bin:/usr/bin");
}

std::string tail_of_file(const fs::path& file, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return {};
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size <= 0 || max_bytes == 0) {
    return {};
  }
  const auto total = static_cast<std::size_t>(size);
  const std::size_t n = std::min(total, max_bytes);
  in.seekg(static_cast<std::streamoff>(total - n));
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (n < total) {
    // Drop the continuation bytes of a UTF-8 sequence cut at the start (at most 3).
    std::size_t skip = 0;
    while (skip < 3 && skip < text.size() &&
           (static_cast<unsigned char>(text[skip]) & 0xC0U) == 0x80U) {
      ++skip;
    }
    text.erase(0, skip);
  }
  return text;
}

}  // namespace smtpsim::harness
