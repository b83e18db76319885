// Validates the run JSON against reports/schema/run.schema.json with Debian's python3-jsonschema,
// the validator CI installs. The negative tests prove the validator really runs: a schema test
// that cannot fail proves nothing.

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "reports/run_json.hpp"
#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

using testing::command_result;
using testing::run_command;
using testing::scratch_dir;
using testing::shell_quote;

constexpr const char* python = "/usr/bin/python3";

// validator_script checks the schema itself (it must be a valid draft 2020-12 schema), then the
// instance, and prints each error with its JSON path.
constexpr const char* validator_script = R"(
import json, sys
from jsonschema.validators import validator_for
schema = json.load(open(sys.argv[1]))
cls = validator_for(schema)
if cls.__name__ != "Draft202012Validator":
    sys.exit("schema is not draft 2020-12: " + cls.__name__)
cls.check_schema(schema)
instance = json.load(open(sys.argv[2]))
errors = list(cls(schema).iter_errors(instance))
for e in errors:
    print("invalid at /" + "/".join(str(p) for p in e.absolute_path) + ": " + e.message)
sys.exit(1 if errors else 0)
)";

class RunSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    const command_result probe = run_command(fmt::format("{} -c 'import jsonschema'", python));
    if (probe.exit_code != 0) {
      FAIL() << python << " cannot import jsonschema. Install the Debian package "
             << "python3-jsonschema (apt-get install python3-jsonschema); CI installs it.\n"
             << probe.output;
    }
    schema_ = testing::source_dir() / "reports" / "schema" / "run.schema.json";
    ASSERT_TRUE(std::filesystem::exists(schema_)) << schema_;
  }

  command_result validate(const nlohmann::json& doc) const {
    const auto instance = dir_ / "run.json";
    testing::write_file(instance, doc.dump(2));
    return validate_file(instance);
  }

  command_result validate_file(const std::filesystem::path& instance) const {
    return run_command(fmt::format("{} -c {} {} {}", python, shell_quote(validator_script),
                                   shell_quote(schema_.string()), shell_quote(instance.string())));
  }

  scratch_dir dir_;
  std::filesystem::path schema_;
};

TEST_F(RunSchema, AcceptsTheFileWrittenForARealisticRun) {
  const auto path = dir_ / "written.json";
  write_run_json(testing::make_sample_run(), path);
  const command_result r = validate_file(path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// example_from_docs returns the JSON example of docs/run-json.md, so the page cannot drift from
// the schema and the reader.
std::string example_from_docs() {
  const std::string page = testing::read_file(testing::source_dir() / "docs" / "run-json.md");
  const std::size_t section = page.find("## Example");
  const std::size_t begin = page.find("```json\n", section);
  const std::size_t end = page.find("```\n", begin + 8);
  if (section == std::string::npos || begin == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "docs/run-json.md has no ```json block under \"## Example\"";
    return "{}";
  }
  return page.substr(begin + 8, end - begin - 8);
}

TEST_F(RunSchema, AcceptsTheDocumentationExample) {
  const auto path = dir_ / "example.json";
  testing::write_file(path, example_from_docs());
  const command_result r = validate_file(path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const run_result run = read_run_json(path);
  ASSERT_EQ(run.cases.size(), 1U);
  EXPECT_EQ(run.cases[0].outcome.log.entries().back().bytes, std::string("\0\xff\r\n", 4));
}

TEST_F(RunSchema, AcceptsAnEmptyRun) {
  const command_result r = validate(to_json(run_result{}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(RunSchema, RejectsAnUnknownTopLevelField) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["surprise"] = true;
  const command_result r = validate(doc);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("surprise"), std::string::npos) << r.output;
}

TEST_F(RunSchema, RejectsAnUnknownFieldDeepInside) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["cases"][0]["tls"][0]["peer_chain"][0]["colour"] = "blue";
  const command_result r = validate(doc);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("invalid at /cases/0/tls/0/peer_chain/0"), std::string::npos) << r.output;
}

TEST_F(RunSchema, RejectsAnUnknownVerdict) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["cases"][2]["verdict"] = "MAYBE";
  const command_result r = validate(doc);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("invalid at /cases/2/verdict"), std::string::npos) << r.output;
}

TEST_F(RunSchema, RejectsAMissingField) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  doc["cases"][1]["judgments"][0].erase("observed");
  const command_result r = validate(doc);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("'observed' is a required property"), std::string::npos) << r.output;
}

TEST_F(RunSchema, RequiresExactlyOneByteEncodingAndNotesOnlyOnEvents) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  auto& entries = doc["cases"][0]["transcript"]["entries"];
  ASSERT_EQ(entries[0]["dir"], "event");
  ASSERT_TRUE(entries[1].contains("text"));
  entries[1]["base64"] = "MjIw";
  EXPECT_EQ(validate(doc).exit_code, 1);
  entries[1].erase("base64");
  entries[1]["note"] = "a note on bytes";
  EXPECT_EQ(validate(doc).exit_code, 1);
  entries[1].erase("note");
  entries[0]["text"] = "bytes on an event";
  EXPECT_EQ(validate(doc).exit_code, 1);
  entries[0].erase("text");
  const command_result r = validate(doc);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(RunSchema, RejectsBase64ThatIsNotCanonical) {
  nlohmann::json doc = to_json(testing::make_sample_run());
  auto& entry = doc["cases"][5]["transcript"]["entries"][1];
  ASSERT_TRUE(entry.contains("base64"));
  entry["base64"] = "MjIADQo";
  EXPECT_EQ(validate(doc).exit_code, 1);
}

}  // namespace
}  // namespace smtpsim::reports
