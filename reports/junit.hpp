#pragma once
// JUnit XML for CI test reporters (Jenkins, GitLab, GitHub, Azure). The subset we write is
// described by reports/schema/junit.xsd.

#include <filesystem>
#include <ostream>

#include "reports/run_result.hpp"

namespace smtpsim::reports {

// write_junit writes `run` as one <testsuites> with one <testsuite> per target. Each case is a
// <testcase classname="smtpsim.<target>.<group>" name="<case_id>">, where group is the case id
// up to its first '.'. FAIL and XPASS become <failure>, ERROR <error>, SKIP <skipped>; WARN
// passes unless run.strict, then it is a <failure type="WARN">; INFO and XFAIL pass. Every
// testcase carries <properties> (verdict, level, references, ...) and the rendered transcript
// in <system-out>. Text is escaped, and characters XML 1.0 forbids (NUL, most C0 controls,
// broken UTF-8) are written as "\xHH" so the document always parses.
void write_junit(const run_result& run, std::ostream& out);

// write_junit writes the same document to `path` atomically. Throws std::runtime_error naming
// `path` if it cannot.
void write_junit(const run_result& run, const std::filesystem::path& path);

}  // namespace smtpsim::reports
