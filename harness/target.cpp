#include "harness/target.hpp"

#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "simulator/tls/base64.hpp"

#include "harness/json_locator.hpp"
#include "harness/scenario_loader.hpp"

namespace smtpsim::harness {

using nlohmann::json;

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
  check_fields(doc, "", {"$schema", "name", "description", "listeners", "traits", "vars", "tls"});
  server_target t;
  t.kind = "file";
  t.name = doc.contains("name") ? str(doc["name"], "/name") : file.stem().string();
  if (doc.contains("description")) {
    t.description = str(doc["description"], "/description");
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
    listener_url u;
    try {
      u = parse_listener_url(url, fname);
    } catch (const config_error& e) {
      fail(ptr, e.message());
    }
    if ((name == "wrapper") != u.implicit_tls) {
      fail(ptr, name == "wrapper"
                    ? "listener \"wrapper\" speaks TLS from the first byte: use smtps://"
                    : "listener \"" + name + "\" starts in plaintext: use smtp://");
    }
    add_listener(t, name, url, u);
  }
  if (doc.contains("traits")) {
    const json& tr = doc["traits"];
    if (!tr.is_array()) {
      fail("/traits", "expected an array of trait names");
    }
    for (std::size_t i = 0; i < tr.size(); ++i) {
      t.traits.insert(str(tr[i], "/traits/" + std::to_string(i)));
    }
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
