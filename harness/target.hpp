#pragma once
// Targets: what is under test. A server target is a set of named listeners (starttls, wrapper,
// tls_required, ...), the traits it declares (public_mx, sink), the values scenarios need
// (${local_rcpt}, ${auth_user}, ...) and TLS facts (the name to send as SNI, a CA to check the
// chain against). It comes from URLs on the command line, from a target file, or is the
// built-in reference server (harness/reference_target.hpp).

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
};

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
