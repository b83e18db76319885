#pragma once
// run_result: everything one `smtpsim run` produced. The run JSON is its serialization and the
// one source of truth; JUnit, Markdown and the terminal summary are derived from it.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "simulator/script/outcome.hpp"

namespace smtpsim::reports {

// schema_version of the run JSON (docs/run-json.md). Bump the minor for additions, the major for
// any rename or removal.
inline constexpr const char* run_schema_version = "1.0";

struct target_info {
  std::string name;         // "reference", "smtp://127.0.0.1:25", or the target file's name
  std::string kind;         // "reference" | "url" | "file"
  std::string description;
  std::map<std::string, std::string> listeners;  // listener name -> URL
};

struct case_result {
  std::string case_id;      // scenario id, plus "/variant" when the scenario has variants
  std::string scenario_id;
  std::string variant;      // "" when none
  std::string target;       // target_info::name
  std::string title;
  std::string level;        // "MUST", "SHOULD", ...
  std::string role;         // role of the implementation under test: "server" | "client"
  std::string file;         // scenario file, relative to the scenarios folder
  std::vector<std::string> references;
  std::vector<std::string> tags;
  std::string started_at;   // ISO 8601 UTC
  script::case_outcome outcome;
};

struct verdict_counts {
  std::size_t pass = 0, fail = 0, warn = 0, info = 0, skip = 0, error = 0, xfail = 0, xpass = 0;
  std::size_t total() const { return pass + fail + warn + info + skip + error + xfail + xpass; }
  void add(script::verdict v);
};

struct run_result {
  std::string schema_version = run_schema_version;
  std::string tool_version;
  std::vector<std::string> command_line;
  std::string started_at;
  std::string finished_at;
  double duration_seconds = 0;
  bool interrupted = false;  // the run was stopped (SIGINT/SIGTERM); cases holds what finished
  bool strict = false;       // WARN counted as FAIL
  std::vector<target_info> targets;
  std::vector<case_result> cases;
  int exit_code = 0;

  verdict_counts counts() const;
};

}  // namespace smtpsim::reports
