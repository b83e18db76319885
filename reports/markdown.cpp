#include "reports/markdown.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "reports/text_encoding.hpp"

namespace smtpsim::reports {

namespace {

using script::verdict;

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += separator;
    }
    out += item;
  }
  return out;
}

// headline says in one line what a reader of the CI page needs first: did the run conform. It
// follows the exit code (architecture.md "Verdicts and exit codes"), which the harness decided.
std::string headline(const run_result& run, const verdict_counts& c) {
  std::string_view status;
  if (run.interrupted) {
    status = "interrupted";
  } else {
    switch (run.exit_code) {
      case 0:
        status = "conformant";
        break;
      case 1:
        status = "not conformant";
        break;
      case 3:
        status = "inconclusive";
        break;
      default:
        status = "not completed";
    }
  }
  return fmt::format("## smtpsim: {} ({} case{}, exit code {})\n", status, c.total(),
                     c.total() == 1 ? "" : "s", run.exit_code);
}

}  // namespace

namespace {

// write_findings lists the cross-cutting validators' findings per case (the validators' own
// results, in the table below, only name the cases).
void write_findings(const run_result& run, std::ostream& out, const markdown_options& options) {
  std::size_t total = 0;
  for (const auto& r : run.cases) {
    total += r.outcome.validated.findings.size();
  }
  if (total == 0) {
    return;
  }
  out << "### Validator findings\n\n";
  out << "| Validator | Case | Target | Entry | Finding |\n|---|---|---|---:|---|\n";
  std::size_t shown = 0;
  for (const auto& r : run.cases) {
    for (const auto& f : r.outcome.validated.findings) {
      if (shown == options.max_case_rows) {
        break;
      }
      ++shown;
      out << fmt::format("| {} | {} | {} | {}+{} | {} |\n", markdown_cell(f.validator),
                         markdown_cell(r.case_id), markdown_cell(r.target), f.entry, f.offset,
                         markdown_cell(f.reason));
    }
  }
  if (shown < total) {
    out << fmt::format("\n… and {} more; the run JSON lists every finding.\n", total - shown);
  }
  out << "\n";
}

}  // namespace

std::string markdown_cell(std::string_view text) {
  const std::string valid = to_valid_utf8(text);
  std::string out;
  out.reserve(valid.size() + 8);
  for (const char ch : valid) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n' || c == '\t') {
      out += ' ';
    } else if (c < 0x20U || c == 0x7FU) {
      out += "\xEF\xBF\xBD";  // U+FFFD: a control character has no place in a table cell
    } else if (std::string_view("\\`*_[]<>|~&").find(ch) != std::string_view::npos) {
      // CommonMark lets a backslash escape any ASCII punctuation; GFM tables also need '|'
      // escaped, and '<' / '&' would otherwise start HTML or an entity.
      out += '\\';
      out += ch;
    } else {
      out += ch;
    }
  }
  return out;
}

void write_markdown(const run_result& run, std::ostream& out, const markdown_options& options) {
  const verdict_counts total = run.counts();
  out << headline(run, total) << "\n";

  std::vector<std::string> parts;
  for (const verdict v : all_verdicts) {
    if (total.count(v) > 0 || v == verdict::pass || v == verdict::fail) {
      parts.push_back(fmt::format("**{}** {}", script::to_string(v), total.count(v)));
    }
  }
  out << join(parts, " · ") << "\n\n";
  if (run.strict) {
    out << "Strict mode: WARN counts as a failure.\n\n";
  }

  out << "| Target |";
  for (const verdict v : all_verdicts) {
    out << ' ' << script::to_string(v) << " |";
  }
  out << " Total |\n|---|";
  for (std::size_t i = 0; i < std::size(all_verdicts); ++i) {
    out << "---:|";
  }
  out << "---:|\n";
  for (const auto& name : run.target_names()) {
    const verdict_counts c = run.counts_for_target(name);
    out << "| " << markdown_cell(name) << " |";
    for (const verdict v : all_verdicts) {
      out << ' ' << c.count(v) << " |";
    }
    out << ' ' << c.total() << " |\n";
  }
  out << "\n";

  std::vector<const case_result*> not_passed;
  for (const auto& r : run.cases) {
    if (r.outcome.final_verdict != verdict::pass) {
      not_passed.push_back(&r);
    }
  }
  if (not_passed.empty()) {
    out << "All cases passed.\n";
    return;
  }
  write_findings(run, out, options);
  // Worst first; stable so that equal verdicts keep the run's deterministic order.
  std::stable_sort(not_passed.begin(), not_passed.end(), [](const auto* a, const auto* b) {
    return script::severity(a->outcome.final_verdict) > script::severity(b->outcome.final_verdict);
  });
  out << "### Cases that did not pass\n\n";
  out << "| Verdict | Case | Target | Reason | Reference |\n|---|---|---|---|---|\n";
  const std::size_t shown = std::min(not_passed.size(), options.max_case_rows);
  for (std::size_t i = 0; i < shown; ++i) {
    const case_result& r = *not_passed[i];
    out << fmt::format("| {} | {} | {} | {} | {} |\n", script::to_string(r.outcome.final_verdict),
                       markdown_cell(r.case_id), markdown_cell(r.target),
                       markdown_cell(r.outcome.reason), markdown_cell(join(r.references, ", ")));
  }
  if (shown < not_passed.size()) {
    out << fmt::format("\n… and {} more; the run JSON and JUnit XML list every case.\n",
                       not_passed.size() - shown);
  }
}

}  // namespace smtpsim::reports
