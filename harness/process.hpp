#pragma once
// Launching and policing a client program under test. The program runs without a shell, in its
// own process group, with stdin from /dev/null and stdout/stderr in files; kill_group() ends the
// whole group (the program and whatever it forked), so a case that times out leaves nothing
// behind.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace smtpsim::harness {

// process_spec describes one program start. argv[0] without a '/' is looked up in PATH (the PATH
// of env_extra if it sets one, else the harness's own); with a '/', a relative argv[0] is taken
// relative to cwd, as exec after chdir would. An empty cwd keeps the harness's working folder;
// env_extra is added to (and overrides) the harness's environment. An empty stdout_file or
// stderr_file means /dev/null; both may name the same file (then they share one offset, as
// `>f 2>&1` does).
// The members have default initializers so that designated initializers may leave any out.
struct process_spec {
  std::vector<std::string> argv{};
  std::filesystem::path cwd{};
  std::map<std::string, std::string> env_extra{};
  std::filesystem::path stdout_file{}, stderr_file{};
};

// child_process owns one started program: its process id is also its process group id. The
// destructor ends the group if anything in it is still running (kill_group()).
class child_process {
 public:
  using clock = std::chrono::steady_clock;

  child_process() = default;  // owns nothing
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  ~child_process();

  // spawn starts the program with posix_spawn. Throws std::runtime_error when it cannot start:
  // "cannot start 'swaks': No such file or directory" (also for an unreadable cwd or an output
  // file that cannot be created, naming that path).
  static child_process spawn(const process_spec& spec);

  // pid is the program's process id (and process group id); -1 when nothing is owned.
  pid_t pid() const { return pid_; }

  // poll reaps the program if it has exited, without blocking. It returns the exit status once
  // the program has exited (and on every later call): the exit code, or 128 + signal number
  // when a signal ended it (as shells report it); -1 if someone else reaped it (SIGCHLD
  // ignored). nullopt while it runs.
  std::optional<int> poll();

  // wait_for waits at most `timeout` for the program to exit; returns poll()'s status, or
  // nullopt if it still runs when the time is up.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

  // kill_group sends SIGTERM to the whole process group, waits up to `grace` for the group to
  // end, then sends SIGKILL, and reaps the program. Processes the program forked are ended too
  // unless they left the group (setsid); the init process reaps those. Does nothing when the
  // program has exited and nothing is left in its group.
  void kill_group(std::chrono::milliseconds grace = std::chrono::milliseconds(500));

  // killed is true when kill_group() signalled the program before it had exited by itself.
  bool killed() const { return killed_; }
  // status is the exit status once known (see poll()).
  std::optional<int> status() const { return status_; }
  bool running() const { return pid_ > 0 && !status_; }
  clock::time_point started_at() const { return started_at_; }
  // exited_at is when the harness saw the program end (reaped it).
  std::optional<clock::time_point> exited_at() const { return exited_at_; }

 private:
  void reap(int wait_status);
  bool group_alive() const;
  void release() noexcept;

  pid_t pid_ = -1;
  std::optional<int> status_;
  bool killed_ = false;
  clock::time_point started_at_{};
  std::optional<clock::time_point> exited_at_;
};

// find_program looks `name` up like execvp: a name with a '/' is checked as given; otherwise
// each folder of $PATH (an empty entry means the current folder). The result is an executable
// regular file, or nullopt.
std::optional<std::filesystem::path> find_program(std::string_view name);

// find_program_in does the same with an explicit PATH value.
std::optional<std::filesystem::path> find_program_in(std::string_view name,
                                                     std::string_view path_var);

// tail_of_file returns the last `max_bytes` bytes of a file (all of it if shorter), without a
// partial UTF-8 sequence at the start; "" when the file cannot be read. For evidence in reports.
std::string tail_of_file(const std::filesystem::path& file, std::size_t max_bytes);

}  // namespace smtpsim::harness
