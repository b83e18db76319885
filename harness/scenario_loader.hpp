#pragma once
// Scenario files (JSON, docs/scenario-format.md) -> script::scenario. Every error names the file,
// the JSON pointer and the line:column; unknown fields are errors.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/script/scenario.hpp"

#include "harness/json_locator.hpp"

namespace smtpsim::harness {

// config_error is a problem in user-supplied configuration (a scenario, a target file, a flag).
// what() reads "FILE:LINE:COL: POINTER: MESSAGE" (compiler style, so editors can jump to it).
class config_error : public std::runtime_error {
 public:
  config_error(std::string file, std::string pointer, text_position where, std::string message);

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const text_position& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  std::string pointer_;
  text_position where_;
  std::string message_;
};

// parse_scenario parses one scenario from JSON text. `file` is the name used in errors and
// stored in scenario::file. Throws config_error.
script::scenario parse_scenario(std::string_view text, const std::string& file);

// load_scenario_file reads and parses one file. When `root` is given, the file's place in the
// tree is checked against its id (<role>/<group>/<name>.json for id "<group>.<name>", with the
// "c." prefix of client ids left out of the path) and scenario::file is made relative to root.
script::scenario load_scenario_file(const std::filesystem::path& file,
                                    const std::filesystem::path& root = {});

// scenario_set is every scenario of a folder, in a deterministic order (by id).
struct scenario_set {
  std::filesystem::path root;
  std::vector<std::unique_ptr<script::scenario>> scenarios;
  std::vector<config_error> errors;  // every file that failed, so `validate` reports them all

  const script::scenario* find(std::string_view id) const;
};

// load_scenarios loads every *.json below `root` except the schema folder. Duplicate ids are
// errors. It does not throw for bad files: they are listed in `errors`.
scenario_set load_scenarios(const std::filesystem::path& root);

// default_scenario_dir finds the scenarios folder: $SMTPSIM_SCENARIOS, then
// <executable>/../share/smtpsim/scenarios, then the source tree the binary was built from.
std::filesystem::path default_scenario_dir();

// fuzz_corpus gathers the seed lines of fuzz steps (checks.md line.fuzz-grammar: "every byte
// string in this catalogue"): what every server-role case of `set` sends, with `vars` (the
// target's values) and each variant's own values filled in, split into lines.
std::shared_ptr<const std::vector<std::string>> fuzz_corpus(const scenario_set& set,
                                                            const script::bindings& vars);

}  // namespace smtpsim::harness
