#pragma once
// Terminal output of `smtpsim run`: progress while cases run, then a summary.

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "reports/run_result.hpp"

namespace smtpsim::reports {

// stdout_is_terminal is true when standard output is a terminal (isatty), i.e. when a live
// progress line can be redrawn in place.
bool stdout_is_terminal();

// running_under_ci is true when the CI environment variable is set to something other than ""
// "0" or "false", as GitHub, GitLab, Azure (via TF_BUILD too) and most CI services set it. CI
// logs keep every byte, so they should get plain output even where stdout is a pseudo-terminal.
bool running_under_ci();

// terminal_columns is the width of the terminal on standard output, else $COLUMNS, else 80.
std::size_t terminal_columns();

// progress_printer reports cases as they finish. Live mode (for a terminal: the caller passes
// stdout_is_terminal() && !running_under_ci()) keeps one progress line at the bottom,
// rewritten in place with "\r" and an erase-to-end-of-line sequence, and prints every non-PASS
// result as a permanent, coloured line above it. Plain mode (logs, pipes, CI) prints exactly
// one line per finished case and no escape sequences:
//   PASS  starttls.ready-220  (0.21 s)
//   FAIL  starttls.rset-pipelined  (1.50 s)  server executed RSET sent before the TLS handshake
// Every method may be called from any thread; a mutex keeps lines whole.
class progress_printer {
 public:
  // progress_printer writes to `out`, which must outlive it. `columns` bounds the live line, so
  // that it never wraps (a wrapped line cannot be redrawn with "\r").
  progress_printer(std::ostream& out, bool live, std::size_t columns = 80);

  // start resets the counters for a run of `total_cases` cases. With more than one target, the
  // lines name each case's target too, since case ids repeat across targets.
  void start(std::size_t total_cases, std::size_t total_targets = 1);
  void case_started(std::string_view case_id);
  void case_finished(const case_result& result);
  // finish prints the totals, the FAIL/XPASS/ERROR/WARN cases with their reasons, the paths in
  // `reports` as where the reports were written, and the outcome with the exit code.
  void finish(const run_result& run, const std::vector<std::filesystem::path>& reports = {});

 private:
  std::string case_line(const case_result& result) const;
  // verdict_label is the verdict's name, coloured in live mode, padded to 5 columns if `pad`.
  std::string verdict_label(script::verdict v, bool pad = true) const;
  void draw_progress();
  void clear_progress();

  std::mutex mutex_;
  std::ostream& out_;
  bool live_;
  bool colour_;
  std::size_t columns_;
  std::size_t total_ = 0;
  std::size_t targets_ = 1;
  std::size_t running_ = 0;
  std::size_t done_ = 0;
  verdict_counts counts_;
  std::string last_;
};

}  // namespace smtpsim::reports
