#pragma once
// loopback plays a client_runner against reference::server_sessions in memory: no sockets, a
// virtual clock (silence windows cost nothing), TLS simulated as a state flip on both sides.
// It lets tests run the whole suite against the reference server and every fault variant in
// milliseconds, and inject an I/O failure at any step of any case.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "simulator/reference/fault.hpp"
#include "simulator/reference/server_session.hpp"
#include "simulator/script/client_runner.hpp"

namespace smtpsim::testing {

// injected_failure replaces the result of the n-th action (0-based) of a case.
struct injected_failure {
  std::size_t action_index = 0;
  script::io_result::kind k = script::io_result::kind::error;
};

class loopback {
 public:
  // loopback serves the reference server's default listeners with `faults`.
  explicit loopback(reference::fault_set faults = {});

  // target_view describes the loopback target (listeners, traits, vars) for a runner.
  script::target_view target_view(const std::string& case_token = "loopback-token") const;

  // set_fuzz_corpus gives fuzz steps their seed lines (harness::fuzz_corpus), as a run does.
  void set_fuzz_corpus(std::shared_ptr<const std::vector<std::string>> corpus) {
    corpus_ = std::move(corpus);
  }

  // run plays one case to its end (its ${case_token} is "loopback-token-N" for the N-th run)
  // and returns the outcome; `actions` (if given) receives the
  // number of actions the runner asked for.
  script::case_outcome run(const script::scenario_case& c,
                           std::optional<injected_failure> inject = std::nullopt,
                           std::size_t* actions = nullptr);

 private:
  std::map<std::string, reference::session_config> listeners_;
  std::vector<std::string> delivered_;
  std::shared_ptr<const std::vector<std::string>> corpus_;
  std::size_t runs_ = 0;  // makes each case's ${case_token} unique, as a real run does
};

}  // namespace smtpsim::testing
