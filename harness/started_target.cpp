#include "harness/started_target.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "simulator/tls/pki.hpp"

#include "harness/capture_sink.hpp"
#include "harness/process.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace smtpsim::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// fd closes a descriptor when it goes out of scope.
class fd {
 public:
  explicit fd(int f = -1) : f_(f) {}
  ~fd() {
    if (f_ >= 0) {
      ::close(f_);
    }
  }
  fd(const fd&) = delete;
  fd& operator=(const fd&) = delete;
  fd(fd&& o) noexcept : f_(o.f_) { o.f_ = -1; }
  fd& operator=(fd&&) = delete;
  int get() const { return f_; }

 private:
  int f_;
};

struct resolved {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

resolved resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    throw std::system_error(std::make_error_code(std::errc::address_not_available),
                            fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  }
  resolved r;
  std::memcpy(&r.addr, res->ai_addr, res->ai_addrlen);
  r.len = res->ai_addrlen;
  r.family = res->ai_family;
  ::freeaddrinfo(res);
  return r;
}

std::uint16_t port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&a)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
}

// try_connect makes one TCP connect with a short bound; "" on success, else why not.
std::string try_connect(const resolved& r, std::chrono::milliseconds bound) {
  const fd s(::socket(r.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.get() < 0) {
    return std::strerror(errno);
  }
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&r.addr), r.len) == 0) {
    return std::string();
  }
  if (errno != EINPROGRESS) {
    return std::strerror(errno);
  }
  pollfd p{s.get(), POLLOUT, 0};
  const int n = ::poll(&p, 1, static_cast<int>(bound.count()));
  if (n <= 0) {
    return n == 0 ? "connect timed out" : std::strerror(errno);
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? std::string() : std::strerror(err);
}

std::string safe_name(std::string_view id) {
  std::string out;
  for (char c : id) {
    out += (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-') ? c : '_';
  }
  return out;
}

}  // namespace

std::vector<std::uint16_t> allocate_loopback_ports(const std::string& host, std::size_t count) {
  std::vector<fd> held;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < count; ++i) {
    resolved r = resolve(host, 0);
    fd s(::socket(r.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0 || ::bind(s.get(), reinterpret_cast<const sockaddr*>(&r.addr), r.len) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&r.addr), &r.len) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              fmt::format("cannot allocate a free port on {}", host));
    }
    ports.push_back(port_of(r.addr));
    held.push_back(std::move(s));
  }
  return ports;
}

std::string wait_until_listening(const std::string& host, std::uint16_t port,
                                 std::chrono::steady_clock::time_point until,
                                 const std::function<bool()>& interrupted) {
  resolved r;
  try {
    r = resolve(host, port);
  } catch (const std::system_error& e) {
    return e.what();
  }
  std::string why;
  for (;;) {
    why = try_connect(r, 500ms);
    if (why.empty()) {
      return why;
    }
    if (std::chrono::steady_clock::now() >= until) {
      return why;
    }
    if (interrupted && interrupted()) {
      return "the run was interrupted";
    }
    std::this_thread::sleep_for(50ms);
  }
}

started_target::started_target(server_target& target, fs::path work_dir, fs::path source_dir,
                               const tls::test_pki& pki)
    : target_(target),
      work_dir_(std::move(work_dir)),
      source_dir_(std::move(source_dir)),
      pki_(pki) {}

started_target::~started_target() { stop(); }

std::string started_target::run_step(const std::vector<std::string>& argv, const char* what,
                                     std::chrono::milliseconds limit,
                                     const std::function<bool()>& interrupted) {
  const fs::path log = work_dir_ / fmt::format("{}.out", what);
  std::vector<std::string> filled;
  try {
    filled = fill_server_placeholders(argv, values_);
  } catch (const std::invalid_argument& e) {
    return fmt::format("{}: {}", what, e.what());
  }
  child_process child;
  try {
    child = child_process::spawn(
        process_spec{.argv = filled, .cwd = work_dir_, .stdout_file = log, .stderr_file = log});
  } catch (const std::exception& e) {
    return fmt::format("{} could not run: {}", what, e.what());
  }
  const auto until = std::chrono::steady_clock::now() + limit;
  std::optional<int> status;
  while (!(status = child.wait_for(50ms))) {
    if (interrupted && interrupted()) {
      child.kill_group();
      return fmt::format("{} was interrupted (log: {})", what, log.string());
    }
    if (std::chrono::steady_clock::now() >= until) {
      child.kill_group();
      return fmt::format("{} did not finish within {} ms (log: {}): {}", what, limit.count(),
                         log.string(), tail_of_file(log, 600));
    }
  }
  // What the command left running in its process group (daemons should leave it) is ended by
  // child's destructor.
  if (*status != 0) {
    return fmt::format("{} ({}) exited with status {}: {}", what, fmt::join(filled, " "), *status,
                       tail_of_file(log, 800));
  }
  return std::string();
}

std::string started_target::start(const std::function<bool()>& interrupted) {
  try {
    std::error_code ec;
    fs::create_directories(work_dir_);
    const fs::path instance = work_dir_ / "instance";
    fs::remove_all(instance, ec);
    fs::create_directories(instance);
    // Daemons of the target often run as their own user: let them reach their folder.
    fs::permissions(work_dir_, fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
    fs::permissions(instance, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    const fs::path pki_dir = work_dir_ / "pki";
    fs::remove_all(pki_dir, ec);
    tls::write_pki(pki_, pki_dir);
    values_.instance_dir = instance.string();
    values_.pki_dir = pki_dir.string();
    values_.source_dir = source_dir_.string();
    values_.run_dir = work_dir_.parent_path().parent_path().string();

    // Ports: one free port per listener without one; aliases share their owner's.
    std::vector<std::string> names(target_.allocated_ports.begin(), target_.allocated_ports.end());
    std::map<std::string, std::vector<std::string>> by_host;
    for (const auto& n : names) {
      by_host[target_.listeners.at(n).host].push_back(n);
    }
    for (const auto& [host, list] : by_host) {
      const auto ports = allocate_loopback_ports(host, list.size());
      for (std::size_t i = 0; i < list.size(); ++i) {
        target_.listeners.at(list[i]).port = ports[i];
      }
    }
    for (const auto& [name, owner] : target_.port_aliases) {
      target_.listeners.at(name).port = target_.listeners.at(owner).port;
    }
    for (auto& [name, ep] : target_.listeners) {
      values_.ports[name] = std::to_string(ep.port);
      const bool wrapper = target_.listener_urls[name].rfind("smtps://", 0) == 0;
      const std::string host =
          ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
      target_.listener_urls[name] =
          fmt::format("{}://{}:{}", wrapper ? "smtps" : "smtp", host, ep.port);
    }
    if (target_.sink) {
      sink_ = std::make_unique<capture_sink>(box_);
      sink_->start();
      values_.sink_port = std::to_string(sink_->port());
    }
  } catch (const std::exception& e) {
    return fmt::format("cannot prepare the target: {}", e.what());
  }
  if (target_.setup.empty()) {
    return std::string();
  }
  setup_started_ = true;
  if (std::string why = run_step(target_.setup, "setup", target_.setup_timeout, interrupted);
      !why.empty()) {
    return why;
  }
  const auto until = std::chrono::steady_clock::now() + target_.ready_timeout;
  for (const auto& [name, ep] : target_.listeners) {
    if (std::string why = wait_until_listening(ep.host, ep.port, until, interrupted);
        !why.empty()) {
      return fmt::format(
          "listener {} ({}) did not accept connections within {} ms of the end of "
          "setup: {}",
          name, target_.listener_urls[name], target_.ready_timeout.count(), why);
    }
  }
  return std::string();
}

std::string started_target::stop() {
  if (stopped_) {
    return std::string();
  }
  stopped_ = true;
  std::string why;
  if (setup_started_ && !target_.teardown.empty()) {
    why = run_step(target_.teardown, "teardown", target_.teardown_timeout, nullptr);
  }
  if (sink_) {
    sink_->stop();
  }
  return why;
}

std::string started_target_dir_name(const server_target& t) { return safe_name(t.name); }

}  // namespace smtpsim::harness
