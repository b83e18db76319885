#include "harness/scenario_loader.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include <unistd.h>

namespace smtpsim::harness {
namespace {

namespace fs = std::filesystem;

fs::path source_dir() {
  const char* src = std::getenv("SMTPSIM_SOURCE_DIR");
  return src != nullptr ? fs::path(src) : fs::path(".");
}

std::string doc(const std::string& steps, const std::string& extra = "") {
  return "{\n  \"id\": \"t.case\",\n  \"title\": \"t\",\n  \"role\": \"server\",\n"
         "  \"level\": \"MUST\",\n  \"references\": [\"RFC 0\"],\n" +
         extra + "  \"steps\": [\n" + steps + "\n  ]\n}\n";
}

// expect_error parses `text` and checks the error's pointer, line:column and message part.
void expect_error(const std::string& text, const std::string& pointer, std::size_t line,
                  std::size_t column, const std::string& part) {
  try {
    parse_scenario(text, "s.json");
    FAIL() << "no error; expected " << pointer;
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "s.json");
    EXPECT_EQ(e.pointer(), pointer) << e.what();
    EXPECT_EQ(e.where().line, line) << e.what();
    EXPECT_EQ(e.where().column, column) << e.what();
    EXPECT_NE(e.message().find(part), std::string::npos) << e.what();
  }
}

TEST(ScenarioLoader, UnknownStepFieldNamesPointerAndPosition) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"send\": \"NOOP\", \"colour\": 1}"),
               "/steps/1/colour", 9, 22, "unknown field \"colour\"");
}

TEST(ScenarioLoader, WhatReadsLikeACompilerMessage) {
  try {
    parse_scenario(doc("    {\"connect\": 5}"), "a/b.json");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(),
                 "a/b.json:8:17: /steps/0/connect: expected a string or an array of strings");
  }
}

TEST(ScenarioLoader, InvalidJsonGivesLineAndColumn) {
  expect_error("{\n  \"id\": \"x.y\",\n  \"title\": ,\n}", "", 3, 12, "invalid JSON");
}

TEST(ScenarioLoader, NumberTooLargeForADoubleIsAnErrorAtTheNumber) {
  // nlohmann throws out_of_range (not parse_error) for it; found by the scenario_loader fuzzer.
  expect_error("{\n  \"id\": 1e999\n}\n", "", 2, 9, "number overflow");
}

TEST(ScenarioLoader, DuplicateKeysAreErrors) {
  expect_error(doc("    {\"connect\": \"starttls\"}", "  \"title\": \"again\",\n"), "/title", 7, 3,
               "duplicate field");
}

TEST(ScenarioLoader, UnknownTopLevelFieldIsAnError) {
  expect_error(doc("    {\"connect\": \"starttls\"}", "  \"author\": \"me\",\n"), "/author", 7, 3,
               "unknown field \"author\"");
}

TEST(ScenarioLoader, OutcomeNeedsExactlyOneCondition) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                   "[{\"reply\": \"220\", \"closed\": true}]}"),
               "/steps/1/expect/0", 9, 35, "exactly one condition");
}

TEST(ScenarioLoader, VerdictNeedsAReason) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                   "[{\"reply\": \"220\", \"verdict\": \"PASS\"}]}"),
               "/steps/1/expect/0", 9, 35, "needs a \"reason\"");
}

TEST(ScenarioLoader, RejectsBadCodePatterns) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                   "[{\"reply\": \"25\"}]}"),
               "/steps/1/expect/0/reply", 9, 45, "three characters");
}

TEST(ScenarioLoader, OtherwiseNeedsAnExpectList) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"tls_handshake\": {}, \"otherwise\": "
                   "{\"verdict\": \"SKIP\", \"reason\": \"x\"}}"),
               "/steps/1/otherwise", 9, 27, "needs an \"expect\"");
}

TEST(ScenarioLoader, TalkingBeforeConnectIsAnError) {
  expect_error(doc("    {\"send\": \"NOOP\"}"), "/steps/0", 8, 5, "after a connect step");
}

TEST(ScenarioLoader, SendRefusesEmbeddedLineEnds) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"send\": \"A\\r\\nB\"}"),
               "/steps/1/send", 9, 14, "send_raw");
}

TEST(ScenarioLoader, ExpandsTheMacros) {
  const auto sc = parse_scenario(
      doc("    {\"connect\": \"starttls\"}, {\"greeting\": {}}, {\"ehlo\": \"a.test\"}, "
          "{\"starttls\": {}}"),
      "s.json");
  // connect, read(greeting), send EHLO, read, send STARTTLS, read, handshake
  ASSERT_EQ(sc.steps.size(), 7u);
  EXPECT_EQ(sc.steps[2].kind, script::step_kind::send);
  EXPECT_EQ(sc.steps[2].bytes.expand({}), "EHLO a.test");
  EXPECT_EQ(sc.steps[6].kind, script::step_kind::tls_handshake);
  EXPECT_EQ(sc.steps[6].pointer, "/steps/3");
  ASSERT_TRUE(sc.steps[6].otherwise.has_value());
  EXPECT_EQ(*sc.steps[6].otherwise->v, script::verdict::skip);
}

TEST(ScenarioLoader, BdatPartCountsTheExpandedChunk) {
  const auto sc = parse_scenario(
      doc("    {\"connect\": \"starttls\"},\n"
          "    {\"send_raw\": [\"NOOP\\r\\n\", {\"bdat\": [\"to ${rcpt}\\r\\n.\\r\\n\", "
          "{\"repeat\": \"x\", \"count\": 3}], \"last\": true}, {\"bdat\": \"\"}]}"),
      "s.json");
  ASSERT_EQ(sc.steps.size(), 2u);
  const auto& bytes = sc.steps[1].bytes;
  EXPECT_EQ(bytes.variables(), std::vector<std::string>{"rcpt"});
  // "to a@b.test\r\n.\r\nxxx" is 19 octets once ${rcpt} is bound.
  EXPECT_EQ(bytes.expand({{"rcpt", "a@b.test"}}),
            "NOOP\r\nBDAT 19 LAST\r\nto a@b.test\r\n.\r\nxxxBDAT 0\r\n");
  EXPECT_FALSE(bytes.is_empty());
}

TEST(ScenarioLoader, BdatPartsDoNotNest) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n"
                   "    {\"send_raw\": [{\"bdat\": [{\"bdat\": \"x\"}]}]}"),
               "/steps/1/send_raw/0/bdat/0", 9, 29, "expected a string");
  expect_error(doc("    {\"connect\": \"starttls\"},\n"
                   "    {\"send_raw\": [{\"bdat\": \"x\", \"last\": 1}]}"),
               "/steps/1/send_raw/0/last", 9, 41, "true or false");
}

TEST(ScenarioLoader, ReadReplyCountDefaultsToOneAndIsKept) {
  const auto sc = parse_scenario(doc("    {\"connect\": \"starttls\"}, {\"read_reply\": {}}, "
                                     "{\"read_reply\": {\"count\": 52, \"phase\": \"reply\"}}"),
                                 "s.json");
  ASSERT_EQ(sc.steps.size(), 3u);
  EXPECT_EQ(sc.steps[1].count, 1u);
  EXPECT_EQ(sc.steps[2].count, 52u);
}

TEST(ScenarioLoader, ReadReplyCountMustBePositive) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {\"count\": 0}}"),
               "/steps/1/read_reply/count", 9, 30, "integer from 1 to 1000");
}

TEST(ScenarioLoader, TextMatchesIsCompiledWhenLoaded) {
  const auto sc =
      parse_scenario(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                         "[{\"reply\": \"250\", \"text_matches\": \"\\\\nX{7,}[A-Z]?\\\\n\"}]}"),
                     "s.json");
  ASSERT_EQ(sc.steps[1].expect.size(), 1u);
  EXPECT_EQ(sc.steps[1].expect[0].match.text_matches, "\\nX{7,}[A-Z]?\\n");
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                   "[{\"reply\": \"250\", \"text_matches\": \"a(\"}]}"),
               "/steps/1/expect/0/text_matches", 9, 68,
               "not a valid ECMAScript regular expression");
}

// error_pointer returns the JSON pointer of the error `text` gives ("" if it loads).
std::string error_pointer(const std::string& text) {
  try {
    parse_scenario(text, "s.json");
  } catch (const config_error& e) {
    return e.pointer();
  }
  return "";
}

TEST(ScenarioLoader, CertificateFiltersGoWithHandshakeOkAndAlertWithHandshakeFailed) {
  const auto sc = parse_scenario(
      doc("    {\"connect\": \"wrapper\"},\n    {\"tls_handshake\": {}, \"expect\": ["
          "{\"handshake_ok\": true, \"chain_complete\": false, \"name_matches\": true, "
          "\"cert_current\": true, \"purpose_sslserver\": false, \"sni_matches\": true}, "
          "{\"handshake_failed\": true, \"alert\": \"unrecognized_name\"}]}"),
      "s.json");
  const auto& ok = sc.steps[1].expect.at(0).match;
  EXPECT_EQ(ok.chain_complete, false);
  EXPECT_EQ(ok.name_matches, true);
  EXPECT_EQ(ok.cert_current, true);
  EXPECT_EQ(ok.purpose_sslserver, false);
  EXPECT_EQ(ok.sni_matches, true);
  EXPECT_EQ(sc.steps[1].expect.at(1).match.alert, "unrecognized_name");
  const std::string step =
      "    {\"connect\": \"wrapper\"},\n    {\"tls_handshake\": {}, \"expect\": [";
  EXPECT_EQ(error_pointer(doc(step + "{\"handshake_failed\": true, \"chain_complete\": true}]}")),
            "/steps/1/expect/0/chain_complete");
  EXPECT_EQ(error_pointer(doc(step + "{\"handshake_ok\": true, \"name_matches\": \"yes\"}]}")),
            "/steps/1/expect/0/name_matches");
  EXPECT_EQ(error_pointer(doc(step + "{\"handshake_ok\": true, \"alert\": \"bad_record_mac\"}]}")),
            "/steps/1/expect/0/alert");
  EXPECT_EQ(error_pointer(doc(step + "{\"handshake_failed\": true, \"alert\": \"Bad Alert\"}]}")),
            "/steps/1/expect/0/alert");
}

TEST(ScenarioLoader, TextMatchesNeedsAReplyCondition) {
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                   "[{\"closed\": true, \"text_matches\": \"a\"}]}"),
               "/steps/1/expect/0", 9, 35, "apply to a \"reply\" condition only");
}

TEST(ScenarioLoader, CertRequestedNeedsAHandshakeCondition) {
  const auto sc = parse_scenario(
      doc("    {\"connect\": \"starttls\"},\n    {\"tls_handshake\": {}, \"expect\": "
          "[{\"handshake_ok\": true, \"cert_requested\": false, \"verdict\": \"FAIL\", "
          "\"reason\": \"r\"}]}"),
      "s.json");
  ASSERT_EQ(sc.steps[1].expect.size(), 1u);
  EXPECT_EQ(sc.steps[1].expect[0].match.cert_requested, false);
  expect_error(doc("    {\"connect\": \"starttls\"},\n    {\"read_reply\": {}, \"expect\": "
                   "[{\"closed\": true, \"cert_requested\": true}]}"),
               "/steps/1/expect/0/cert_requested", 9, 70, "with handshake_ok or handshake_failed");
}

TEST(ScenarioLoader, ClientCertPlaceholdersAreVariables) {
  const auto sc = parse_scenario(
      doc("    {\"connect\": \"starttls\"},\n    {\"tls_handshake\": {\"client_cert\": "
          "\"${ccert_listed}-reissued\"}}"),
      "s.json");
  EXPECT_EQ(sc.variables(), std::vector<std::string>{"ccert_listed"});
}

TEST(ScenarioLoader, AwaitDeliveryRequiresTheSinkTrait) {
  const auto sc =
      parse_scenario(doc("    {\"connect\": \"starttls\"}, {\"await_delivery\": {}}"), "s.json");
  ASSERT_EQ(sc.requires_traits.size(), 1u);
  EXPECT_EQ(sc.requires_traits[0], "sink");
}

TEST(ScenarioLoader, VariantsExpandIntoNamedCases) {
  const auto sc = parse_scenario(
      doc("    {\"connect\": \"starttls\"}",
          "  \"variants\": [{\"name\": \"tls1.2\", \"tls\": {\"max_version\": \"1.2\"}}, "
          "{\"name\": \"tls1.3\"}],\n"),
      "s.json");
  const auto cases = script::expand_cases(sc);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].case_id, "t.case/tls1.2");
  EXPECT_EQ(cases[1].case_id, "t.case/tls1.3");
}

TEST(ScenarioLoader, VariantVarsAreKeptPerVariant) {
  const auto sc =
      parse_scenario(doc("    {\"connect\": \"starttls\"},\n    {\"send_raw\": \"a${seq}b\"}",
                         "  \"variants\": [{\"name\": \"lf\", \"vars\": {\"seq\": \"\\n.\\n\"}}, "
                         "{\"name\": \"nul\", \"vars\": {\"seq\": \"\\u0000.\"}}],\n"),
                     "s.json");
  ASSERT_EQ(sc.variants.size(), 2u);
  EXPECT_EQ(sc.variants[0].vars.at("seq"), "\n.\n");
  EXPECT_EQ(sc.variants[1].vars.at("seq"), std::string("\0.", 2));
  EXPECT_EQ(sc.steps[1].bytes.expand(sc.variants[1].vars), std::string("a\0.b", 4));
}

TEST(ScenarioLoader, VariantVarNamesAreChecked) {
  expect_error(doc("    {\"connect\": \"starttls\"}",
                   "  \"variants\": [{\"name\": \"a\", \"vars\": {\"Seq\": \"x\"}}],\n"),
               "/variants/0/vars/Seq", 7, 39, "placeholder name");
}

TEST(ScenarioLoader, VariantVarValuesMustBeStrings) {
  expect_error(doc("    {\"connect\": \"starttls\"}",
                   "  \"variants\": [{\"name\": \"a\", \"vars\": {\"seq\": 1}}],\n"),
               "/variants/0/vars/seq", 7, 46, "string");
}

TEST(ScenarioLoader, EveryVariantBindsTheSameVars) {
  expect_error(doc("    {\"connect\": \"starttls\"}",
                   "  \"variants\": [{\"name\": \"a\", \"vars\": {\"seq\": \"x\"}}, "
                   "{\"name\": \"b\"}],\n"),
               "/variants/1", 7, 53, "same names");
}

TEST(ScenarioLoader, EveryShippedScenarioLoads) {
  const auto set = load_scenarios(source_dir() / "scenarios");
  for (const auto& e : set.errors) {
    ADD_FAILURE() << e.what();
  }
  EXPECT_GE(set.scenarios.size(), 30u);
  for (const auto& s : set.scenarios) {
    EXPECT_FALSE(s->references.empty()) << s->id;
  }
}

TEST(ScenarioLoader, FilePlacementMustMatchTheId) {
  const fs::path root =
      fs::temp_directory_path() / ("smtpsim-loader-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "server" / "starttls");
  {
    std::ofstream f(root / "server" / "starttls" / "wrong-name.json");
    f << doc("    {\"connect\": \"starttls\"}");
  }
  const auto set = load_scenarios(root);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_NE(std::string(set.errors[0].what()).find("belongs in server/t/case.json"),
            std::string::npos)
      << set.errors[0].what();
  fs::remove_all(root);
}

TEST(ScenarioLoader, EveryBadFixtureIsRejected) {
  std::size_t n = 0;
  for (const auto& f : fs::directory_iterator(source_dir() / "tests/data/bad-scenarios")) {
    ++n;
    EXPECT_THROW(load_scenario_file(f.path()), config_error) << f.path();
  }
  EXPECT_GE(n, 5u);
}

}  // namespace
}  // namespace smtpsim::harness
