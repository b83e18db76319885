#pragma once
// started_target runs the life cycle of a server target that the harness starts itself
// (docs/targets.md, "Server targets"): free loopback ports for the listeners that have none,
// the test PKI written to {pki_dir}, a private empty {instance_dir}, the capture sink on
// {sink_port}, the setup command, a readiness wait until every listener accepts a TCP
// connection, and at the end the teardown, which runs whenever the setup was started: after the
// cases, after a failed setup or readiness wait, after an interrupt, and from the destructor
// when the run ends with an exception.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/mailbox.hpp"
#include "harness/target.hpp"

namespace smtpsim::tls {
struct test_pki;
}  // namespace smtpsim::tls

namespace smtpsim::harness {

class capture_sink;

class started_target {
 public:
  // `work_dir` is this target's folder in the run's output (instance/, pki/, setup.out ...);
  // `pki` is written to work_dir/pki and must outlive this object.
  started_target(server_target& target, std::filesystem::path work_dir,
                 std::filesystem::path source_dir, const tls::test_pki& pki);
  ~started_target();  // stop()
  started_target(const started_target&) = delete;
  started_target& operator=(const started_target&) = delete;

  // start prepares and starts the target; on return the target's listeners carry their real
  // ports. Returns "" when every listener accepts connections, else why not (the caller makes
  // every case an ERROR with it; stop() must still be called, and is by the destructor).
  // `interrupted` is polled while waiting; when it returns true the wait ends at once.
  std::string start(const std::function<bool()>& interrupted);

  // stop runs the teardown (once, if the setup was started) and stops the sink. Returns "" or
  // a warning (teardown failed or timed out). Idempotent.
  std::string stop();

  mailbox& sink() { return box_; }
  bool has_sink() const { return sink_ != nullptr; }
  const std::filesystem::path& work_dir() const { return work_dir_; }
  // values are the placeholder values (after start()).
  const server_placeholder_values& values() const { return values_; }

 private:
  std::string run_step(const std::vector<std::string>& argv, const char* what,
                       std::chrono::milliseconds limit, const std::function<bool()>& interrupted);

  server_target& target_;
  std::filesystem::path work_dir_;
  std::filesystem::path source_dir_;
  const tls::test_pki& pki_;
  mailbox box_;
  std::unique_ptr<capture_sink> sink_;
  server_placeholder_values values_;
  bool setup_started_ = false;
  bool stopped_ = false;
};

// started_target_dir_name is the target's folder name under <out>/targets/.
std::string started_target_dir_name(const server_target& t);

// allocate_loopback_ports returns `count` distinct free TCP ports on `host` (all bound at once,
// then released). Throws std::system_error.
std::vector<std::uint16_t> allocate_loopback_ports(const std::string& host, std::size_t count);

// wait_until_listening polls host:port with TCP connects until one succeeds or `limit` passes
// (or `interrupted` returns true). Returns "" on success, else the last connect error.
std::string wait_until_listening(const std::string& host, std::uint16_t port,
                                 std::chrono::steady_clock::time_point until,
                                 const std::function<bool()>& interrupted);

}  // namespace smtpsim::harness
