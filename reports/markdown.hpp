#pragma once
// Markdown summary of a run for CI pages, e.g. GitHub's $GITHUB_STEP_SUMMARY or a GitLab merge
// request note.

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "reports/run_result.hpp"

namespace smtpsim::reports {

// markdown_options bounds the summary: GitHub rejects step summaries over 1 MiB, and a table of
// thousands of skipped cases helps nobody.
struct markdown_options {
  std::size_t max_case_rows = 200;  // rows of the non-passing table; the rest are counted
};

// write_markdown writes the totals per verdict, a table of targets x verdict counts, and a table
// of the cases that did not pass (verdict, case id, target, reason, references), worst verdict
// first. Cell text is escaped, so a '|' or '<' in a reason cannot break the table.
void write_markdown(const run_result& run, std::ostream& out, const markdown_options& options = {});

// markdown_cell escapes `text` for one GitHub-flavoured Markdown table cell: line breaks become
// spaces, characters Markdown would interpret ('|', '*', '_', '`', '<', ...) get a backslash, and
// control characters and broken UTF-8 are replaced.
std::string markdown_cell(std::string_view text);

}  // namespace smtpsim::reports
