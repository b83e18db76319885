#pragma once
// reference_target runs the built-in reference server in-process (optionally with faults) and
// describes it as a server_target: every listener of reference::default_listeners(), a sink
// fed by the server's deliveries, credentials, and the test PKI's CA as trust anchor. It is
// what `smtpsim run` tests when no --target is given.

#include <memory>
#include <string>

#include "simulator/reference/fault.hpp"
#include "simulator/tls/pki.hpp"

#include "harness/mailbox.hpp"
#include "harness/target.hpp"

namespace smtpsim::reference {
class reference_server;
}  // namespace smtpsim::reference

namespace smtpsim::harness {

class reference_target {
 public:
  explicit reference_target(reference::fault_set faults = {});
  ~reference_target();
  reference_target(const reference_target&) = delete;
  reference_target& operator=(const reference_target&) = delete;

  // start generates the PKI and starts the server on free loopback ports.
  void start();
  void stop();

  // target describes the running server (call after start()).
  const server_target& target() const { return target_; }
  mailbox& sink() { return sink_; }
  const tls::test_pki& pki() const { return pki_; }

 private:
  reference::fault_set faults_;
  tls::test_pki pki_;
  mailbox sink_;
  server_target target_;
  std::unique_ptr<reference::reference_server> server_;
};

// reference_target_name is "reference", plus "+fault,fault" when faults are set.
std::string reference_target_name(const reference::fault_set& faults);

}  // namespace smtpsim::harness
