#pragma once
// Targets: what is under test. A server target is a set of named listeners (starttls, wrapper,
// tls_required, ...), the traits it declares (public_mx, sink), the values scenarios need
// (${local_rcpt}, ${auth_user}, ...) and TLS facts (the name to send as SNI, a CA to check the
// chain against). It comes from URLs on the command line, from a target file, or is the
// built-in reference server (harness/reference_target.hpp).

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/engine/client_engine.hpp"
#include "simulator/script/scenario.hpp"

namespace smtpsim::harness {

struct server_target {
  std::string name;  // shown in reports
  std::string kind;  // "reference" | "url" | "file"
  std::string description;
  std::map<std::string, engine::endpoint, std::less<>> listeners;
  std::map<std::string, std::string> listener_urls;  // for reports
  std::set<std::string, std::less<>> traits;
  script::bindings vars;
  std::string server_name;  // SNI sent in handshakes; "" = none
  std::string trust_pem;    // CA certificates the server chain is checked against (recorded only)

  // Target files may describe a server the harness starts itself (docs/targets.md, "Server
  // targets"): setup and teardown run once around the run, with placeholders ({instance_dir},
  // {pki_dir}, {sink_port}, {port:NAME}, {source_dir}, {run_dir}); "./" at the start of a word
  // is the target file's folder.
  std::vector<std::string> setup, teardown;
  std::chrono::milliseconds setup_timeout{120000};    // setup must exit within this
  std::chrono::milliseconds ready_timeout{30000};     // then every listener must accept
  std::chrono::milliseconds teardown_timeout{60000};  // teardown must exit within this
  bool sink = false;  // the harness runs a capture SMTP server on {sink_port} (trait "sink")
  // allocated_ports: listeners whose port the harness picks (no port in the file's URL);
  // port_aliases: listener -> the listener whose port it shares ("smtp://HOST:{port:OTHER}").
  std::set<std::string, std::less<>> allocated_ports;
  std::map<std::string, std::string, std::less<>> port_aliases;
  std::vector<std::string> requires_programs;            // missing: every case is a SKIP
  std::map<std::string, std::string> expected_failures;  // case id glob -> reason
  std::filesystem::path file;                            // the target file, if any

  // started is true when the harness starts the target (it has a setup or a sink).
  bool started() const { return !setup.empty() || sink; }
};

// server_placeholder_values are what the harness substitutes into a server target's setup and
// teardown.
struct server_placeholder_values {
  std::string instance_dir, pki_dir, sink_port, source_dir, run_dir;
  std::map<std::string, std::string, std::less<>> ports;  // listener name -> port
};

// fill_server_placeholders expands {instance_dir} {pki_dir} {sink_port} {port:NAME}
// {source_dir} {run_dir} in each word ({{ and }} are literal braces). Throws
// std::invalid_argument naming an unknown placeholder or listener.
std::vector<std::string> fill_server_placeholders(const std::vector<std::string>& argv,
                                                  const server_placeholder_values& values);

// listener_url is "smtp://host:port" (plaintext first; STARTTLS) or "smtps://host:port" (TLS from
// the first byte, RFC 8314). IPv6 hosts go in brackets: smtp://[::1]:2525.
struct listener_url {
  bool implicit_tls = false;
  std::string host;
  std::uint16_t port = 0;
};

// parse_listener_url throws config_error (file "<command line>") on a malformed URL.
listener_url parse_listener_url(std::string_view url, const std::string& where = "--target");

// target_from_urls builds one target from URLs given with --target: smtp:// becomes listener
// "starttls", smtps:// listener "wrapper". Throws config_error.
server_target target_from_urls(const std::vector<std::string>& urls);

// load_target_file reads a target file (docs/targets.md). Throws config_error with file,
// JSON pointer and line:column.
server_target load_target_file(const std::filesystem::path& file);

// is_target_url tells a --target URL from a target file path.
bool is_target_url(std::string_view text);

// add_derived_vars adds the values the harness computes from the target's: auth_plain (the
// RFC 4616 PLAIN response, base64) when auth_user and auth_password are set, and local_domain
// from local_rcpt.
void add_derived_vars(script::bindings& vars);

// apply_overrides adds --var NAME=VALUE and --trait NAME settings to a target.
void apply_overrides(server_target& t, const std::vector<std::string>& vars,
                     const std::vector<std::string>& traits);

}  // namespace smtpsim::harness
