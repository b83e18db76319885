#pragma once
// Test data and helpers for the reports tests: a realistic run (every verdict, two targets, TLS
// facts, binary transcript bytes) and small wrappers for files and external validators.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "reports/run_result.hpp"

namespace smtpsim::reports::testing {

// make_sample_run builds a run against two targets with every verdict at least once, TLS
// sessions with peer chains, transcripts with NUL, 8-bit and invalid UTF-8 bytes, XML-illegal
// control characters and Markdown/XML metacharacters in reasons, and a truncated transcript.
// All free-text fields are valid UTF-8, so a JSON round trip must reproduce it exactly.
run_result make_sample_run();

// make_case builds one case of `target` with `v` and a short transcript; tests change the rest.
case_result make_case(std::string case_id, script::verdict v, std::string target = "reference");

// all_byte_values holds the octets 0x00 to 0xFF in order.
std::string all_byte_values();

// scratch_dir is a fresh folder under the system temp folder, removed with its content.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct command_result {
  int exit_code = -1;  // the command's exit status; -1 if it did not exit normally
  std::string output;  // stdout and stderr together
};

// run_command runs `command` with /bin/sh and collects its output.
command_result run_command(const std::string& command);

// shell_quote quotes `text` as one word for /bin/sh.
std::string shell_quote(std::string_view text);

// source_dir is $SMTPSIM_SOURCE_DIR, set by smtpsim_add_test; it is where the schema files are.
std::filesystem::path source_dir();

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, std::string_view content);

}  // namespace smtpsim::reports::testing
