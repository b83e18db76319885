#pragma once
// `smtpsim run` and `smtpsim play`: select cases, set up targets (the built-in reference server
// when none is given), run the cases concurrently on one Asio event loop, and write the reports.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "simulator/script/client_runner.hpp"

#include "reports/run_result.hpp"

namespace smtpsim::harness {

struct run_options {
  std::vector<std::string> targets;    // smtp:// / smtps:// URLs (one target) and target files
  std::filesystem::path scenario_dir;  // empty: default_scenario_dir()
  std::vector<std::string> tests;      // globs over case ids (and scenario ids); empty: all
  std::vector<std::string> skips;      // globs of cases to leave out
  unsigned jobs = 8;                   // cases in flight at once
  std::filesystem::path out_dir = "smtpsim-report";
  bool write_reports = true;
  bool strict = false;  // WARN counts as FAIL for the exit code (and in JUnit)
  script::timeouts limits;
  std::vector<std::string> vars;              // NAME=VALUE added to every target
  std::vector<std::string> traits;            // traits added to every target
  std::vector<std::string> reference_faults;  // faults of the built-in reference target
  std::optional<std::uint64_t> fuzz_seed;     // replaces the seed of every fuzz step
  bool live_progress = false;                 // rewrite one progress line (a terminal)
  std::vector<std::string> command_line;

  // Client targets (client-side checks: smtpsim plays the server). --client commands get
  // client_policy / client_wrapper / client_timeout / client_capabilities; target files with
  // "kind": "client" in `targets` carry their own.
  std::vector<std::string> clients;
  std::string client_policy = "may";
  bool client_wrapper = false;
  std::chrono::milliseconds client_timeout{20000};
  std::vector<std::string> client_capabilities;
  // self_exe is the smtpsim binary, whose `send` subcommand is the reference client. With no
  // target and no client at all, the reference client targets run when it is set.
  std::filesystem::path self_exe;
  std::vector<std::string> reference_client_faults;  // passed to every reference client
};

// run_suite runs the selected cases against every target and writes run.json, junit.xml and
// summary.md to out_dir (also when interrupted by SIGINT/SIGTERM: then with what finished).
// Returns the exit code (architecture.md): 0 conformant; 1 a FAIL or XPASS (or a WARN with
// strict); 3 inconclusive: an ERROR and no FAIL, nothing judged, or an interrupted run.
// Throws config_error for bad scenarios, targets or flags (exit 2).
int run_suite(const run_options& options, std::ostream& out, reports::run_result* result = nullptr);

// exit_code_for computes the exit code of a finished run.
int exit_code_for(const reports::run_result& run);

struct play_options {
  std::string case_id;  // a scenario id, or "<id>/<variant>"
  run_options run;      // targets, scenario_dir, limits, vars, traits, faults
};

// play_case runs one case and prints its transcript, judgments and verdict. Returns the exit
// code of that one-case run.
int play_case(const play_options& options, std::ostream& out);

}  // namespace smtpsim::harness
