#include "reports/junit.hpp"

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "reports/atomic_file.hpp"
#include "reports/text_encoding.hpp"

namespace smtpsim::reports {

namespace {

using script::verdict;

// xml_escape makes `text` safe as XML 1.0 character data or (with `attribute`) as a
// double-quoted attribute value. XML 1.0 §2.2 forbids most C0 controls, U+FFFE and U+FFFF even
// as character references, and the document is UTF-8, so such characters and broken UTF-8 are
// written as visible "\xHH" escapes, as render_transcript does. CR is written as a reference
// because parsers turn a literal CR LF into LF (§2.11); TAB and LF in attributes likewise,
// because attribute-value normalisation turns them into spaces (§3.3.3).
std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const std::size_t n = decode_utf8(text, pos, cp);
    const bool illegal = n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
                         cp == 0xFFFE || cp == 0xFFFF;
    if (illegal) {
      const std::size_t len = n == 0 ? 1 : n;
      for (std::size_t i = 0; i < len; ++i) {
        out += fmt::format("\\x{:02X}", static_cast<unsigned char>(text[pos + i]));
      }
      pos += len;
      continue;
    }
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";  // so that "]]>" never appears in character data
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out.append(text.substr(pos, n));
    }
    pos += n;
  }
  return out;
}

std::string attr(std::string_view text) { return xml_escape(text, true); }
std::string body(std::string_view text) { return xml_escape(text, false); }

// seconds formats milliseconds as JUnit's decimal seconds. Integer arithmetic keeps the sums
// exact: the suite's time is the sum of its cases' times, digit for digit.
std::string seconds(std::int64_t ms) {
  if (ms < 0) {
    ms = 0;
  }
  return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

// group_of is the case id up to its first '.' ("starttls.ready-220" -> "starttls"), so
// reporters that split classname on dots group cases by catalogue section.
std::string_view group_of(std::string_view case_id) {
  const std::size_t dot = case_id.find('.');
  if (dot != std::string_view::npos) {
    return case_id.substr(0, dot);
  }
  return case_id.substr(0, case_id.find('/'));
}

enum class junit_status { passed, failure, error, skipped };

junit_status status_of(verdict v, bool strict) {
  switch (v) {
    case verdict::fail:
    case verdict::xpass:
      return junit_status::failure;
    case verdict::warn:
      return strict ? junit_status::failure : junit_status::passed;
    case verdict::error:
      return junit_status::error;
    case verdict::skip:
      return junit_status::skipped;
    case verdict::pass:
    case verdict::info:
    case verdict::xfail:
      return junit_status::passed;
  }
  return junit_status::error;
}

struct counts {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  std::int64_t time_ms = 0;

  void add(const case_result& r, bool strict) {
    ++tests;
    time_ms += r.outcome.duration.count() > 0 ? r.outcome.duration.count() : 0;
    switch (status_of(r.outcome.final_verdict, strict)) {
      case junit_status::failure:
        ++failures;
        break;
      case junit_status::error:
        ++errors;
        break;
      case junit_status::skipped:
        ++skipped;
        break;
      case junit_status::passed:
        break;
    }
  }

  std::string attributes() const {
    return fmt::format(R"(tests="{}" failures="{}" errors="{}" skipped="{}" time="{}")", tests,
                       failures, errors, skipped, seconds(time_ms));
  }
};

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

// deciding_judgment is the judgment that set the case's verdict: the first with that verdict,
// else the most severe one (an XFAIL case's judgments say FAIL), or null when there is none.
const script::judgment* deciding_judgment(const script::case_outcome& o) {
  const script::judgment* worst = nullptr;
  for (const auto& g : o.judgments) {
    if (g.v == o.final_verdict) {
      return &g;
    }
    if (worst == nullptr || script::severity(g.v) > script::severity(worst->v)) {
      worst = &g;
    }
  }
  return worst;
}

// evidence is the body of <failure>/<error>: what was expected, what was seen, the reference
// and the transcript around the deciding step.
std::string evidence(const case_result& r) {
  const auto& o = r.outcome;
  std::string out = fmt::format("{}: {}\n", script::to_string(o.final_verdict), o.reason);
  out += fmt::format("level: {}\n", r.level);
  if (!r.references.empty()) {
    out += fmt::format("reference: {}\n", join(r.references, ", "));
  }
  if (!r.file.empty()) {
    out += fmt::format("scenario: {}\n", r.file);
  }
  for (const auto& g : o.judgments) {
    if (g.v == verdict::pass) {
      continue;
    }
    if (r.synthetic) {  // a validator's result: one judgment per offending case
      out +=
          fmt::format("\n{}: {}\n  observed: {}\n", script::to_string(g.v), g.reason, g.observed);
      continue;
    }
    out += fmt::format("\nstep {} ({}): {}: {}\n", g.step, g.step_pointer, script::to_string(g.v),
                       g.reason);
    out += fmt::format("  expected: {}\n", g.expected);
    out += fmt::format("  observed: {}\n", g.observed);
  }
  const script::judgment* g = deciding_judgment(o);
  if (g != nullptr && g->transcript_to > g->transcript_from) {
    out += fmt::format("\ntranscript excerpt (entries {} to {}):\n", g->transcript_from,
                       g->transcript_to - 1);
    out += script::render_transcript(o.log, r.we_played_client(), g->transcript_from,
                                     g->transcript_to - g->transcript_from);
  }
  return out;
}

void write_property(std::ostream& out, std::string_view indent, std::string_view name,
                    std::string_view value) {
  out << indent << "<property name=\"" << attr(name) << "\" value=\"" << attr(value) << "\"/>\n";
}

void write_testcase(std::ostream& out, const case_result& r, bool strict) {
  const auto& o = r.outcome;
  const std::string_view v = script::to_string(o.final_verdict);
  out << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">\n",
                     attr(fmt::format("smtpsim.{}.{}", r.target, group_of(r.case_id))),
                     attr(r.case_id), seconds(o.duration.count()));
  out << "      <properties>\n";
  constexpr std::string_view indent = "        ";
  write_property(out, indent, "verdict", v);
  write_property(out, indent, "level", r.level);
  write_property(out, indent, "references", join(r.references, ", "));
  write_property(out, indent, "title", r.title);
  write_property(out, indent, "role", r.role);
  write_property(out, indent, "tags", join(r.tags, ", "));
  write_property(out, indent, "scenario_file", r.file);
  out << "      </properties>\n";
  switch (status_of(o.final_verdict, strict)) {
    case junit_status::failure:
      out << fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", attr(o.reason),
                         v, body(evidence(r)));
      break;
    case junit_status::error:
      out << fmt::format("      <error message=\"{}\" type=\"{}\">{}</error>\n", attr(o.reason), v,
                         body(evidence(r)));
      break;
    case junit_status::skipped:
      out << fmt::format("      <skipped message=\"{}\"/>\n", attr(o.reason));
      break;
    case junit_status::passed:
      break;
  }
  // Reporters show system-out next to the test, so a passing WARN/INFO/XFAIL still tells its
  // verdict there.
  std::string system_out = fmt::format("smtpsim verdict: {}\n", v);
  if (!o.reason.empty()) {
    system_out += fmt::format("reason: {}\n", o.reason);
  }
  for (const auto& f : o.validated.findings) {
    system_out += fmt::format("validator finding: {} {} at transcript entry {} offset {}: {}\n",
                              f.validator, script::to_string(f.v), f.entry, f.offset, f.reason);
  }
  system_out += "\n";
  system_out += script::render_transcript(o.log, r.we_played_client());
  out << "      <system-out>" << body(system_out) << "</system-out>\n";
  out << "    </testcase>\n";
}

const target_info* find_target(const run_result& run, const std::string& name) {
  for (const auto& t : run.targets) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

}  // namespace

void write_junit(const run_result& run, std::ostream& out) {
  const std::vector<std::string> names = run.target_names();
  std::vector<counts> per_target(names.size());
  counts all;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (const auto& r : run.cases) {
      if (r.target == names[i]) {
        per_target[i].add(r, run.strict);
        all.add(r, run.strict);
      }
    }
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"smtpsim\" {}>\n", all.attributes());
  for (std::size_t i = 0; i < names.size(); ++i) {
    out << fmt::format("  <testsuite name=\"{}\" {}", attr(names[i]), per_target[i].attributes());
    if (!run.started_at.empty()) {
      out << fmt::format(" timestamp=\"{}\"", attr(run.started_at));
    }
    out << ">\n";
    out << "    <properties>\n";
    constexpr std::string_view indent = "      ";
    write_property(out, indent, "smtpsim.version", run.tool_version);
    write_property(out, indent, "smtpsim.schema_version", run.schema_version);
    write_property(out, indent, "smtpsim.command_line", join(run.command_line, " "));
    write_property(out, indent, "smtpsim.strict", run.strict ? "true" : "false");
    if (const target_info* t = find_target(run, names[i])) {
      write_property(out, indent, "target.kind", t->kind);
      write_property(out, indent, "target.description", t->description);
      for (const auto& [listener, url] : t->listeners) {
        write_property(out, indent, fmt::format("target.listener.{}", listener), url);
      }
    }
    out << "    </properties>\n";
    for (const auto& r : run.cases) {
      if (r.target == names[i]) {
        write_testcase(out, r, run.strict);
      }
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

void write_junit(const run_result& run, const std::filesystem::path& path) {
  std::ostringstream text;
  write_junit(run, text);
  write_file_atomically(path, text.str());
}

}  // namespace smtpsim::reports
