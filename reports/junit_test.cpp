#include "reports/junit.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

using namespace std::chrono_literals;
using script::direction;
using script::verdict;
using testing::command_result;
using testing::run_command;
using testing::scratch_dir;
using testing::shell_quote;

constexpr std::string_view reference_suite = "/testsuites/testsuite[@name='reference']";

// JunitXml checks the output with xmllint (Debian's libxml2-utils): the XSD for structure and
// XPath for the numbers, so the tests read the XML as a CI reporter would, not as strings.
class JunitXml : public ::testing::Test {
 protected:
  void SetUp() override {
    const command_result probe = run_command("xmllint --version");
    if (probe.exit_code != 0) {
      FAIL() << "xmllint is missing. Install the Debian package libxml2-utils "
             << "(apt-get install libxml2-utils); CI installs it.\n"
             << probe.output;
    }
    xsd_ = testing::source_dir() / "reports" / "schema" / "junit.xsd";
    ASSERT_TRUE(std::filesystem::exists(xsd_)) << xsd_;
  }

  // write stores the JUnit XML of `run` and returns its path.
  std::filesystem::path write(const run_result& run, std::string_view name = "junit.xml") {
    auto path = dir_ / name;
    write_junit(run, path);
    return path;
  }

  command_result validate(const std::filesystem::path& file) const {
    return run_command(fmt::format("xmllint --noout --schema {} {}", shell_quote(xsd_.string()),
                                   shell_quote(file.string())));
  }

  // xpath evaluates `expression` on `file` and returns its string value.
  static std::string xpath(const std::filesystem::path& file, std::string_view expression) {
    const command_result r = run_command(
        fmt::format("xmllint --xpath {} {}", shell_quote(expression), shell_quote(file.string())));
    EXPECT_EQ(r.exit_code, 0) << expression << "\n" << r.output;
    std::string value = r.output;
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) {
      value.pop_back();
    }
    return value;
  }

  // number and decimal read the value of an attribute or a count() / sum() expression.
  static long number(const std::filesystem::path& file, std::string_view expression) {
    return std::strtol(xpath(file, fmt::format("string({})", expression)).c_str(), nullptr, 10);
  }

  static double decimal(const std::filesystem::path& file, std::string_view expression) {
    return std::strtod(xpath(file, fmt::format("string({})", expression)).c_str(), nullptr);
  }

  // expect_counts_add_up checks every count attribute against the elements a reader counts.
  static void expect_counts_add_up(const std::filesystem::path& file) {
    const long suites = number(file, "count(/testsuites/testsuite)");
    for (long i = 1; i <= suites; ++i) {
      const std::string s = fmt::format("/testsuites/testsuite[{}]", i);
      SCOPED_TRACE(s);
      EXPECT_EQ(number(file, s + "/@tests"), number(file, "count(" + s + "/testcase)"));
      EXPECT_EQ(number(file, s + "/@failures"), number(file, "count(" + s + "/testcase/failure)"));
      EXPECT_EQ(number(file, s + "/@errors"), number(file, "count(" + s + "/testcase/error)"));
      EXPECT_EQ(number(file, s + "/@skipped"), number(file, "count(" + s + "/testcase/skipped)"));
      EXPECT_NEAR(decimal(file, s + "/@time"), decimal(file, "sum(" + s + "/testcase/@time)"),
                  1e-9);
    }
    for (const char* attribute : {"tests", "failures", "errors", "skipped"}) {
      EXPECT_EQ(number(file, fmt::format("/testsuites/@{}", attribute)),
                number(file, fmt::format("sum(/testsuites/testsuite/@{})", attribute)))
          << attribute;
    }
    EXPECT_NEAR(decimal(file, "/testsuites/@time"),
                decimal(file, "sum(/testsuites/testsuite/@time)"), 1e-9);
  }

  scratch_dir dir_;
  std::filesystem::path xsd_;
};

TEST_F(JunitXml, ValidatesAgainstTheXsd) {
  const auto file = write(testing::make_sample_run());
  const command_result r = validate(file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(JunitXml, XsdRejectsElementsAndCountsOutsideTheSubset) {
  std::ostringstream xml;
  write_junit(testing::make_sample_run(), xml);
  const std::string good = xml.str();

  std::string unknown_element = good;
  unknown_element.replace(unknown_element.find("<system-out>"), 12, "<stdout>");
  unknown_element.replace(unknown_element.find("</system-out>"), 13, "</stdout>");
  testing::write_file(dir_ / "element.xml", unknown_element);
  EXPECT_NE(validate(dir_ / "element.xml").exit_code, 0);

  std::string bad_count = good;
  bad_count.replace(bad_count.find("tests=\""), 7, "tests=\"-");
  testing::write_file(dir_ / "count.xml", bad_count);
  EXPECT_NE(validate(dir_ / "count.xml").exit_code, 0);
}

TEST_F(JunitXml, OneSuitePerTargetWithCountsThatAddUp) {
  const auto file = write(testing::make_sample_run());
  EXPECT_EQ(number(file, "count(/testsuites/testsuite)"), 2);
  EXPECT_EQ(xpath(file, "string(/testsuites/testsuite[2]/@name)"), "smtp://127.0.0.1:2525");
  // reference: PASS FAIL WARN INFO SKIP ERROR XFAIL XPASS.
  EXPECT_EQ(number(file, fmt::format("{}/@tests", reference_suite)), 8);
  EXPECT_EQ(number(file, fmt::format("{}/@failures", reference_suite)), 2);
  EXPECT_EQ(number(file, fmt::format("{}/@errors", reference_suite)), 1);
  EXPECT_EQ(number(file, fmt::format("{}/@skipped", reference_suite)), 1);
  EXPECT_EQ(number(file, "/testsuites/@tests"), 10);
  EXPECT_EQ(number(file, "/testsuites/@failures"), 3);
  expect_counts_add_up(file);
}

TEST_F(JunitXml, MapsEachVerdictToItsJUnitElement) {
  const auto file = write(testing::make_sample_run());
  const auto children = [&](std::string_view case_id) {
    return xpath(file, fmt::format("string({}/testcase[@name='{}']/*[2]/@type)", reference_suite,
                                   case_id)) +
           "|" +
           xpath(file, fmt::format("name({}/testcase[@name='{}']/*[2])", reference_suite, case_id));
  };
  EXPECT_EQ(children("starttls.ready-220"), "|system-out");
  EXPECT_EQ(children("inject.starttls-rset-same-segment"), "FAIL|failure");
  EXPECT_EQ(children("pipelining.reply-order"), "XPASS|failure");
  EXPECT_EQ(children("greeting.banner-delay"), "ERROR|error");
  EXPECT_EQ(children("auth.only-after-tls"), "|skipped");
  EXPECT_EQ(children("ehlo.reissue-after-tls/tls1.2"), "|system-out");
  EXPECT_EQ(children("tls.cert-self-signed"), "|system-out");
  EXPECT_EQ(children("data.bare-lf-smuggling"), "|system-out");
  EXPECT_EQ(xpath(file, fmt::format("string({}/testcase[@name='auth.only-after-tls']/skipped/"
                                    "@message)",
                                    reference_suite)),
            "no credentials given for the target");
}

TEST_F(JunitXml, ClassNameIsToolTargetAndIdPrefix) {
  const auto file = write(testing::make_sample_run());
  EXPECT_EQ(xpath(file, fmt::format("string({}/testcase[1]/@classname)", reference_suite)),
            "smtpsim.reference.starttls");
  EXPECT_EQ(xpath(file, fmt::format("string({}/testcase[3]/@classname)", reference_suite)),
            "smtpsim.reference.ehlo");
  EXPECT_EQ(xpath(file, "string(/testsuites/testsuite[2]/testcase[1]/@classname)"),
            "smtpsim.smtp://127.0.0.1:2525.c");
  EXPECT_EQ(xpath(file, fmt::format("string({}/testcase[2]/@time)", reference_suite)), "1.500");
}

TEST_F(JunitXml, FailureCarriesExpectedObservedReferenceAndExcerpt) {
  const auto file = write(testing::make_sample_run());
  const std::string failure = fmt::format(
      "{}/testcase[@name='inject.starttls-rset-same-segment']/failure", reference_suite);
  EXPECT_EQ(xpath(file, "string(" + failure + "/@message)"),
            "server executed | RSET sent in the <same> segment as STARTTLS & before TLS ]]> "
            "\"quoted\"");
  const std::string body = xpath(file, "string(" + failure + ")");
  EXPECT_NE(body.find("expected: no reply before the client's next command"), std::string::npos)
      << body;
  EXPECT_NE(body.find("observed: 250 2.0.0 Flushed"), std::string::npos) << body;
  EXPECT_NE(body.find("reference: RFC 3207 §4.2, CVE-2011-0411"), std::string::npos) << body;
  EXPECT_NE(body.find("C> STARTTLS\\r\\n"), std::string::npos) << body;
  EXPECT_NE(body.find("S> [tls] 250 2.0.0 Flushed\\r\\n"), std::string::npos) << body;
}

TEST_F(JunitXml, PropertiesCarryVerdictLevelAndReferences) {
  const auto file = write(testing::make_sample_run());
  const std::string props =
      fmt::format("{}/testcase[@name='data.bare-lf-smuggling']/properties", reference_suite);
  EXPECT_EQ(xpath(file, "string(" + props + "/property[@name='verdict']/@value)"), "XFAIL");
  EXPECT_EQ(xpath(file, "string(" + props + "/property[@name='level']/@value)"), "MUST");
  EXPECT_EQ(xpath(file, "string(" + props + "/property[@name='references']/@value)"),
            "RFC 5321 §4.1.1.4, CVE-2023-51764");
  EXPECT_EQ(number(file, "count(//testcase[not(properties/property[@name='verdict'])])"), 0);
}

TEST_F(JunitXml, PassingVerdictsOtherThanPassSayTheirVerdictInSystemOut) {
  const auto file = write(testing::make_sample_run());
  for (const char* id :
       {"tls.cert-self-signed", "data.bare-lf-smuggling", "ehlo.reissue-after-tls/tls1.2"}) {
    const std::string out =
        xpath(file, fmt::format("string({}/testcase[@name='{}']/system-out)", reference_suite, id));
    EXPECT_NE(out.find("smtpsim verdict: "), std::string::npos) << id;
    EXPECT_EQ(out.find("smtpsim verdict: PASS"), std::string::npos) << id;
  }
  const std::string out =
      xpath(file, fmt::format("string({}/testcase[1]/system-out)", reference_suite));
  EXPECT_NE(out.find("smtpsim verdict: PASS"), std::string::npos) << out;
  EXPECT_NE(out.find("C> [tls] EHLO probe.test\\r\\n"), std::string::npos) << out;
}

TEST_F(JunitXml, StrictTurnsWarnIntoAFailure) {
  run_result run = testing::make_sample_run();
  run.strict = true;
  const auto file = write(run);
  EXPECT_EQ(xpath(file, fmt::format("string({}/testcase[@name='ehlo.reissue-after-tls/tls1.2']/"
                                    "failure/@type)",
                                    reference_suite)),
            "WARN");
  EXPECT_EQ(number(file, fmt::format("{}/@failures", reference_suite)), 3);
  EXPECT_EQ(number(file, "/testsuites/@failures"), 4);
  expect_counts_add_up(file);
  const command_result r = validate(file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(JunitXml, StaysValidWithEveryByteValueInEveryTextField) {
  const std::string all = testing::all_byte_values();
  run_result run;
  run.targets = {target_info{"bin" + all, "url", all, {{"l" + all, all}}}};
  run.tool_version = all;
  run.command_line = {all};
  case_result r = testing::make_case("bytes." + all, verdict::fail, "bin" + all);
  r.level = all;
  r.references = {all};
  r.tags = {all};
  r.title = all;
  r.file = all;
  r.outcome.reason = all;
  r.outcome.judgments[0].expected = all;
  r.outcome.judgments[0].observed = all;
  r.outcome.judgments[0].step_pointer = all;
  r.outcome.log.add_bytes(20000us, direction::received, false, 0, all);
  r.outcome.log.add_event(30000us, false, 0, all);
  run.cases = {r};
  r.outcome.final_verdict = verdict::error;
  run.cases.push_back(r);
  r.outcome.final_verdict = verdict::skip;
  run.cases.push_back(r);
  const auto file = write(run);
  const command_result v = validate(file);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  expect_counts_add_up(file);
  const std::string message = xpath(file, "string(//testcase[1]/failure/@message)");
  EXPECT_EQ(message.find("\\x00\\x01\\x02"), 0U) << message;
  EXPECT_NE(message.find("\t\n\\x0B\\x0C\r\\x0E"), std::string::npos) << message;
  EXPECT_NE(message.find("&'()"), std::string::npos) << message;
  EXPECT_NE(message.find("\\xFF"), std::string::npos) << message;
}

TEST_F(JunitXml, FileMatchesTheStreamOutput) {
  const run_result run = testing::make_sample_run();
  std::ostringstream xml;
  write_junit(run, xml);
  EXPECT_EQ(testing::read_file(write(run)), xml.str());
}

TEST_F(JunitXml, EmptyRunIsAValidEmptyReport) {
  const auto file = write(run_result{});
  const command_result r = validate(file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(number(file, "/testsuites/@tests"), 0);
}

}  // namespace
}  // namespace smtpsim::reports
