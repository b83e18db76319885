#include "reports/run_json.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

using namespace std::chrono_literals;
using script::direction;
using script::verdict;
using testing::scratch_dir;

// The script types have no operator==, so the round-trip tests compare field by field.

void expect_same(const script::cert_info& a, const script::cert_info& b) {
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.issuer, b.issuer);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.not_before, b.not_before);
  EXPECT_EQ(a.not_after, b.not_after);
  EXPECT_EQ(a.dns_names, b.dns_names);
  EXPECT_EQ(a.ip_addresses, b.ip_addresses);
  EXPECT_EQ(a.self_signed, b.self_signed);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.pubkey_sha256, b.pubkey_sha256);
}

void expect_same(const script::tls_facts& a, const script::tls_facts& b) {
  EXPECT_EQ(a.established, b.established);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.cipher, b.cipher);
  EXPECT_EQ(a.sni, b.sni);
  ASSERT_EQ(a.peer_chain.size(), b.peer_chain.size());
  for (std::size_t i = 0; i < a.peer_chain.size(); ++i) {
    expect_same(a.peer_chain[i], b.peer_chain[i]);
  }
  EXPECT_EQ(a.peer_verified, b.peer_verified);
  EXPECT_EQ(a.verify_error, b.verify_error);
  EXPECT_EQ(a.client_cert_requested, b.client_cert_requested);
  EXPECT_EQ(a.client_cert_sent, b.client_cert_sent);
  EXPECT_EQ(a.alert_received, b.alert_received);
  EXPECT_EQ(a.alert_sent, b.alert_sent);
  EXPECT_EQ(a.error, b.error);
}

void expect_same(const script::transcript& a, const script::transcript& b) {
  EXPECT_EQ(a.stored_bytes(), b.stored_bytes());
  EXPECT_EQ(a.dropped_bytes(), b.dropped_bytes());
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (std::size_t i = 0; i < a.entries().size(); ++i) {
    SCOPED_TRACE(i);
    const auto& x = a.entries()[i];
    const auto& y = b.entries()[i];
    EXPECT_EQ(x.at, y.at);
    EXPECT_EQ(x.dir, y.dir);
    EXPECT_EQ(x.tls, y.tls);
    EXPECT_EQ(x.connection, y.connection);
    EXPECT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(x.note, y.note);
  }
}

void expect_same(const case_result& a, const case_result& b) {
  SCOPED_TRACE(a.case_id + " @ " + a.target);
  EXPECT_EQ(a.case_id, b.case_id);
  EXPECT_EQ(a.scenario_id, b.scenario_id);
  EXPECT_EQ(a.variant, b.variant);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(a.references, b.references);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.started_at, b.started_at);
  const auto& x = a.outcome;
  const auto& y = b.outcome;
  EXPECT_EQ(x.final_verdict, y.final_verdict);
  EXPECT_EQ(x.reason, y.reason);
  EXPECT_EQ(x.duration, y.duration);
  ASSERT_EQ(x.judgments.size(), y.judgments.size());
  for (std::size_t i = 0; i < x.judgments.size(); ++i) {
    EXPECT_EQ(x.judgments[i].v, y.judgments[i].v);
    EXPECT_EQ(x.judgments[i].reason, y.judgments[i].reason);
    EXPECT_EQ(x.judgments[i].step, y.judgments[i].step);
    EXPECT_EQ(x.judgments[i].step_pointer, y.judgments[i].step_pointer);
    EXPECT_EQ(x.judgments[i].expected, y.judgments[i].expected);
    EXPECT_EQ(x.judgments[i].observed, y.judgments[i].observed);
    EXPECT_EQ(x.judgments[i].transcript_from, y.judgments[i].transcript_from);
    EXPECT_EQ(x.judgments[i].transcript_to, y.judgments[i].transcript_to);
  }
  expect_same(x.log, y.log);
  ASSERT_EQ(x.tls.size(), y.tls.size());
  for (std::size_t i = 0; i < x.tls.size(); ++i) {
    expect_same(x.tls[i], y.tls[i]);
  }
}

void expect_same(const run_result& a, const run_result& b) {
  EXPECT_EQ(a.schema_version, b.schema_version);
  EXPECT_EQ(a.tool_version, b.tool_version);
  EXPECT_EQ(a.command_line, b.command_line);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.duration_seconds, b.duration_seconds);
  EXPECT_EQ(a.interrupted, b.interrupted);
  EXPECT_EQ(a.strict, b.strict);
  EXPECT_EQ(a.exit_code, b.exit_code);
  ASSERT_EQ(a.targets.size(), b.targets.size());
  for (std::size_t i = 0; i < a.targets.size(); ++i) {
    EXPECT_EQ(a.targets[i].name, b.targets[i].name);
    EXPECT_EQ(a.targets[i].kind, b.targets[i].kind);
    EXPECT_EQ(a.targets[i].description, b.targets[i].description);
    EXPECT_EQ(a.targets[i].listeners, b.targets[i].listeners);
  }
  ASSERT_EQ(a.cases.size(), b.cases.size());
  for (std::size_t i = 0; i < a.cases.size(); ++i) {
    expect_same(a.cases[i], b.cases[i]);
  }
}

run_result round_trip(const run_result& run) {
  const scratch_dir dir;
  write_run_json(run, dir / "run.json");
  return read_run_json(dir / "run.json");
}

// error_of returns the message read_run_json throws for `doc`, or "" if it does not throw.
std::string error_of(const nlohmann::json& doc) {
  try {
    parse_run_json(doc, "run.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(RunJson, RoundTripsARealisticRunThroughAFile) {
  const run_result run = testing::make_sample_run();
  const run_result back = round_trip(run);
  expect_same(run, back);
  EXPECT_EQ(to_json(back), to_json(run));
}

TEST(RunJson, RoundTripsEveryByteValueInTranscripts) {
  run_result run;
  run.cases.push_back(testing::make_case("bytes.all", verdict::info));
  script::transcript t;
  const std::string all = testing::all_byte_values();
  t.add_bytes(0us, direction::received, false, 0, all);
  for (std::size_t i = 0; i < all.size(); ++i) {
    t.add_bytes(std::chrono::microseconds(i), i % 2 == 0 ? direction::sent : direction::received,
                i % 3 == 0, static_cast<std::uint32_t>(i % 4), all.substr(i, 1));
    t.add_bytes(std::chrono::microseconds(i), direction::sent, false, 0,
                "text then " + all.substr(i, 1));
  }
  run.cases[0].outcome.log = t;
  const run_result back = round_trip(run);
  expect_same(run, back);
}

TEST(RunJson, StoresReadableBytesAsTextAndOtherBytesAsBase64) {
  run_result run;
  run.cases.push_back(testing::make_case("bytes.mixed", verdict::pass));
  script::transcript t;
  t.add_bytes(0us, direction::received, false, 0, "220 h\xc3\xa9llo\tthere\r\n");
  t.add_bytes(1us, direction::received, false, 0, std::string("22\0\r\n", 5));
  t.add_bytes(2us, direction::received, false, 0, "\xff\r\n");
  t.add_event(3us, true, 0, "TLS established");
  run.cases[0].outcome.log = t;
  const nlohmann::json doc = to_json(run);
  const auto& entries = doc["cases"][0]["transcript"]["entries"];
  EXPECT_EQ(entries[0]["text"], "220 h\xc3\xa9llo\tthere\r\n");
  EXPECT_FALSE(entries[0].contains("base64"));
  EXPECT_EQ(entries[1]["base64"], "MjIADQo=");
  EXPECT_FALSE(entries[1].contains("text"));
  EXPECT_EQ(entries[2]["base64"], "/w0K");
  EXPECT_EQ(entries[3]["note"], "TLS established");
  EXPECT_EQ(entries[3]["dir"], "event");
  EXPECT_EQ(entries[3]["tls"], true);
}

TEST(RunJson, KeepsTheCountOfBytesThatWereNotStored) {
  run_result run;
  run.cases.push_back(testing::make_case("bytes.truncated", verdict::pass));
  script::transcript t(10);
  t.add_bytes(0us, direction::received, false, 0, "0123456789abcdef");
  t.add_event(1us, false, 0, "closed");
  t.add_bytes(2us, direction::received, false, 0, std::string(3'000'000, 'x'));
  ASSERT_EQ(t.dropped_bytes(), 3'000'006U);
  run.cases[0].outcome.log = t;
  const run_result back = round_trip(run);
  expect_same(run, back);
  EXPECT_TRUE(back.cases[0].outcome.log.truncated());
}

TEST(RunJson, WritesTheSummaryAndTopLevelFields) {
  run_result run = testing::make_sample_run();
  run.strict = true;
  run.interrupted = true;
  const nlohmann::json doc = to_json(run);
  EXPECT_EQ(doc["schema_version"], run_schema_version);
  EXPECT_EQ(doc["summary"]["total"], 10);
  EXPECT_EQ(doc["summary"]["fail"], 2);
  EXPECT_EQ(doc["summary"]["xpass"], 1);
  EXPECT_EQ(doc["strict"], true);
  EXPECT_EQ(doc["interrupted"], true);
  EXPECT_EQ(doc["exit_code"], 1);
  EXPECT_EQ(doc["cases"][2]["variant"], "tls1.2");
  EXPECT_EQ(doc["cases"][1]["verdict"], "FAIL");
  EXPECT_EQ(doc["cases"][1]["judgments"][1]["step_pointer"], "/steps/2");
  EXPECT_EQ(doc["cases"][0]["tls"][0]["peer_chain"][1]["subject"],
            "CN=smtpsim test intermediate CA,O=smtpsim");
}

TEST(RunJson, FileListsFieldsInDocumentationOrder) {
  const std::string text = to_json_text(testing::make_sample_run());
  EXPECT_LT(text.find("\"schema_version\""), text.find("\"tool_version\""));
  EXPECT_LT(text.find("\"summary\""), text.find("\"cases\""));
  EXPECT_LT(text.find("\"case_id\""), text.find("\"verdict\""));
  EXPECT_EQ(text.back(), '\n');
}

TEST(RunJson, ReplacesBrokenUtf8InTextFieldsSoTheFileStaysValid) {
  run_result run;
  run.cases.push_back(testing::make_case("text.broken", verdict::fail));
  run.cases[0].outcome.reason = "peer said \xff\xfe";
  run.cases[0].outcome.judgments[0].observed = "5\xc0\xaf";
  const run_result back = round_trip(run);
  EXPECT_EQ(back.cases[0].outcome.reason, "peer said \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(back.cases[0].outcome.judgments[0].observed, "5\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(RunJson, ReplacesTheFileWithoutLeavingTemporaryFiles) {
  const scratch_dir dir;
  run_result run = testing::make_sample_run();
  write_run_json(run, dir / "run.json");
  run.tool_version = "0.2.0";
  write_run_json(run, dir / "run.json");
  EXPECT_EQ(read_run_json(dir / "run.json").tool_version, "0.2.0");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  EXPECT_EQ(files, 1U);
}

TEST(RunJson, WriteToAMissingFolderNamesTheFile) {
  const scratch_dir dir;
  const auto path = dir / "missing" / "run.json";
  try {
    write_run_json(run_result{}, path);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(RunJson, ErrorNamesTheFileAndThePointerOfABadField) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["cases"][1]["verdict"] = "MAYBE";
  const std::string error = error_of(doc);
  EXPECT_NE(error.find("run.json: /cases/1/verdict: expected one of PASS"), std::string::npos)
      << error;
}

TEST(RunJson, RejectsLowerCaseVerdicts) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["cases"][0]["judgments"][0]["verdict"] = "pass";
  EXPECT_NE(error_of(doc).find("/cases/0/judgments/0/verdict"), std::string::npos);
}

TEST(RunJson, RejectsMissingAndMistypedFields) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["cases"][0]["tls"][0]["peer_chain"][1].erase("sha256");
  EXPECT_NE(error_of(doc).find("/cases/0/tls/0/peer_chain/1/sha256: missing field"),
            std::string::npos);
  doc = to_json(testing::make_sample_run());
  doc["cases"][0]["transcript"]["entries"][2]["at_us"] = "soon";
  EXPECT_NE(error_of(doc).find("/cases/0/transcript/entries/2/at_us: expected an integer"),
            std::string::npos);
  doc = to_json(testing::make_sample_run());
  doc["cases"][0]["duration_ms"] = -5;
  EXPECT_NE(error_of(doc).find("/cases/0/duration_ms: expected an integer from 0"),
            std::string::npos);
}

TEST(RunJson, RejectsUnknownFieldsOfTheSameMinorVersion) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["targets"][0]["colour"] = "blue";
  EXPECT_NE(error_of(doc).find("run.json: /targets/0/colour: unknown field"), std::string::npos);
}

TEST(RunJson, IgnoresUnknownFieldsFromANewerMinorVersion) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["schema_version"] = "1.7";
  doc["targets"][0]["colour"] = "blue";
  doc["cases"][0]["transcript"]["entries"][0]["pcap_frame"] = 3;
  EXPECT_EQ(error_of(doc), "");
}

TEST(RunJson, RejectsAnotherMajorVersion) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["schema_version"] = "2.0";
  EXPECT_NE(error_of(doc).find("/schema_version: schema version 2.0 is not supported"),
            std::string::npos);
  doc["schema_version"] = "one";
  EXPECT_NE(error_of(doc).find("/schema_version: expected \"MAJOR.MINOR\""), std::string::npos);
}

TEST(RunJson, RejectsASummaryThatDisagreesWithTheCases) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["summary"]["fail"] = 0;
  EXPECT_NE(error_of(doc).find("/summary/fail: says 0 but the cases have 2"), std::string::npos);
}

TEST(RunJson, RejectsEntriesWithBadBytes) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  auto& entry = doc["cases"][5]["transcript"]["entries"][1];
  ASSERT_TRUE(entry.contains("base64"));
  entry["base64"] = "not base64!";
  EXPECT_NE(error_of(doc).find("/cases/5/transcript/entries/1/base64: not canonical base64"),
            std::string::npos);
  entry["text"] = "both";
  EXPECT_NE(error_of(doc).find("/cases/5/transcript/entries/1: expected exactly one"),
            std::string::npos);
  entry.erase("base64");
  entry["text"] = "";
  EXPECT_NE(error_of(doc).find("/cases/5/transcript/entries/1/text: expected at least one byte"),
            std::string::npos);
}

TEST(RunJson, EscapesSlashAndTildeInPointers) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["targets"][0]["listeners"]["a/b~c"] = 7;
  EXPECT_NE(error_of(doc).find("/targets/0/listeners/a~1b~0c: expected a string"),
            std::string::npos);
}

TEST(RunJson, ReadErrorsNameTheFile) {
  const scratch_dir dir;
  const auto missing = dir / "nothing.json";
  EXPECT_THROW(
      {
        try {
          read_run_json(missing);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  const auto broken = dir / "broken.json";
  testing::write_file(broken, "{\n  \"schema_version\": \"1.0\",\n  oops\n}\n");
  try {
    read_run_json(broken);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(broken.string() + ": not valid JSON"), std::string::npos) << what;
    EXPECT_NE(what.find("line 3"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace smtpsim::reports

namespace smtpsim::reports {
namespace {

run_result run_with_findings() {
  run_result run;
  run.targets.push_back(target_info{"reference", "reference", "", {}});
  case_result c = testing::make_case("smuggle.lf-dot-lf", script::verdict::fail);
  c.outcome.validated.checked = {"a14.one-reply-per-command", "esc.prefix-all-replies"};
  c.outcome.validated.findings.push_back(script::finding{
      "a14.one-reply-per-command", script::verdict::fail, 3, 22, "250 2.1.0 Ok", "a second reply"});
  run.cases.push_back(c);
  case_result v = testing::make_case("a14.one-reply-per-command", script::verdict::fail);
  v.synthetic = true;
  run.cases.push_back(v);
  return run;
}

TEST(RunJson, RoundTripsValidatorFindingsAndSyntheticResults) {
  const run_result back = parse_run_json(to_json(run_with_findings()), "mem");
  ASSERT_EQ(back.cases.size(), 2U);
  const auto& v = back.cases[0].outcome.validated;
  EXPECT_FALSE(back.cases[0].synthetic);
  EXPECT_EQ(v.checked,
            (std::vector<std::string>{"a14.one-reply-per-command", "esc.prefix-all-replies"}));
  ASSERT_EQ(v.findings.size(), 1U);
  EXPECT_EQ(v.findings[0].validator, "a14.one-reply-per-command");
  EXPECT_EQ(v.findings[0].v, script::verdict::fail);
  EXPECT_EQ(v.findings[0].entry, 3U);
  EXPECT_EQ(v.findings[0].offset, 22U);
  EXPECT_EQ(v.findings[0].line, "250 2.1.0 Ok");
  EXPECT_EQ(v.findings[0].reason, "a second reply");
  EXPECT_TRUE(back.cases[1].synthetic);
}

TEST(RunJson, ReadsA11FileWithoutTheValidatorFields) {
  nlohmann::json doc = to_json(run_with_findings());
  doc["schema_version"] = "1.1";
  for (auto& c : doc["cases"]) {
    c.erase("synthetic");
    c.erase("validated");
    c.erase("findings");
  }
  const run_result back = parse_run_json(doc, "old");
  ASSERT_EQ(back.cases.size(), 2U);
  EXPECT_TRUE(back.cases[0].outcome.validated.findings.empty());
  EXPECT_FALSE(back.cases[1].synthetic);
}

}  // namespace
}  // namespace smtpsim::reports
