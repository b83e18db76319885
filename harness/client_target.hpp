#pragma once
// Client targets: the system under test is an SMTP client program that smtpsim starts for each
// client case, with smtpsim playing the server. A client target is that program's command (an
// argv, run without a shell) with placeholders such as {host} {port} {ca_file}, plus the TLS
// policy the client is configured with, in Postfix's smtp_tls_security_level words. It comes
// from a client target file (docs/targets.md, "Client targets") or from --client.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace smtpsim::harness {

// client_policy is what the client claims to enforce (Postfix smtp_tls_security_level):
// none (never STARTTLS), may (opportunistic: STARTTLS when offered, plaintext otherwise),
// encrypt (TLS required, certificate not checked), verify (TLS required, chain checked),
// secure (TLS required, chain and name checked).
enum class client_policy { none, may, encrypt, verify, secure };

// parse_client_policy accepts exactly the five words above; nullopt otherwise.
std::optional<client_policy> parse_client_policy(std::string_view word);
std::string_view to_string(client_policy policy);

struct client_target {
  std::string name;  // shown in reports
  std::string description;
  client_policy policy = client_policy::may;
  bool wrapper = false;  // the client speaks TLS from the first byte (RFC 8314), not STARTTLS
  std::vector<std::string> command;            // argv with placeholders; never run through a shell
  std::chrono::milliseconds timeout{20000};    // per case; then the process group is killed
  unsigned jobs = 0;                           // most cases at once; 0 = no limit
  std::set<std::string> capabilities;          // e.g. "auth", "client_cert"
  std::vector<std::string> requires_programs;  // the target is skipped unless all are in PATH
  // setup and teardown are argvs run once before / after the run; they may use every
  // placeholder except the per-case ones ({port} {from} {to} {token} {case_dir}).
  std::vector<std::string> setup, teardown;
  std::map<std::string, std::string> expected_failures;  // case id glob -> reason
  std::filesystem::path file;                            // empty for --client
};

// load_client_target_file reads a client target file: a JSON object with "kind": "client".
// Unknown fields are errors; a "./" at the start of a word of command, setup or teardown is
// replaced by the target file's folder (absolute). Throws config_error naming the file, the
// JSON pointer and line:column.
client_target load_client_target_file(const std::filesystem::path& file);

// client_target_from_cli builds the target of `--client 'ARGV...'` (split_command) with the
// given policy, mode, per-case timeout and capabilities. Its name is argv[0]'s file name.
// Throws config_error (file "--client").
client_target client_target_from_cli(const std::string& command, client_policy policy, bool wrapper,
                                     std::chrono::milliseconds timeout,
                                     std::set<std::string> capabilities);

// split_command splits a command line into words the way a POSIX shell does, and nothing more:
// blanks separate words; '...' quotes literally; "..." quotes with \ escaping $ ` " \ and
// newline; \ outside quotes escapes the next character. There is no expansion and no
// globbing, so shell syntax that would do something else is an error rather than a surprise:
// | ; & < > ( ) ` and $NAME $( ${ outside single quotes. An unterminated quote is an error too.
// Throws config_error with file "--client" and the column of the problem.
std::vector<std::string> split_command(std::string_view command);

// placeholder_values are what the harness substitutes into a client command.
struct placeholder_values {
  // Default initializers let designated initializers leave any out.
  std::string host{}, port{}, server_name{}, ca_file{}, cert_file{}, key_file{}, auth_user{},
      auth_password{}, from{}, to{}, token{}, case_dir{}, run_dir{}, source_dir{};
};

// fill_placeholders replaces {host} {port} {server_name} {ca_file} {cert_file} {key_file}
// {auth_user} {auth_password} {from} {to} {token} {case_dir} {run_dir} {source_dir} anywhere in
// each word; {{ and }} are literal braces. Throws std::invalid_argument for an unknown
// {name} (naming it) or an unmatched brace.
std::vector<std::string> fill_placeholders(const std::vector<std::string>& argv,
                                           const placeholder_values& values);

// expand_braces does the placeholder syntax of one word for any set of names: each {name} is
// replaced by value(name), {{ and }} are literal braces. Throws std::invalid_argument for an
// unmatched brace; value() may throw std::invalid_argument for a name it does not know.
std::string expand_braces(std::string_view word,
                          const std::function<std::string(std::string_view)>& value);

// check_placeholders checks every word of command, setup and teardown (setup and teardown may
// not use per-case placeholders). Throws config_error naming t.file (or "--client") and the
// JSON pointer of the word, e.g. "/command/3"; the file loader adds line:column.
void check_placeholders(const client_target& t);

// missing_programs lists requires_programs entries that find_program cannot find.
std::vector<std::string> missing_programs(const client_target& t);

}  // namespace smtpsim::harness
