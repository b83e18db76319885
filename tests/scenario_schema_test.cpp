// The JSON Schema of scenarios (scenarios/schema/scenario.schema.json) agrees with the loader:
// every shipped scenario is valid, every bad fixture is invalid. Validation runs Debian's
// python3-jsonschema, independent of our C++ loader.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

fs::path source_dir() {
  const char* src = std::getenv("SMTPSIM_SOURCE_DIR");
  return src != nullptr ? fs::path(src) : fs::path(".");
}

// validate returns the number of files in `files` that fail the schema, or -1 if the validator
// cannot run.
int count_invalid(const std::vector<fs::path>& files) {
  std::string script =
      "import json,sys\n"
      "from jsonschema import Draft202012Validator as V\n"
      "schema=json.load(open(sys.argv[1]))\n"
      "V.check_schema(schema)\n"
      "v=V(schema)\n"
      "bad=0\n"
      "for f in sys.argv[2:]:\n"
      "  errs=list(v.iter_errors(json.load(open(f))))\n"
      "  if errs: bad+=1\n"
      "sys.exit(min(bad,100))\n";
  std::string cmd = "/usr/bin/python3 -c '" + script + "' " +
                    (source_dir() / "scenarios/schema/scenario.schema.json").string();
  for (const auto& f : files) {
    cmd += " " + f.string();
  }
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ScenarioSchema, ValidatorIsInstalled) {
  ASSERT_EQ(std::system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null"), 0)
      << "install Debian's python3-jsonschema";
}

TEST(ScenarioSchema, EveryShippedScenarioIsValid) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(source_dir() / "scenarios")) {
    if (e.is_regular_file() && e.path().extension() == ".json" &&
        e.path().parent_path().filename() != "schema") {
      files.push_back(e.path());
    }
  }
  ASSERT_GE(files.size(), 30u);
  EXPECT_EQ(count_invalid(files), 0);
}

TEST(ScenarioSchema, EveryBadFixtureIsInvalid) {
  for (const auto& e : fs::directory_iterator(source_dir() / "tests/data/bad-scenarios")) {
    EXPECT_EQ(count_invalid({e.path()}), 1) << e.path();
  }
}

}  // namespace
