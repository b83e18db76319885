#pragma once
// run_result: everything one `smtpsim run` produced. The run JSON is its serialization and the
// one source of truth; JUnit, Markdown and the terminal summary are derived from it.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/script/outcome.hpp"

namespace smtpsim::reports {

// schema_version of the run JSON (docs/run-json.md). Bump the minor for additions, the major for
// any rename or removal.
inline constexpr const char* run_schema_version = "1.2";

struct target_info {
  std::string name;  // "reference", "smtp://127.0.0.1:25", or the target file's name
  std::string kind;  // "reference" | "url" | "file"
  std::string description;
  std::map<std::string, std::string> listeners;  // listener name -> URL
};

struct case_result {
  std::string case_id;  // scenario id, plus "/variant" when the scenario has variants
  std::string scenario_id;
  std::string variant;  // "" when none
  std::string target;   // target_info::name
  std::string title;
  std::string level;  // "MUST", "SHOULD", ...
  std::string role;   // role of the implementation under test: "server" | "client"
  std::string file;   // scenario file, relative to the scenarios folder
  std::vector<std::string> references;
  std::vector<std::string> tags;
  std::string started_at;  // ISO 8601 UTC
  script::case_outcome outcome;
  // synthetic is true for a result the run made from the cases' validator findings (one per
  // cross-cutting validator and server target, e.g. "a14.one-reply-per-command"): it has no
  // transcript, and its judgments name the offending cases.
  bool synthetic = false;

  // we_played_client is true when the implementation under test is a server, so smtpsim was the
  // client; render_transcript needs it to label "C>"/"S>".
  bool we_played_client() const { return role != "client"; }
};

struct verdict_counts {
  std::size_t pass = 0, fail = 0, warn = 0, info = 0, skip = 0, error = 0, xfail = 0, xpass = 0;
  std::size_t total() const { return pass + fail + warn + info + skip + error + xfail + xpass; }
  // add counts one case with verdict `v`.
  void add(script::verdict v);
  // count returns the number of cases with verdict `v`, so reports can loop over all verdicts.
  std::size_t count(script::verdict v) const;

  bool operator==(const verdict_counts&) const = default;
};

// all_verdicts lists every verdict in report order (the order of verdict_counts' fields), so
// tables and summaries show them the same way everywhere.
inline constexpr script::verdict all_verdicts[] = {
    script::verdict::pass, script::verdict::fail,  script::verdict::warn,  script::verdict::info,
    script::verdict::skip, script::verdict::error, script::verdict::xfail, script::verdict::xpass};

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

  // counts tallies the final verdicts of all cases.
  verdict_counts counts() const;
  // counts_for_target tallies the cases run against the target named `target`.
  verdict_counts counts_for_target(std::string_view target) const;
  // target_names lists the names of `targets` in order, then any target that only appears in
  // `cases` (in order of first appearance), so no case is left out of a per-target report.
  std::vector<std::string> target_names() const;
};

}  // namespace smtpsim::reports
