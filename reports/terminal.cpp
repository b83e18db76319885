#include "reports/terminal.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "reports/text_encoding.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace smtpsim::reports {

namespace {

using script::verdict;

constexpr std::string_view erase_line = "\r\x1b[K";  // CR, then ECMA-48 EL: erase to line end
constexpr std::string_view reset = "\x1b[0m";

std::string_view colour_of(verdict v) {
  switch (v) {
    case verdict::pass:
      return "\x1b[32m";  // green
    case verdict::fail:
    case verdict::xpass:
      return "\x1b[1;31m";  // bold red
    case verdict::error:
      return "\x1b[35m";  // magenta
    case verdict::warn:
      return "\x1b[33m";  // yellow
    case verdict::info:
    case verdict::skip:
    case verdict::xfail:
      return "\x1b[36m";  // cyan
  }
  return "";
}

// one_line keeps a reason on its line: a peer's text may hold CR, LF or escape sequences that
// would break the layout or drive the terminal.
std::string one_line(std::string_view text) {
  std::string out = to_valid_utf8(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20U || u == 0x7FU) {
      c = ' ';
    }
  }
  return out;
}

// fit cuts `line` to at most `width` bytes without splitting a UTF-8 sequence.
std::string fit(std::string line, std::size_t width) {
  if (line.size() <= width) {
    return line;
  }
  std::size_t end = width;
  while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0U) == 0x80U) {
    --end;
  }
  line.resize(end);
  return line;
}

std::string seconds(std::chrono::milliseconds ms) {
  return fmt::format("{:.2f} s", static_cast<double>(ms.count()) / 1000.0);
}

// needs_attention lists the verdicts finish() spells out: those that fail the run or may, and
// WARN, which --strict would turn into a failure.
bool needs_attention(verdict v) {
  return v == verdict::fail || v == verdict::xpass || v == verdict::error || v == verdict::warn;
}

}  // namespace

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

bool running_under_ci() {
  const char* ci = std::getenv("CI");  // NOLINT(concurrency-mt-unsafe): read once at start-up
  if (ci == nullptr) {
    return std::getenv("TF_BUILD") != nullptr;  // NOLINT(concurrency-mt-unsafe)
  }
  const std::string_view value(ci);
  return !value.empty() && value != "0" && value != "false";
}

std::size_t terminal_columns() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS")) {  // NOLINT(concurrency-mt-unsafe)
    const long n = std::strtol(columns, nullptr, 10);
    if (n > 0) {
      return static_cast<std::size_t>(n);
    }
  }
  return 80;
}

progress_printer::progress_printer(std::ostream& out, bool live, std::size_t columns)
    : out_(out), live_(live), colour_(live), columns_(std::max<std::size_t>(columns, 20)) {
  // Colour only where a person watches; a non-empty NO_COLOR turns it off there too
  // (no-color.org).
  const char* no_colour = std::getenv("NO_COLOR");  // NOLINT(concurrency-mt-unsafe)
  if (no_colour != nullptr && *no_colour != '\0') {
    colour_ = false;
  }
}

void progress_printer::start(std::size_t total_cases, std::size_t total_targets) {
  const std::lock_guard lock(mutex_);
  total_ = total_cases;
  targets_ = total_targets;
  running_ = 0;
  done_ = 0;
  counts_ = {};
  last_.clear();
  if (live_) {
    draw_progress();
  }
}

void progress_printer::case_started(std::string_view case_id) {
  const std::lock_guard lock(mutex_);
  ++running_;
  if (last_.empty()) {
    last_ = one_line(case_id);
  }
  if (live_) {
    draw_progress();
  }
}

void progress_printer::case_finished(const case_result& result) {
  const std::lock_guard lock(mutex_);
  if (running_ > 0) {
    --running_;
  }
  ++done_;
  counts_.add(result.outcome.final_verdict);
  last_ = one_line(result.case_id);
  if (!live_) {
    out_ << case_line(result) << '\n';
    out_.flush();
    return;
  }
  clear_progress();
  if (result.outcome.final_verdict != verdict::pass) {
    out_ << case_line(result) << '\n';
  }
  draw_progress();
}

void progress_printer::finish(const run_result& run,
                              const std::vector<std::filesystem::path>& reports) {
  const std::lock_guard lock(mutex_);
  if (live_) {
    clear_progress();
  }
  const verdict_counts c = run.counts();
  std::string totals;
  for (const verdict v : all_verdicts) {
    if (c.count(v) > 0 || v == verdict::pass) {
      totals +=
          fmt::format("{}{} {}", totals.empty() ? "" : "  ", verdict_label(v, false), c.count(v));
    }
  }
  out_ << fmt::format("{} case{} in {:.1f} s: {}\n", c.total(), c.total() == 1 ? "" : "s",
                      run.duration_seconds, totals);
  if (run.interrupted) {
    out_ << fmt::format("Interrupted: {} of {} cases finished.\n", c.total(), total_);
  }

  std::vector<const case_result*> attention;
  for (const auto& r : run.cases) {
    if (needs_attention(r.outcome.final_verdict)) {
      attention.push_back(&r);
    }
  }
  std::stable_sort(attention.begin(), attention.end(), [](const auto* a, const auto* b) {
    return script::severity(a->outcome.final_verdict) > script::severity(b->outcome.final_verdict);
  });
  if (!attention.empty()) {
    out_ << "\nNot passed:\n";
    for (const auto* r : attention) {
      const std::string target = targets_ > 1 || run.targets.size() > 1
                                     ? fmt::format(" [{}]", one_line(r->target))
                                     : std::string();
      out_ << fmt::format("  {} {}{}: {}\n", verdict_label(r->outcome.final_verdict),
                          one_line(r->case_id), target, one_line(r->outcome.reason));
    }
    if (run.strict && c.warn > 0) {
      out_ << "  (--strict: WARN counts as FAIL)\n";
    }
  }

  if (!reports.empty()) {
    out_ << "\nReports:\n";
    for (const auto& path : reports) {
      out_ << "  " << one_line(path.string()) << '\n';
    }
  }
  out_.flush();
}

std::string progress_printer::verdict_label(verdict v, bool pad) const {
  // Padding goes outside the colour codes so that columns line up in both modes.
  const std::string_view name = script::to_string(v);
  const std::string padding(pad && name.size() < 5 ? 5 - name.size() : 0, ' ');
  if (!colour_) {
    return fmt::format("{}{}", name, padding);
  }
  return fmt::format("{}{}{}{}", colour_of(v), name, reset, padding);
}

std::string progress_printer::case_line(const case_result& result) const {
  const auto& o = result.outcome;
  std::string line = fmt::format("{} {}", verdict_label(o.final_verdict), one_line(result.case_id));
  if (targets_ > 1) {
    line += fmt::format(" [{}]", one_line(result.target));
  }
  line += fmt::format("  ({})", seconds(o.duration));
  if (o.final_verdict != verdict::pass && !o.reason.empty()) {
    line += "  " + one_line(o.reason);
  }
  return line;
}

void progress_printer::draw_progress() {
  const std::size_t width = std::to_string(total_).size();
  std::string line = fmt::format("[{:>{}}/{}] {} running", done_, std::max<std::size_t>(width, 3),
                                 total_, running_);
  for (const verdict v : all_verdicts) {
    if (counts_.count(v) > 0 || v == verdict::pass) {
      line += fmt::format("  {} {}", script::to_string(v), counts_.count(v));
    }
  }
  if (!last_.empty()) {
    line += "  last: " + last_;
  }
  // One column short of the width: some terminals wrap when the last column is written.
  out_ << erase_line << fit(std::move(line), columns_ - 1);
  out_.flush();
}

void progress_printer::clear_progress() { out_ << erase_line; }

}  // namespace smtpsim::reports
