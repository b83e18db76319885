#pragma once
// The run JSON: the serialization of run_result and the one source of truth of a run
// (docs/run-json.md, reports/schema/run.schema.json). Every other report can be rebuilt from it.

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reports/run_result.hpp"

namespace smtpsim::reports {

// to_json builds the run JSON document of `run`. Transcript bytes that are not readable text
// are stored as base64, so the document is always valid UTF-8 and the bytes survive exactly;
// other text fields with broken UTF-8 get U+FFFD in place of the bad bytes.
nlohmann::json to_json(const run_result& run);

// to_json_text is the text write_run_json writes: to_json with the fields in documentation order
// (not sorted), indented by two spaces, ending in a newline.
std::string to_json_text(const run_result& run);

// write_run_json writes to_json_text(run) to `path` atomically (a reader never sees half a
// file). Throws std::runtime_error naming `path` if it cannot.
void write_run_json(const run_result& run, const std::filesystem::path& path);

// read_run_json reads a run JSON file written by any 1.x version of smtpsim. Throws
// std::runtime_error naming the file and, for a bad field, its JSON pointer: e.g.
// "out/run.json: /cases/3/verdict: expected one of PASS, FAIL, ...". Unknown fields are errors,
// unless the file's minor schema version is newer than ours (docs/run-json.md "Versioning").
run_result read_run_json(const std::filesystem::path& path);

// parse_run_json is read_run_json for a document already parsed; `source` names it in errors.
run_result parse_run_json(const nlohmann::json& doc, std::string_view source);

}  // namespace smtpsim::reports
