#include "harness/target.hpp"

#include <array>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "simulator/tls/base64.hpp"

#include "harness/client_target.hpp"
#include "harness/json_locator.hpp"
#include "harness/scenario_loader.hpp"

namespace smtpsim::harness {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void url_error(const std::string& where, std::string_view url,
                            const std::string& why) {
  throw config_error(where, "", text_position{},
                     fmt::format("bad target URL \"{}\": {} (expected smtp://HOST:PORT or "
                                 "smtps://HOST:PORT)",
                                 url, why));
}

void add_listener(server_target& t, const std::string& name, const std::string& url,
                  const listener_url& u) {
  t.listeners[name] = engine::endpoint{u.host, u.port};
  t.listener_urls[name] = url;
}

}  // namespace

bool is_target_url(std::string_view text) {
  return text.rfind("smtp://", 0) == 0 || text.rfind("smtps://", 0) == 0;
}

listener_url parse_listener_url(std::string_view url, const std::string& where) {
  listener_url u;
  std::string_view rest;
  if (url.rfind("smtps://", 0) == 0) {
    u.implicit_tls = true;
    rest = url.substr(8);
  } else if (url.rfind("smtp://", 0) == 0) {
    rest = url.substr(7);
  } else {
    url_error(where, url, "unknown scheme");
  }
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      url_error(where, url, "unclosed '[' around an IPv6 address");
    }
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      url_error(where, url, "a port is required");
    }
    port = rest.substr(1);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      url_error(where, url, "a port is required");
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (!port.empty() && port.back() == '/') {
    port.remove_suffix(1);
  }
  if (host.empty()) {
    url_error(where, url, "a host is required");
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    url_error(where, url, "the port must be a number");
  }
  const unsigned long p = std::stoul(std::string(port));
  if (p == 0 || p > 65535) {
    url_error(where, url, "the port must be 1-65535");
  }
  u.host = std::string(host);
  u.port = static_cast<std::uint16_t>(p);
  return u;
}

server_target target_from_urls(const std::vector<std::string>& urls) {
  server_target t;
  t.kind = "url";
  for (const auto& url : urls) {
    const listener_url u = parse_listener_url(url);
    const std::string name = u.implicit_tls ? "wrapper" : "starttls";
    if (t.listeners.count(name) != 0) {
      throw config_error(
          "--target", "", text_position{},
          fmt::format("two {} URLs given ({} and {}); use a target file to name "
                      "more listeners",
                      u.implicit_tls ? "smtps://" : "smtp://", t.listener_urls[name], url));
    }
    add_listener(t, name, url, u);
    t.name += (t.name.empty() ? "" : " ") + url;
    if (t.server_name.empty()) {
      t.server_name = u.host;
    }
  }
  return t;
}

namespace {

// listener_port_form says how a target file's listener URL gives its port.
struct listener_port_form {
  enum class kind { fixed, allocated, alias } k = kind::fixed;
  std::string alias_of;  // for kind::alias: the listener whose port is shared
  std::string url;       // the URL to parse for scheme and host (with a dummy port if needed)
};

// port_form_of tells "smtp://HOST:PORT" (fixed) from "smtp://HOST" (the harness allocates the
// port) and "smtp://HOST:{port:OTHER}" (the port of listener OTHER).
listener_port_form port_form_of(const std::string& url) {
  listener_port_form f;
  f.url = url;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return f;  // parse_listener_url reports it
  }
  std::string_view rest = std::string_view(url).substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  std::size_t port_at = std::string_view::npos;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close != std::string_view::npos && close + 1 < rest.size() && rest[close + 1] == ':') {
      port_at = close + 2;
    } else if (close == std::string_view::npos || close + 1 != rest.size()) {
      return f;
    }
  } else {
    const std::size_t brace = rest.find(":{");
    const std::size_t colon = brace != std::string_view::npos ? brace : rest.rfind(':');
    if (colon != std::string_view::npos) {
      port_at = colon + 1;
    }
  }
  const std::string base =
      url.substr(0, scheme_end + 3) +
      std::string(port_at == std::string_view::npos ? rest : rest.substr(0, port_at - 1));
  if (port_at == std::string_view::npos) {
    f.k = listener_port_form::kind::allocated;
    f.url = base + ":1";
    return f;
  }
  const std::string_view port = rest.substr(port_at);
  if (port.size() > 7 && port.substr(0, 6) == "{port:" && port.back() == '}') {
    f.k = listener_port_form::kind::alias;
    f.alias_of = std::string(port.substr(6, port.size() - 7));
    f.url = base + ":1";
  }
  return f;
}

constexpr std::array<std::string_view, 5> server_placeholder_names{
    "instance_dir", "pki_dir", "sink_port", "source_dir", "run_dir"};

std::string known_server_placeholders() {
  std::string list;
  for (auto n : server_placeholder_names) {
    list += (list.empty() ? "{" : ", {") + std::string(n) + "}";
  }
  return list + ", {port:NAME}";
}

}  // namespace

std::vector<std::string> fill_server_placeholders(const std::vector<std::string>& argv,
                                                  const server_placeholder_values& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& word : argv) {
    out.push_back(expand_braces(word, [&](std::string_view name) -> std::string {
      if (name.substr(0, 5) == "port:") {
        const auto it = values.ports.find(name.substr(5));
        if (it == values.ports.end()) {
          throw std::invalid_argument("{" + std::string(name) + "}: the target declares no " +
                                      "listener \"" + std::string(name.substr(5)) + "\"");
        }
        return it->second;
      }
      if (name == "instance_dir") {
        return values.instance_dir;
      }
      if (name == "pki_dir") {
        return values.pki_dir;
      }
      if (name == "sink_port") {
        return values.sink_port;
      }
      if (name == "source_dir") {
        return values.source_dir;
      }
      if (name == "run_dir") {
        return values.run_dir;
      }
      throw std::invalid_argument("unknown placeholder {" + std::string(name) +
                                  "} (known: " + known_server_placeholders() + ")");
    }));
  }
  return out;
}

server_target load_target_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw config_error(file.string(), "", text_position{}, "cannot read the target file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::string fname = file.string();
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw config_error(fname, "", position_of_offset(text, e.byte > 0 ? e.byte - 1 : 0),
                       std::string("invalid JSON: ") + e.what());
  } catch (const json::out_of_range& e) {
    // A number too large for a double; nlohmann says which, not where.
    throw config_error(fname, "", position_of_offset(text, overflow_offset(e.what(), text)),
                       std::string("invalid JSON: ") + e.what());
  }
  const json_locator loc(text);
  auto fail = [&](const std::string& ptr, const std::string& msg, bool key = false) {
    throw config_error(fname, ptr, key ? loc.key_position(ptr) : loc.value_position(ptr), msg);
  };
  if (!loc.duplicate_keys().empty()) {
    const auto& d = loc.duplicate_keys().front();
    throw config_error(fname, d.pointer, d.where, "duplicate field");
  }
  auto check_fields = [&](const json& j, const std::string& ptr,
                          std::initializer_list<std::string_view> allowed) {
    if (!j.is_object()) {
      fail(ptr, "expected an object");
    }
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) {
          list += (list.empty() ? "" : ", ") + std::string(a);
        }
        fail(ptr + "/" + escape_pointer_token(key),
             fmt::format("unknown field \"{}\" (allowed here: {})", key, list), true);
      }
    }
  };
  auto str = [&](const json& j, const std::string& ptr) {
    if (!j.is_string()) {
      fail(ptr, "expected a string");
    }
    return j.get<std::string>();
  };
  auto non_empty_str = [&](const json& j, const std::string& ptr) {
    std::string v = str(j, ptr);
    if (v.empty()) {
      fail(ptr, "must not be empty");
    }
    return v;
  };
  check_fields(doc, "",
               {"$schema", "kind", "name", "description", "listeners", "traits", "vars", "tls",
                "setup", "teardown", "setup_timeout_ms", "ready_timeout_ms", "teardown_timeout_ms",
                "sink", "requires_programs", "expected_failures"});
  if (doc.contains("kind") && str(doc["kind"], "/kind") != "server") {
    fail("/kind", "a server target file has \"kind\": \"server\" (or no kind)");
  }
  server_target t;
  t.kind = "file";
  t.file = file;
  t.name = doc.contains("name") ? str(doc["name"], "/name") : file.stem().string();
  if (doc.contains("description")) {
    t.description = str(doc["description"], "/description");
  }
  const fs::path folder = fs::absolute(file).parent_path();
  auto argv_field = [&](const std::string& field) {
    const std::string ptr = "/" + field;
    const json& a = doc[field];
    if (!a.is_array() || a.empty()) {
      fail(ptr, "expected a non-empty array of strings (program and arguments)");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string p = ptr + "/" + std::to_string(i);
      std::string word = i == 0 ? non_empty_str(a[i], p) : str(a[i], p);
      if (word.rfind("./", 0) == 0) {
        word = (folder / word.substr(2)).lexically_normal().string();
      }
      out.push_back(std::move(word));
    }
    return out;
  };
  auto millis = [&](const std::string& field, std::chrono::milliseconds& to) {
    if (!doc.contains(field)) {
      return;
    }
    const json& j = doc[field];
    if (!j.is_number_unsigned() || j.get<std::uint64_t>() < 1 ||
        j.get<std::uint64_t>() > 3'600'000) {
      fail("/" + field, "expected a whole number of milliseconds from 1 to 3600000");
    }
    to = std::chrono::milliseconds(j.get<std::uint64_t>());
  };
  if (doc.contains("setup")) {
    t.setup = argv_field("setup");
  }
  if (doc.contains("teardown")) {
    t.teardown = argv_field("teardown");
  }
  millis("setup_timeout_ms", t.setup_timeout);
  millis("ready_timeout_ms", t.ready_timeout);
  millis("teardown_timeout_ms", t.teardown_timeout);
  if (doc.contains("sink")) {
    if (!doc["sink"].is_boolean()) {
      fail("/sink", "expected true or false");
    }
    t.sink = doc["sink"].get<bool>();
  }
  if (!doc.contains("listeners")) {
    fail("", "missing required field \"listeners\"");
  }
  const json& ls = doc["listeners"];
  if (!ls.is_object() || ls.empty()) {
    fail("/listeners", "expected an object mapping listener names to smtp:// or smtps:// URLs");
  }
  static const std::regex name_re("^[a-z][a-z0-9_]*$");
  for (const auto& [name, value] : ls.items()) {
    const std::string ptr = "/listeners/" + escape_pointer_token(name);
    if (!std::regex_match(name, name_re)) {
      fail(ptr, "a listener name is lower-case letters, digits and '_'", true);
    }
    const std::string url = str(value, ptr);
    const listener_port_form form = port_form_of(url);
    listener_url u;
    try {
      u = parse_listener_url(form.url, fname);
    } catch (const config_error& e) {
      fail(ptr, e.message());
    }
    if ((name == "wrapper") != u.implicit_tls) {
      fail(ptr, name == "wrapper"
                    ? "listener \"wrapper\" speaks TLS from the first byte: use smtps://"
                    : "listener \"" + name + "\" starts in plaintext: use smtp://");
    }
    if (form.k != listener_port_form::kind::fixed && t.setup.empty()) {
      fail(ptr, form.k == listener_port_form::kind::allocated
                    ? "no port: the harness picks one only for a target it starts (give "
                      "\"setup\", which gets it as {port:" +
                          name + "}), else write smtp://HOST:PORT"
                    : "a {port:NAME} port is only for a target the harness starts (give "
                      "\"setup\")");
    }
    if (form.k == listener_port_form::kind::allocated) {
      u.port = 0;
      t.allocated_ports.insert(name);
    } else if (form.k == listener_port_form::kind::alias) {
      u.port = 0;
      t.port_aliases[name] = form.alias_of;
    }
    add_listener(t, name, url, u);
  }
  for (const auto& [name, other] : t.port_aliases) {
    const std::string ptr = "/listeners/" + escape_pointer_token(name);
    if (t.listeners.count(other) == 0 || other == name) {
      fail(ptr, fmt::format("{{port:{}}}: no other listener \"{}\" is declared", other, other));
    }
    if (t.port_aliases.count(other) != 0) {
      fail(ptr, fmt::format("{{port:{}}}: listener \"{}\" takes its port from another one itself; "
                            "name the listener that owns the port",
                            other, other));
    }
    t.listeners[name].port = t.listeners[other].port;  // 0 when allocated: set at run time
  }
  if (doc.contains("traits")) {
    const json& tr = doc["traits"];
    if (!tr.is_array()) {
      fail("/traits", "expected an array of trait names");
    }
    for (std::size_t i = 0; i < tr.size(); ++i) {
      const std::string ptr = "/traits/" + std::to_string(i);
      const std::string trait = str(tr[i], ptr);
      if (!std::regex_match(trait, name_re)) {
        fail(ptr, "a trait name is lower-case letters, digits and '_'");
      }
      if (trait == "sink" && !t.sink) {
        fail(ptr,
             "the trait \"sink\" comes with \"sink\": true (the harness's capture server); a "
             "target cannot claim it otherwise");
      }
      t.traits.insert(trait);
    }
  }
  if (t.sink) {
    t.traits.insert("sink");
  }
  if (doc.contains("vars")) {
    const json& v = doc["vars"];
    if (!v.is_object()) {
      fail("/vars", "expected an object of strings");
    }
    for (const auto& [key, value] : v.items()) {
      t.vars[key] = str(value, "/vars/" + escape_pointer_token(key));
    }
  }
  if (doc.contains("tls")) {
    const json& tl = doc["tls"];
    check_fields(tl, "/tls", {"server_name", "ca_file"});
    if (tl.contains("server_name")) {
      t.server_name = str(tl["server_name"], "/tls/server_name");
    }
    if (tl.contains("ca_file")) {
      std::filesystem::path ca = str(tl["ca_file"], "/tls/ca_file");
      if (ca.is_relative()) {
        ca = file.parent_path() / ca;
      }
      std::ifstream cin(ca, std::ios::binary);
      if (!cin) {
        fail("/tls/ca_file", "cannot read " + ca.string());
      }
      std::ostringstream cs;
      cs << cin.rdbuf();
      t.trust_pem = cs.str();
    }
  }
  if (doc.contains("requires_programs")) {
    const json& rp = doc["requires_programs"];
    if (!rp.is_array()) {
      fail("/requires_programs", "expected an array of program names");
    }
    for (std::size_t i = 0; i < rp.size(); ++i) {
      t.requires_programs.push_back(
          non_empty_str(rp[i], "/requires_programs/" + std::to_string(i)));
    }
  }
  if (doc.contains("expected_failures")) {
    const json& xf = doc["expected_failures"];
    if (!xf.is_object()) {
      fail("/expected_failures", "expected an object mapping case id globs to reasons");
    }
    for (const auto& [glob, reason] : xf.items()) {
      const std::string ptr = "/expected_failures/" + escape_pointer_token(glob);
      if (glob.empty()) {
        fail(ptr, "a case id glob must not be empty", true);
      }
      t.expected_failures[glob] = non_empty_str(reason, ptr);
    }
  }
  if (!t.teardown.empty() && t.setup.empty()) {
    fail("/teardown", "a teardown needs a setup (it undoes what the setup started)");
  }
  // Placeholders: checked now, so that typos never reach a run.
  server_placeholder_values probe;
  for (const auto& [name, ep] : t.listeners) {
    probe.ports[name] = "1";
  }
  for (const char* field : {"setup", "teardown"}) {
    const auto& argv = std::string_view(field) == "setup" ? t.setup : t.teardown;
    for (std::size_t i = 0; i < argv.size(); ++i) {
      const std::string ptr = fmt::format("/{}/{}", field, i);
      try {
        fill_server_placeholders({argv[i]}, probe);
      } catch (const std::invalid_argument& e) {
        fail(ptr, e.what());
      }
      if (!t.sink && argv[i].find("{sink_port}") != std::string::npos) {
        fail(ptr, "{sink_port} is the harness's capture server: it needs \"sink\": true");
      }
    }
  }
  if (t.server_name.empty() && !t.listeners.empty()) {
    t.server_name = t.listeners.begin()->second.host;
  }
  return t;
}

void add_derived_vars(script::bindings& vars) {
  auto user = vars.find("auth_user");
  auto pass = vars.find("auth_password");
  if (user != vars.end() && pass != vars.end() && vars.count("auth_plain") == 0) {
    // RFC 4616: [authzid] NUL authcid NUL passwd
    vars["auth_plain"] = tls::base64_encode(std::string(1, '\0') + user->second +
                                            std::string(1, '\0') + pass->second);
  }
  auto rcpt = vars.find("local_rcpt");
  if (rcpt != vars.end() && vars.count("local_domain") == 0) {
    const std::size_t at = rcpt->second.rfind('@');
    if (at != std::string::npos) {
      vars["local_domain"] = rcpt->second.substr(at + 1);
    }
  }
}

void apply_overrides(server_target& t, const std::vector<std::string>& vars,
                     const std::vector<std::string>& traits) {
  for (const auto& kv : vars) {
    const std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw config_error("--var", "", text_position{}, fmt::format("\"{}\" is not NAME=VALUE", kv));
    }
    t.vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& tr : traits) {
    t.traits.insert(tr);
  }
}

}  // namespace smtpsim::harness
