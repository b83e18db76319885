#pragma once
// One client-side case: start the fake server of the scenario on a free loopback port, run the
// client target's command against it with a deadline, accept the client's connections (it may
// reconnect) until it is done, kill it if it overstays, and judge what came over the wire. The
// client's exit status and output are evidence, not the verdict.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "simulator/script/outcome.hpp"
#include "simulator/script/scenario.hpp"

#include "harness/client_target.hpp"

namespace smtpsim::tls {
struct test_pki;
}  // namespace smtpsim::tls

namespace smtpsim::harness {

// client_run_env is what every client case of a run shares.
struct client_run_env {
  const tls::test_pki* pki = nullptr;  // the fake server's certificates
  std::filesystem::path run_dir;       // holds pki/ (ca.pem, client1.pem...) and cases/
  std::filesystem::path source_dir;    // {source_dir}
  std::string auth_user = "alice@client.test";
  std::string auth_password = "smtpsim-secret";
  std::string from = "sender@client.test";
  std::string to = "rcpt@mx.test";
  std::chrono::milliseconds exit_grace{2000};  // after the client exits, for its connections
  const std::atomic<bool>* stop = nullptr;     // set on SIGINT: kill the client, judge as is
};

// applicability returns why the case does not apply to the target ("" when it does): the
// scenario's policies, wrapper mode or required capabilities.
std::string applicability(const script::scenario& sc, const client_target& t);

// run_client_case runs one case. `token` is unique per case (the {token} placeholder).
script::case_outcome run_client_case(const script::scenario_case& c, const client_target& t,
                                     const client_run_env& env, const std::string& token);

// run_target_command runs a target's setup or teardown argv (run-wide placeholders filled in)
// with a deadline, output in <run_dir>/<target>-<what>.out. Returns "" on success, else why not.
std::string run_target_command(const client_target& t, const std::vector<std::string>& argv,
                               const client_run_env& env, const char* what,
                               std::chrono::milliseconds limit = std::chrono::seconds(120));

// reference_client_targets returns the built-in reference client (`<self_exe> send`) as one
// target per STARTTLS policy (none, may, encrypt, verify, secure) plus a wrapper-mode one,
// each with `faults` (client_fault names) passed through.
std::vector<client_target> reference_client_targets(const std::filesystem::path& self_exe,
                                                    const std::vector<std::string>& faults);

}  // namespace smtpsim::harness
