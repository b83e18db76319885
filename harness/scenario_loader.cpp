#include "harness/scenario_loader.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "simulator/protocol/grammar_fuzz.hpp"

namespace smtpsim::harness {

namespace fs = std::filesystem;
using nlohmann::json;
using script::byte_part;
using script::match_kind;
using script::outcome;
using script::step;
using script::step_kind;

config_error::config_error(std::string file, std::string pointer, text_position where,
                           std::string message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}{}", file, where.line, where.column,
                                     pointer.empty() ? "" : pointer + ": ", message)),
      file_(std::move(file)),
      pointer_(std::move(pointer)),
      where_(where),
      message_(std::move(message)) {}

namespace {

// reader walks a parsed document and throws config_error with positions.
class reader {
 public:
  reader(std::string file, std::string_view text) : file_(std::move(file)), locator_(text) {}

  [[noreturn]] void fail(const std::string& pointer, const std::string& message,
                         bool at_key = false) const {
    throw config_error(file_, pointer,
                       at_key ? locator_.key_position(pointer) : locator_.value_position(pointer),
                       message);
  }

  void check_duplicates() const {
    if (!locator_.duplicate_keys().empty()) {
      const auto& d = locator_.duplicate_keys().front();
      throw config_error(file_, d.pointer, d.where, "duplicate field");
    }
  }

  // expect_object checks that `j` is an object whose fields are all in `allowed`.
  void expect_object(const json& j, const std::string& ptr,
                     std::initializer_list<std::string_view> allowed) const {
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
  }

  std::string string_at(const json& j, const std::string& ptr) const {
    if (!j.is_string()) {
      fail(ptr, "expected a string");
    }
    return j.get<std::string>();
  }

  std::string required_string(const json& obj, const std::string& ptr, const char* key) const {
    if (!obj.contains(key)) {
      fail(ptr, fmt::format("missing required field \"{}\"", key));
    }
    std::string s = string_at(obj.at(key), ptr + "/" + key);
    if (s.empty()) {
      fail(ptr + "/" + key, "must not be empty");
    }
    return s;
  }

  std::vector<std::string> string_list(const json& j, const std::string& ptr,
                                       bool allow_single = false) const {
    std::vector<std::string> out;
    if (allow_single && j.is_string()) {
      out.push_back(j.get<std::string>());
      return out;
    }
    if (!j.is_array()) {
      fail(ptr, allow_single ? "expected a string or an array of strings"
                             : "expected an array of strings");
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      out.push_back(string_at(j[i], ptr + "/" + std::to_string(i)));
    }
    return out;
  }

  std::uint64_t positive_integer(const json& j, const std::string& ptr, std::uint64_t max) const {
    if (!j.is_number_unsigned() || j.get<std::uint64_t>() == 0 || j.get<std::uint64_t>() > max) {
      fail(ptr, fmt::format("expected an integer from 1 to {}", max));
    }
    return j.get<std::uint64_t>();
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  json_locator locator_;
};

const std::regex& id_pattern() {
  static const std::regex re("^(c\\.)?[a-z0-9]+(\\.[a-z0-9]+(-[a-z0-9]+)*)+$");
  return re;
}

const std::regex& name_pattern() {
  static const std::regex re("^[a-z0-9]+([.-][a-z0-9]+)*$");
  return re;
}

bool valid_code_pattern(const std::string& p) {
  return p.size() == 3 && p[0] >= '2' && p[0] <= '5' &&
         std::all_of(p.begin() + 1, p.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == 'x'; });
}

bool valid_esc_pattern(const std::string& p) {
  static const std::regex re("^[245x]\\.([0-9]{1,3}|x)\\.([0-9]{1,3}|x)$");
  return std::regex_match(p, re);
}

bool valid_tls_version(const std::string& v) {
  return v == "1.0" || v == "1.1" || v == "1.2" || v == "1.3";
}

std::optional<std::string> decode_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') {
        return c - '0';
      }
      if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
      }
      if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
      }
      return -1;
    };
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

constexpr std::uint64_t max_timeout_ms = 600000;
constexpr std::uint64_t max_repeat = 1000000;
// max_read_count bounds read_reply's "count": a pipelined group of commands, not a flood.
constexpr std::uint64_t max_read_count = 1000;
// A fuzz step's lines are bounded like every request loop; seeds are JSON-safe integers.
constexpr std::uint64_t max_fuzz_lines = 100000;
constexpr std::uint64_t max_fuzz_seed = (std::uint64_t{1} << 53U) - 1;

class scenario_parser {
 public:
  scenario_parser(std::string_view text, const std::string& file) : r_(file, text), text_(text) {}

  script::scenario parse() {
    json doc;
    try {
      doc = json::parse(text_);
    } catch (const json::parse_error& e) {
      const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
      // nlohmann's message starts with "[json.exception.parse_error.101] parse error at line..";
      // keep the part after the last ": " which says what was wrong.
      std::string what = e.what();
      const std::size_t colon = what.rfind(": ");
      throw config_error(
          r_.file(), "", position_of_offset(text_, offset),
          "invalid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    } catch (const json::out_of_range& e) {
      // A number too large for a double; nlohmann says which, not where.
      throw config_error(r_.file(), "", position_of_offset(text_, overflow_offset(e.what(), text_)),
                         std::string("invalid JSON: ") + e.what());
    }
    r_.check_duplicates();
    if (doc.is_object() && doc.contains("role") && doc["role"] == "client") {
      r_.expect_object(
          doc, "",
          {"$schema", "id", "title", "description", "role", "level", "references", "tags",
           "requires", "variants", "policies", "wrapper", "server", "rules", "otherwise"});
    } else {
      r_.expect_object(doc, "",
                       {"$schema", "id", "title", "description", "role", "level", "references",
                        "tags", "requires", "variants", "steps"});
    }
    script::scenario sc;
    sc.file = r_.file();
    sc.id = r_.required_string(doc, "", "id");
    if (!std::regex_match(sc.id, id_pattern())) {
      r_.fail("/id",
              "an id is lower-case words joined by '.' and '-', e.g. "
              "\"starttls.ready-220\" (client checks start with \"c.\")");
    }
    sc.title = r_.required_string(doc, "", "title");
    if (doc.contains("description")) {
      sc.description = r_.string_at(doc["description"], "/description");
    }
    const std::string role = r_.required_string(doc, "", "role");
    if (role == "server") {
      sc.role = script::sut_role::server;
    } else if (role == "client") {
      sc.role = script::sut_role::client;
    } else {
      r_.fail("/role", "expected \"server\" (the target is a server) or \"client\"");
    }
    if (sc.role == script::sut_role::server && sc.id.rfind("c.", 0) == 0) {
      r_.fail("/id", "ids starting with \"c.\" are client checks; this scenario has role server");
    }
    if (sc.role == script::sut_role::client) {
      if (sc.id.rfind("c.", 0) != 0) {
        r_.fail("/id", "a client check's id starts with \"c.\", e.g. \"c.starttls.exact-command\"");
      }
      parse_client(doc, sc);
      return sc;
    }
    parse_common_tail(doc, sc);
    if (doc.contains("requires")) {
      sc.requires_traits = r_.string_list(doc["requires"], "/requires");
      for (std::size_t i = 0; i < sc.requires_traits.size(); ++i) {
        if (!std::regex_match(sc.requires_traits[i], std::regex("^[a-z][a-z0-9_]*$"))) {
          r_.fail("/requires/" + std::to_string(i),
                  "a trait name is lower-case letters, digits and '_', e.g. \"public_mx\"");
        }
      }
    }
    if (doc.contains("variants")) {
      parse_variants(doc["variants"], sc);
    }
    if (!doc.contains("steps")) {
      r_.fail("", "missing required field \"steps\"");
    }
    const json& steps = doc["steps"];
    if (!steps.is_array() || steps.empty()) {
      r_.fail("/steps", "expected a non-empty array of steps");
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
      parse_step(steps[i], "/steps/" + std::to_string(i), sc.steps);
    }
    check_order(sc);
    if (needs_sink_ && std::find(sc.requires_traits.begin(), sc.requires_traits.end(), "sink") ==
                           sc.requires_traits.end()) {
      sc.requires_traits.emplace_back("sink");
    }
    return sc;
  }

 private:
  // ---- client-role scenarios (we play the server; client_judge.hpp) ----

  // upper_words upper-cases verbs: the record holds them upper-cased.
  static std::vector<std::string> upper_words(std::vector<std::string> words) {
    for (auto& w : words) {
      std::transform(w.begin(), w.end(), w.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    }
    return words;
  }

  void parse_common_tail(const json& doc, script::scenario& sc) {
    const std::string lvl = r_.required_string(doc, "", "level");
    auto parsed_level = script::parse_level(lvl);
    if (!parsed_level) {
      r_.fail("/level",
              "expected one of MUST, MUST NOT, SHOULD, SHOULD NOT, MAY, DERIVED, IMPL, BCP");
    }
    sc.lvl = *parsed_level;
    if (!doc.contains("references")) {
      r_.fail("", "missing required field \"references\"");
    }
    sc.references = r_.string_list(doc["references"], "/references");
    if (sc.references.empty()) {
      r_.fail("/references", "at least one reference (RFC section, CVE, parameter) is required");
    }
    if (doc.contains("tags")) {
      sc.tags = r_.string_list(doc["tags"], "/tags");
    }
  }

  std::vector<std::string> policy_list(const json& j, const std::string& ptr) {
    auto list = r_.string_list(j, ptr, true);
    if (list.empty()) {
      r_.fail(ptr, "expected at least one policy (leave the field out for every policy)");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& words = script::client_policies();
      if (std::find(words.begin(), words.end(), list[i]) == words.end()) {
        r_.fail(ptr + (j.is_array() ? "/" + std::to_string(i) : std::string()),
                "expected a client policy: none, may, encrypt, verify or secure");
      }
    }
    return list;
  }

  bool bool_at(const json& j, const std::string& ptr) {
    if (!j.is_boolean()) {
      r_.fail(ptr, "expected true or false");
    }
    return j.get<bool>();
  }

  std::chrono::milliseconds ms_at(const json& j, const std::string& ptr) {
    return std::chrono::milliseconds(r_.positive_integer(j, ptr, 120000));
  }

  std::string one_of(const json& j, const std::string& ptr,
                     std::initializer_list<std::string_view> words) {
    std::string v = r_.string_at(j, ptr);
    if (std::find(words.begin(), words.end(), v) == words.end()) {
      std::string list;
      for (auto w : words) {
        list += list.empty() ? "" : ", ";
        list += w;
      }
      r_.fail(ptr, fmt::format("expected one of {}", list));
    }
    return v;
  }

  void parse_client(const json& doc, script::scenario& sc) {
    parse_common_tail(doc, sc);
    if (doc.contains("requires")) {
      sc.requires_capabilities = r_.string_list(doc["requires"], "/requires");
      for (std::size_t i = 0; i < sc.requires_capabilities.size(); ++i) {
        if (!std::regex_match(sc.requires_capabilities[i], std::regex("^[a-z][a-z0-9_]*$"))) {
          r_.fail("/requires/" + std::to_string(i),
                  "a capability name is lower-case letters, digits and '_', e.g. \"auth\"");
        }
      }
    }
    if (doc.contains("policies")) {
      sc.policies = policy_list(doc["policies"], "/policies");
    }
    if (doc.contains("wrapper")) {
      sc.wrapper = bool_at(doc["wrapper"], "/wrapper");
    }
    const json server = doc.contains("server") ? doc["server"] : json::object();
    sc.server = parse_server(server, "/server");
    if (sc.wrapper && *sc.wrapper) {
      sc.server.wrapper = true;
    }
    if (!doc.contains("rules")) {
      r_.fail("", "missing required field \"rules\" (what the client must and must not do)");
    }
    const json& rules = doc["rules"];
    if (!rules.is_array() || rules.empty()) {
      r_.fail("/rules", "expected a non-empty array of rules");
    }
    for (std::size_t i = 0; i < rules.size(); ++i) {
      sc.rules.push_back(parse_rule(rules[i], "/rules/" + std::to_string(i), true));
    }
    if (!doc.contains("otherwise")) {
      r_.fail("", "missing required field \"otherwise\" (the verdict when no rule applies)");
    }
    sc.otherwise = parse_rule(doc["otherwise"], "/otherwise", false);
    if (doc.contains("variants")) {
      const json& vs = doc["variants"];
      if (!vs.is_array() || vs.empty()) {
        r_.fail("/variants", "expected a non-empty array of variants");
      }
      std::set<std::string> names;
      for (std::size_t i = 0; i < vs.size(); ++i) {
        const std::string ptr = "/variants/" + std::to_string(i);
        r_.expect_object(vs[i], ptr, {"name", "server"});
        script::variant v;
        v.name = r_.required_string(vs[i], ptr, "name");
        if (!std::regex_match(v.name, name_pattern())) {
          r_.fail(ptr + "/name", "a variant name is lower-case letters, digits, '.' and '-'");
        }
        if (!names.insert(v.name).second) {
          r_.fail(ptr + "/name", "duplicate variant name");
        }
        if (vs[i].contains("server")) {
          (void)parse_server(vs[i]["server"], ptr + "/server");  // positions of its own errors
          json merged = server;
          merged.merge_patch(vs[i]["server"]);
          v.server = parse_server(merged, ptr + "/server");
          if (sc.wrapper && *sc.wrapper) {
            v.server->wrapper = true;
          }
        }
        sc.variants.push_back(std::move(v));
      }
    }
  }

  script::fake_server_config parse_server(const json& j, const std::string& ptr) {
    r_.expect_object(
        j, ptr,
        {"hostname", "wrapper", "greeting", "greeting_delay_ms", "ehlo", "ehlo_tls", "ehlo_reply",
         "ehlo_tls_reply", "ehlo_delay_ms", "ehlo_tls_delay_ms", "starttls_reply",
         "starttls_delay_ms", "tls", "replies", "reset_after", "auth_challenge"});
    script::fake_server_config c;
    auto text = [&](const char* key, std::string& to) {
      if (j.contains(key)) {
        to = r_.string_at(j[key], ptr + "/" + key);
      }
    };
    auto reply_bytes = [&](const char* key, std::string& to) {
      text(key, to);
      if (j.contains(key) && (to.size() < 5 || to.substr(to.size() - 2) != "\r\n")) {
        r_.fail(ptr + "/" + key, "reply bytes must end with \"\\r\\n\"");
      }
    };
    text("hostname", c.hostname);
    if (c.hostname.empty() || c.hostname.find_first_of(" \r\n") != std::string::npos) {
      r_.fail(ptr + "/hostname", "expected a host name without spaces");
    }
    if (j.contains("wrapper")) {
      c.wrapper = bool_at(j["wrapper"], ptr + "/wrapper");
    }
    reply_bytes("greeting", c.greeting);
    reply_bytes("starttls_reply", c.starttls_reply);
    text("auth_challenge", c.auth_challenge);
    if (j.contains("ehlo")) {
      c.ehlo = r_.string_list(j["ehlo"], ptr + "/ehlo");
    }
    if (j.contains("ehlo_tls")) {
      c.ehlo_tls = r_.string_list(j["ehlo_tls"], ptr + "/ehlo_tls");
    }
    for (const char* key : {"ehlo_reply", "ehlo_tls_reply"}) {
      if (j.contains(key)) {
        std::string v;
        reply_bytes(key, v);
        (std::string_view(key) == "ehlo_reply" ? c.ehlo_reply : c.ehlo_tls_reply) = v;
      }
    }
    if (j.contains("greeting_delay_ms")) {
      c.greeting_delay = ms_at(j["greeting_delay_ms"], ptr + "/greeting_delay_ms");
    }
    if (j.contains("ehlo_delay_ms")) {
      c.ehlo_delay = ms_at(j["ehlo_delay_ms"], ptr + "/ehlo_delay_ms");
    }
    if (j.contains("ehlo_tls_delay_ms")) {
      c.ehlo_tls_delay = ms_at(j["ehlo_tls_delay_ms"], ptr + "/ehlo_tls_delay_ms");
    }
    if (j.contains("starttls_delay_ms")) {
      c.starttls_delay = ms_at(j["starttls_delay_ms"], ptr + "/starttls_delay_ms");
    }
    if (j.contains("replies")) {
      const json& rs = j["replies"];
      if (!rs.is_object()) {
        r_.fail(ptr + "/replies", "expected an object: \"VERB\" or \"tls:VERB\" -> reply bytes");
      }
      for (const auto& [key, value] : rs.items()) {
        const std::string kp = ptr + "/replies/" + escape_pointer_token(key);
        if (!std::regex_match(key, std::regex("^((plain|tls):)?[A-Z]+$"))) {
          r_.fail(kp,
                  "a key is an upper-case verb, optionally prefixed \"plain:\" or \"tls:\" "
                  "(\"END\" is the reply to the end of DATA)",
                  true);
        }
        std::string v = r_.string_at(value, kp);
        if (v.size() < 5 || v.substr(v.size() - 2) != "\r\n") {
          r_.fail(kp, "reply bytes must end with \"\\r\\n\"");
        }
        c.replies[key] = v;
      }
    }
    if (j.contains("reset_after")) {
      c.reset_after = r_.string_list(j["reset_after"], ptr + "/reset_after", true);
      for (std::size_t i = 0; i < c.reset_after.size(); ++i) {
        if (!std::regex_match(c.reset_after[i], std::regex("^((plain|tls):)?[A-Z]+$"))) {
          r_.fail(
              ptr + "/reset_after" + (j["reset_after"].is_array() ? "/" + std::to_string(i) : ""),
              "expected an upper-case verb, optionally prefixed \"plain:\" or \"tls:\"");
        }
      }
    }
    if (j.contains("tls")) {
      const json& t = j["tls"];
      const std::string tp = ptr + "/tls";
      r_.expect_object(t, tp,
                       {"certificate", "request_client_cert", "min_version", "max_version",
                        "ciphers", "fault", "fault_bytes"});
      if (t.contains("certificate")) {
        auto cert = script::parse_server_cert(r_.string_at(t["certificate"], tp + "/certificate"));
        if (!cert) {
          r_.fail(tp + "/certificate",
                  "expected one of valid, expired, wrong-name, self-signed, leaf-only, untrusted, "
                  "client-auth-only, san-mismatch");
        }
        c.tls.cert = *cert;
      }
      if (t.contains("request_client_cert")) {
        c.tls.request_client_cert = bool_at(t["request_client_cert"], tp + "/request_client_cert");
      }
      for (const char* key : {"min_version", "max_version"}) {
        if (t.contains(key)) {
          const std::string v = r_.string_at(t[key], tp + "/" + key);
          if (!valid_tls_version(v)) {
            r_.fail(tp + "/" + key, "expected a TLS version: \"1.0\", \"1.1\", \"1.2\" or \"1.3\"");
          }
          (std::string_view(key) == "min_version" ? c.tls.min_version : c.tls.max_version) = v;
        }
      }
      if (t.contains("ciphers")) {
        c.tls.ciphers = r_.string_at(t["ciphers"], tp + "/ciphers");
      }
      if (t.contains("fault")) {
        auto f = script::parse_tls_fault(r_.string_at(t["fault"], tp + "/fault"));
        if (!f) {
          r_.fail(tp + "/fault", "expected one of none, close, reset, plaintext, alert");
        }
        c.tls.fault = *f;
      }
      if (t.contains("fault_bytes")) {
        c.tls.fault_bytes = r_.string_at(t["fault_bytes"], tp + "/fault_bytes");
      }
    }
    return c;
  }

  script::client_rule parse_rule(const json& j, const std::string& ptr, bool with_when) {
    if (with_when) {
      r_.expect_object(j, ptr, {"when", "policies", "verdict", "reason"});
    } else {
      r_.expect_object(j, ptr, {"verdict", "reason"});
    }
    script::client_rule r;
    r.pointer = ptr;
    const std::string v = r_.required_string(j, ptr, "verdict");
    auto parsed = script::parse_verdict(v);
    if (!parsed || *parsed == script::verdict::xfail || *parsed == script::verdict::xpass) {
      r_.fail(ptr + "/verdict", "expected one of PASS, FAIL, WARN, INFO, SKIP, ERROR");
    }
    r.v = *parsed;
    r.reason = r_.required_string(j, ptr, "reason");
    if (!with_when) {
      return r;
    }
    if (j.contains("policies")) {
      r.policies = policy_list(j["policies"], ptr + "/policies");
    }
    if (!j.contains("when")) {
      r_.fail(ptr, "missing required field \"when\" (the condition)");
    }
    const json& w = j["when"];
    const std::string wp = ptr + "/when";
    r_.expect_object(w, wp,
                     {"sent",
                      "line_prefix",
                      "side",
                      "early",
                      "early_after",
                      "in_delay",
                      "with_argument",
                      "longer_than",
                      "after_first_delivery",
                      "first_in_tls_not",
                      "after_220",
                      "handshake",
                      "delivered",
                      "delivered_side",
                      "client_cert",
                      "connections_at_least",
                      "connected",
                      "close_notify",
                      "tls_wait_over_ms",
                      "exit_ok",
                      "sasl",
                      "line_not"});
    if (w.empty()) {
      r_.fail(wp, "a condition needs at least one field");
    }
    auto& c = r.when;
    auto flag = [&](const char* key, std::optional<bool>& to) {
      if (w.contains(key)) {
        to = bool_at(w[key], wp + "/" + key);
      }
    };
    if (w.contains("sent")) {
      c.sent = upper_words(r_.string_list(w["sent"], wp + "/sent", true));
    }
    if (w.contains("line_prefix")) {
      c.line_prefix = r_.string_list(w["line_prefix"], wp + "/line_prefix", true);
    }
    if (w.contains("side")) {
      c.side = one_of(w["side"], wp + "/side", {"plaintext", "tls"});
    }
    flag("early", c.early);
    if (w.contains("early_after")) {
      c.early_after = upper_words(r_.string_list(w["early_after"], wp + "/early_after", true));
    }
    flag("in_delay", c.in_delay);
    flag("with_argument", c.with_argument);
    if (w.contains("longer_than")) {
      c.longer_than = r_.positive_integer(w["longer_than"], wp + "/longer_than", 1000000);
    }
    flag("after_first_delivery", c.after_first_delivery);
    flag("sasl", c.sasl);
    if (w.contains("line_not")) {
      c.line_not = r_.string_list(w["line_not"], wp + "/line_not", true);
    }
    if (w.contains("first_in_tls_not")) {
      c.first_in_tls_not =
          upper_words(r_.string_list(w["first_in_tls_not"], wp + "/first_in_tls_not", true));
    }
    if (w.contains("after_220")) {
      c.after_220 = one_of(w["after_220"], wp + "/after_220", {"tls", "plaintext", "nothing"});
    }
    if (w.contains("handshake")) {
      c.handshake = one_of(w["handshake"], wp + "/handshake", {"ok", "failed", "none"});
    }
    flag("delivered", c.delivered);
    if (w.contains("delivered_side")) {
      c.delivered_side = one_of(w["delivered_side"], wp + "/delivered_side", {"plaintext", "tls"});
      if (!c.delivered) {
        c.delivered = true;
      }
    }
    flag("client_cert", c.client_cert);
    if (w.contains("connections_at_least")) {
      c.connections_at_least =
          r_.positive_integer(w["connections_at_least"], wp + "/connections_at_least", 100);
    }
    flag("connected", c.connected);
    flag("close_notify", c.close_notify);
    if (w.contains("tls_wait_over_ms")) {
      c.tls_wait_over = ms_at(w["tls_wait_over_ms"], wp + "/tls_wait_over_ms");
    }
    flag("exit_ok", c.exit_ok);
    return r;
  }

  void parse_variants(const json& j, script::scenario& sc) {
    if (!j.is_array() || j.empty()) {
      r_.fail("/variants", "expected a non-empty array of variants");
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string ptr = "/variants/" + std::to_string(i);
      r_.expect_object(j[i], ptr, {"name", "tls", "vars"});
      script::variant v;
      v.name = r_.required_string(j[i], ptr, "name");
      if (!std::regex_match(v.name, name_pattern())) {
        r_.fail(ptr + "/name", "a variant name is lower-case letters, digits, '.' and '-'");
      }
      if (!names.insert(v.name).second) {
        r_.fail(ptr + "/name", "duplicate variant name");
      }
      if (j[i].contains("tls")) {
        v.tls = parse_tls(j[i]["tls"], ptr + "/tls");
      }
      if (j[i].contains("vars")) {
        v.vars = parse_variant_vars(j[i]["vars"], ptr + "/vars");
      }
      // Every variant binds the same names, so that a step's ${name} never depends on which
      // variant runs (a missing one would otherwise SKIP as "the target provides no value").
      if (i > 0 && !same_keys(v.vars, sc.variants.front().vars)) {
        r_.fail(j[i].contains("vars") ? ptr + "/vars" : ptr,
                "every variant must bind the same names in \"vars\" as the first variant");
      }
      sc.variants.push_back(std::move(v));
    }
  }

  // parse_variant_vars reads a variant's {"name": "value"} placeholder values.
  script::bindings parse_variant_vars(const json& j, const std::string& ptr) {
    if (!j.is_object() || j.empty()) {
      r_.fail(ptr, "expected a non-empty object of \"name\": \"value\" strings");
    }
    script::bindings out;
    for (const auto& [name, value] : j.items()) {
      const std::string vp = ptr + "/" + escape_pointer_token(name);
      if (!std::regex_match(name, std::regex("^[a-z][a-z0-9_]*$"))) {
        r_.fail(vp, "a placeholder name is lower-case letters, digits and '_', e.g. \"seq\"", true);
      }
      out.emplace(name, r_.string_at(value, vp));
    }
    return out;
  }

  static bool same_keys(const script::bindings& a, const script::bindings& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [](const auto& x, const auto& y) { return x.first == y.first; });
  }

  script::tls_params parse_tls(const json& j, const std::string& ptr) {
    r_.expect_object(j, ptr, {"sni", "min_version", "max_version", "client_cert", "ciphers"});
    script::tls_params p;
    if (j.contains("sni")) {
      p.sni = r_.string_at(j["sni"], ptr + "/sni");
    }
    for (const char* key : {"min_version", "max_version"}) {
      if (j.contains(key)) {
        std::string v = r_.string_at(j[key], ptr + "/" + key);
        if (!valid_tls_version(v)) {
          r_.fail(ptr + "/" + key, "expected \"1.0\", \"1.1\", \"1.2\" or \"1.3\"");
        }
        (std::string_view(key) == "min_version" ? p.min_version : p.max_version) = v;
      }
    }
    if (j.contains("client_cert")) {
      p.client_cert = r_.string_at(j["client_cert"], ptr + "/client_cert");
      if (p.client_cert->empty()) {
        r_.fail(ptr + "/client_cert",
                "expected a certificate name of the test PKI, e.g. \"client1\" or "
                "\"${ccert_listed}\"");
      }
    }
    if (j.contains("ciphers")) {
      p.ciphers = r_.string_at(j["ciphers"], ptr + "/ciphers");
    }
    return p;
  }

  script::byte_template parse_bytes(const json& j, const std::string& ptr, bool in_chunk = false) {
    script::byte_template t;
    if (j.is_string()) {
      t.parts.emplace_back(byte_part::kind::text, j.get<std::string>(), 1);
      return t;
    }
    if (!j.is_array() || j.empty()) {
      r_.fail(ptr, "expected a string or a non-empty array of parts");
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string p = ptr + "/" + std::to_string(i);
      const json& part = j[i];
      if (part.is_string()) {
        t.parts.emplace_back(byte_part::kind::text, part.get<std::string>(), 1);
      } else if (part.is_object() && part.contains("repeat")) {
        r_.expect_object(part, p, {"repeat", "count"});
        const std::string unit = r_.string_at(part["repeat"], p + "/repeat");
        if (!part.contains("count")) {
          r_.fail(p, "missing required field \"count\"");
        }
        const auto count = r_.positive_integer(part["count"], p + "/count", max_repeat);
        t.parts.emplace_back(byte_part::kind::repeat, unit, static_cast<std::size_t>(count));
      } else if (part.is_object() && part.contains("hex")) {
        r_.expect_object(part, p, {"hex"});
        auto octets = decode_hex(r_.string_at(part["hex"], p + "/hex"));
        if (!octets) {
          r_.fail(p + "/hex", "expected an even number of hex digits");
        }
        t.parts.emplace_back(byte_part::kind::octets, *octets, 1);
      } else if (part.is_object() && part.contains("bdat") && !in_chunk) {
        // "BDAT <n>[ LAST]\r\n" + the chunk, n counted after placeholders are expanded.
        r_.expect_object(part, p, {"bdat", "last"});
        byte_part chunk{byte_part::kind::bdat, {}, 1};
        chunk.chunk = parse_bytes(part["bdat"], p + "/bdat", true).parts;
        if (part.contains("last")) {
          chunk.last = bool_at(part["last"], p + "/last");
        }
        t.parts.push_back(std::move(chunk));
      } else {
        r_.fail(p, in_chunk
                       ? "expected a string, {\"repeat\": ..., \"count\": N} or {\"hex\": ...}"
                       : "expected a string, {\"repeat\": ..., \"count\": N}, {\"hex\": ...} or "
                         "{\"bdat\": [...], \"last\": true}");
      }
    }
    return t;
  }

  outcome parse_outcome(const json& j, const std::string& ptr, bool needs_match) {
    // The order is that of script::match_kind.
    static constexpr std::array<std::string_view, 12> kinds = {
        "reply",          "silence",      "timeout",          "closed",
        "malformed",      "handshake_ok", "handshake_failed", "connected",
        "connect_failed", "any",          "delivered",        "not_delivered"};
    r_.expect_object(j, ptr,
                     {"reply",
                      "silence",
                      "timeout",
                      "closed",
                      "malformed",
                      "handshake_ok",
                      "handshake_failed",
                      "connected",
                      "connect_failed",
                      "any",
                      "delivered",
                      "not_delivered",
                      "multiline",
                      "has_extension",
                      "lacks_extension",
                      "extension_with_params",
                      "text_contains",
                      "text_matches",
                      "esc",
                      "tls",
                      "peer_plaintext",
                      "cert_requested",
                      "alert",
                      "chain_complete",
                      "name_matches",
                      "cert_current",
                      "purpose_sslserver",
                      "sni_matches",
                      "verdict",
                      "reason",
                      "then"});
    outcome oc;
    oc.pointer = ptr;
    int found = 0;
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      if (!j.contains(std::string(kinds[k]))) {
        continue;
      }
      ++found;
      oc.match.kind = static_cast<match_kind>(k);
      const std::string key(kinds[k]);
      const json& v = j[key];
      if (oc.match.kind == match_kind::reply) {
        for (const auto& code : r_.string_list(v, ptr + "/reply", true)) {
          if (!valid_code_pattern(code)) {
            r_.fail(ptr + "/reply",
                    "a reply code pattern is three characters, the first 2-5, then digits or 'x' "
                    "(\"250\", \"5xx\")");
          }
          oc.match.codes.push_back(script::code_pattern{code});
        }
      } else if (oc.match.kind == match_kind::closed && v.is_string()) {
        const std::string mode = v.get<std::string>();
        if (mode == "clean") {
          oc.match.closed = script::closed_mode::clean;
        } else if (mode == "unclean") {
          oc.match.closed = script::closed_mode::unclean;
        } else {
          r_.fail(ptr + "/closed", "expected true, \"clean\" or \"unclean\"");
        }
      } else if (!v.is_boolean() || !v.get<bool>()) {
        r_.fail(fmt::format("{}/{}", ptr, key), "expected true");
      }
    }
    if (needs_match && found != 1) {
      r_.fail(ptr, found == 0 ? "an outcome needs one condition: reply, silence, timeout, closed, "
                                "malformed, handshake_ok, handshake_failed, connected, "
                                "connect_failed, delivered, not_delivered or any"
                              : "an outcome has exactly one condition");
    }
    if (!needs_match && found != 0) {
      r_.fail(ptr, "\"otherwise\" takes no condition: it applies when no outcome matched");
    }
    const bool reply_filters =
        j.contains("multiline") || j.contains("has_extension") || j.contains("lacks_extension") ||
        j.contains("extension_with_params") || j.contains("esc") || j.contains("text_matches");
    if (reply_filters && oc.match.kind != match_kind::reply) {
      r_.fail(ptr,
              "multiline, has_extension, lacks_extension, extension_with_params, esc and "
              "text_matches apply to a \"reply\" condition only");
    }
    if (j.contains("text_contains") && oc.match.kind != match_kind::reply &&
        oc.match.kind != match_kind::delivered) {
      r_.fail(ptr + "/text_contains", "text_contains applies to \"reply\" and \"delivered\"");
    }
    if (j.contains("multiline")) {
      if (!j["multiline"].is_boolean()) {
        r_.fail(ptr + "/multiline", "expected true or false");
      }
      oc.match.multiline = j["multiline"].get<bool>();
    }
    if (j.contains("has_extension")) {
      oc.match.has_extension =
          upper_all(r_.string_list(j["has_extension"], ptr + "/has_extension", true));
    }
    if (j.contains("lacks_extension")) {
      oc.match.lacks_extension =
          upper_all(r_.string_list(j["lacks_extension"], ptr + "/lacks_extension", true));
    }
    if (j.contains("extension_with_params")) {
      oc.match.extension_with_params = upper_all(
          r_.string_list(j["extension_with_params"], ptr + "/extension_with_params", true));
    }
    if (j.contains("text_contains")) {
      oc.match.text_contains = r_.string_at(j["text_contains"], ptr + "/text_contains");
    }
    if (j.contains("text_matches")) {
      const std::string pattern = r_.string_at(j["text_matches"], ptr + "/text_matches");
      try {
        // The runner compiles it the same way (client_runner.cpp, reply_matches).
        (void)std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
      } catch (const std::regex_error& e) {
        r_.fail(ptr + "/text_matches",
                fmt::format("not a valid ECMAScript regular expression: {}", e.what()));
      }
      if (pattern.empty()) {
        r_.fail(ptr + "/text_matches", "expected a non-empty regular expression");
      }
      oc.match.text_matches = pattern;
    }
    if (j.contains("esc")) {
      oc.match.esc_class = r_.string_at(j["esc"], ptr + "/esc");
      if (!valid_esc_pattern(*oc.match.esc_class)) {
        r_.fail(ptr + "/esc", "expected an enhanced status code such as \"5.7.0\" or \"5.x.x\"");
      }
    }
    if (j.contains("tls")) {
      if (!j["tls"].is_boolean()) {
        r_.fail(ptr + "/tls", "expected true (inside TLS) or false (in plaintext)");
      }
      oc.match.tls = j["tls"].get<bool>();
    }
    if (j.contains("peer_plaintext")) {
      if (oc.match.kind != match_kind::handshake_failed || !j["peer_plaintext"].is_boolean()) {
        r_.fail(ptr + "/peer_plaintext", "expected true or false, with handshake_failed");
      }
      oc.match.peer_plaintext = j["peer_plaintext"].get<bool>();
    }
    if (j.contains("cert_requested")) {
      const bool handshake = oc.match.kind == match_kind::handshake_ok ||
                             oc.match.kind == match_kind::handshake_failed;
      if (!handshake || !j["cert_requested"].is_boolean()) {
        r_.fail(ptr + "/cert_requested",
                "expected true or false, with handshake_ok or handshake_failed");
      }
      oc.match.cert_requested = j["cert_requested"].get<bool>();
    }
    if (j.contains("alert")) {
      const std::string alert = r_.string_at(j["alert"], ptr + "/alert");
      const bool kind_ok =
          oc.match.kind == match_kind::handshake_failed || oc.match.kind == match_kind::closed;
      if (!kind_ok || alert.empty() || !std::all_of(alert.begin(), alert.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || c == '_';
          })) {
        r_.fail(ptr + "/alert",
                "expected a TLS alert name such as \"unrecognized_name\", with handshake_failed "
                "or closed");
      }
      oc.match.alert = alert;
    }
    // checks.md A10: the server certificate checks (simulator/tls/cert_check.hpp).
    for (auto [key, member] : {std::pair{"chain_complete", &script::matcher::chain_complete},
                               std::pair{"name_matches", &script::matcher::name_matches},
                               std::pair{"cert_current", &script::matcher::cert_current},
                               std::pair{"purpose_sslserver", &script::matcher::purpose_sslserver},
                               std::pair{"sni_matches", &script::matcher::sni_matches}}) {
      if (!j.contains(key)) {
        continue;
      }
      if (oc.match.kind != match_kind::handshake_ok || !j[key].is_boolean()) {
        r_.fail(ptr + "/" + key, "expected true or false, with handshake_ok");
      }
      oc.match.*member = j[key].get<bool>();
    }
    if (j.contains("verdict")) {
      const std::string v = r_.string_at(j["verdict"], ptr + "/verdict");
      auto parsed = script::parse_verdict(v);
      if (!parsed || *parsed == script::verdict::xfail || *parsed == script::verdict::xpass ||
          v != script::to_string(*parsed)) {
        r_.fail(ptr + "/verdict", "expected one of PASS, FAIL, WARN, INFO, SKIP, ERROR");
      }
      oc.v = parsed;
      oc.reason = j.contains("reason") ? r_.string_at(j["reason"], ptr + "/reason") : "";
      if (oc.reason.empty()) {
        r_.fail(ptr, "an outcome with a verdict needs a \"reason\" (one sentence: why)");
      }
      oc.stop = true;
    } else if (j.contains("reason")) {
      r_.fail(ptr + "/reason", "\"reason\" goes with a \"verdict\"");
    } else if (!needs_match) {
      r_.fail(ptr, "\"otherwise\" needs a verdict");
    }
    if (j.contains("then")) {
      const std::string then = r_.string_at(j["then"], ptr + "/then");
      if (!oc.v) {
        r_.fail(ptr + "/then",
                "\"then\" goes with a \"verdict\" (without one the script continues)");
      }
      if (then == "continue") {
        oc.stop = false;
      } else if (then == "stop") {
        oc.stop = true;
      } else {
        r_.fail(ptr + "/then", "expected \"continue\" or \"stop\"");
      }
    }
    return oc;
  }

  static std::vector<std::string> upper_all(std::vector<std::string> v) {
    for (auto& s : v) {
      for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    return v;
  }

  void parse_expectations(const json& j, const std::string& ptr, step& s) {
    if (j.contains("expect")) {
      const json& e = j["expect"];
      if (!e.is_array() || e.empty()) {
        r_.fail(ptr + "/expect", "expected a non-empty array of outcomes");
      }
      for (std::size_t i = 0; i < e.size(); ++i) {
        s.expect.push_back(parse_outcome(e[i], ptr + "/expect/" + std::to_string(i), true));
      }
    }
    if (j.contains("otherwise")) {
      if (!j.contains("expect")) {
        // Without an expect list nothing can match, so "otherwise" would also swallow the
        // reactions the step accepts by default (a completed handshake, a reply...).
        r_.fail(ptr + "/otherwise",
                "\"otherwise\" needs an \"expect\" list naming the reactions that go on", true);
      }
      s.otherwise = parse_outcome(j["otherwise"], ptr + "/otherwise", false);
    }
  }

  static outcome make_outcome(match_kind k, std::vector<std::string> codes,
                              std::optional<script::verdict> v, std::string reason,
                              const std::string& ptr) {
    outcome oc;
    oc.match.kind = k;
    for (auto& c : codes) {
      oc.match.codes.push_back(script::code_pattern{std::move(c)});
    }
    oc.v = v;
    oc.reason = std::move(reason);
    oc.stop = v.has_value();
    oc.pointer = ptr;
    return oc;
  }

  void parse_step(const json& j, const std::string& ptr, std::vector<step>& out) {
    static constexpr std::array<std::string_view, 15> actions = {
        "connect",        "send",         "send_raw", "read_reply", "wait_silence",
        "tls_handshake",  "tls_shutdown", "close",    "sleep",      "ehlo_diff",
        "await_delivery", "greeting",     "ehlo",     "starttls",   "fuzz"};
    if (!j.is_object()) {
      r_.fail(ptr, "expected a step object");
    }
    std::string action;
    for (auto a : actions) {
      if (j.contains(std::string(a))) {
        if (!action.empty()) {
          r_.fail(ptr, fmt::format("a step has one action, found \"{}\" and \"{}\"", action, a));
        }
        action = a;
      }
    }
    if (action.empty()) {
      std::string list;
      for (auto a : actions) {
        list += (list.empty() ? "" : ", ") + std::string(a);
      }
      r_.fail(ptr, "a step needs one action: " + list);
    }
    const json& v = j[action];
    const std::string vptr = ptr + "/" + action;
    step s;
    s.pointer = ptr;
    if (j.contains("label")) {
      s.label = r_.string_at(j["label"], ptr + "/label");
    }
    if (j.contains("timeout_ms")) {
      s.timeout = std::chrono::milliseconds(
          r_.positive_integer(j["timeout_ms"], ptr + "/timeout_ms", max_timeout_ms));
    }
    auto allow = [&](std::initializer_list<std::string_view> extra) {
      std::vector<std::string_view> keys = {action, "label", "timeout_ms"};
      keys.insert(keys.end(), extra.begin(), extra.end());
      if (!j.is_object()) {
        return;
      }
      for (const auto& [key, value] : j.items()) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
          std::string list;
          for (auto k : keys) {
            list += (list.empty() ? "" : ", ") + std::string(k);
          }
          r_.fail(
              ptr + "/" + escape_pointer_token(key),
              fmt::format("unknown field \"{}\" for a {} step (allowed: {})", key, action, list),
              true);
        }
      }
    };

    if (action == "connect") {
      allow({"expect", "otherwise"});
      s.kind = step_kind::connect;
      s.timeout_phase = script::phase::connect;
      s.listeners = r_.string_list(v, vptr, true);
      if (s.listeners.empty()) {
        r_.fail(vptr, "name at least one listener");
      }
      for (std::size_t i = 0; i < s.listeners.size(); ++i) {
        if (!std::regex_match(s.listeners[i], std::regex("^[a-z][a-z0-9_]*$"))) {
          r_.fail(vptr, "a listener name is lower-case letters, digits and '_', e.g. \"starttls\"");
        }
      }
      parse_expectations(j, ptr, s);
    } else if (action == "send" || action == "send_raw") {
      allow({"expect", "otherwise"});
      s.kind = action == "send" ? step_kind::send : step_kind::send_raw;
      if (action == "send") {
        const std::string line = r_.string_at(v, vptr);
        if (line.find("\r\n") != std::string::npos) {
          r_.fail(vptr,
                  "\"send\" writes one command line and appends CRLF itself; use "
                  "\"send_raw\" for exact octets");
        }
        s.bytes.parts.emplace_back(byte_part::kind::text, line, 1);
      } else {
        s.bytes = parse_bytes(v, vptr);
      }
      parse_expectations(j, ptr, s);
    } else if (action == "read_reply") {
      allow({"expect", "otherwise"});
      r_.expect_object(v, vptr, {"phase", "count"});
      s.kind = step_kind::read_reply;
      if (v.contains("count")) {
        s.count = static_cast<std::size_t>(
            r_.positive_integer(v["count"], vptr + "/count", max_read_count));
      }
      if (v.contains("phase")) {
        const std::string ph = r_.string_at(v["phase"], vptr + "/phase");
        if (ph == "greeting") {
          s.timeout_phase = script::phase::greeting;
        } else if (ph == "reply") {
          s.timeout_phase = script::phase::reply;
        } else if (ph == "data") {
          s.timeout_phase = script::phase::data;
        } else {
          r_.fail(vptr + "/phase", "expected \"greeting\", \"reply\" or \"data\"");
        }
      }
      parse_expectations(j, ptr, s);
    } else if (action == "wait_silence") {
      allow({"expect", "otherwise"});
      r_.expect_object(v, vptr, {});
      s.kind = step_kind::wait_silence;
      s.timeout_phase = script::phase::silence;
      parse_expectations(j, ptr, s);
    } else if (action == "tls_handshake") {
      allow({"expect", "otherwise"});
      s.kind = step_kind::tls_handshake;
      s.timeout_phase = script::phase::handshake;
      s.tls = parse_tls(v, vptr);
      parse_expectations(j, ptr, s);
    } else if (action == "tls_shutdown" || action == "close" || action == "ehlo_diff") {
      allow({});
      r_.expect_object(v, vptr, {});
      s.kind = action == "close"          ? step_kind::close
               : action == "tls_shutdown" ? step_kind::tls_shutdown
                                          : step_kind::ehlo_diff;
    } else if (action == "sleep") {
      allow({});
      r_.expect_object(v, vptr, {"ms"});
      if (!v.contains("ms")) {
        r_.fail(vptr, "missing required field \"ms\"");
      }
      s.kind = step_kind::sleep;
      s.timeout =
          std::chrono::milliseconds(r_.positive_integer(v["ms"], vptr + "/ms", max_timeout_ms));
    } else if (action == "await_delivery") {
      allow({"expect", "otherwise"});
      r_.expect_object(v, vptr, {"token"});
      s.kind = step_kind::await_delivery;
      s.timeout_phase = script::phase::data;
      if (v.contains("token")) {
        s.token = r_.string_at(v["token"], vptr + "/token");
        if (s.token.empty()) {
          r_.fail(vptr + "/token", "must not be empty");
        }
      }
      needs_sink_ = true;
      parse_expectations(j, ptr, s);
    } else if (action == "fuzz") {
      allow({});
      r_.expect_object(v, vptr,
                       {"lines", "seed", "errors_per_session", "lines_per_session", "quit_every"});
      s.kind = step_kind::fuzz;
      if (v.contains("lines")) {
        s.fuzz.lines = r_.positive_integer(v["lines"], vptr + "/lines", max_fuzz_lines);
      }
      if (v.contains("seed")) {
        s.fuzz.seed = r_.positive_integer(v["seed"], vptr + "/seed", max_fuzz_seed);
      }
      if (v.contains("errors_per_session")) {
        s.fuzz.errors_per_session = r_.positive_integer(
            v["errors_per_session"], vptr + "/errors_per_session", max_fuzz_lines);
      }
      if (v.contains("quit_every")) {
        s.fuzz.quit_every =
            r_.positive_integer(v["quit_every"], vptr + "/quit_every", max_fuzz_lines);
      }
      if (v.contains("lines_per_session")) {
        s.fuzz.lines_per_session = r_.positive_integer(v["lines_per_session"],
                                                       vptr + "/lines_per_session", max_fuzz_lines);
      }
    } else if (action == "greeting") {
      // greeting: read the 220 greeting. The step's own outcomes come first.
      allow({"expect", "otherwise"});
      r_.expect_object(v, vptr, {});
      s.kind = step_kind::read_reply;
      s.timeout_phase = script::phase::greeting;
      parse_expectations(j, ptr, s);
      s.expect.push_back(make_outcome(match_kind::reply, {"220"}, std::nullopt, "", vptr));
      if (!s.otherwise) {
        s.otherwise = make_outcome(match_kind::any, {}, script::verdict::error,
                                   "the server did not greet with 220", vptr);
      }
    } else if (action == "ehlo") {
      // ehlo: send EHLO and read a 250 reply; require_extensions turns a missing extension
      // into SKIP (the check's precondition).
      allow({"expect", "otherwise", "require_extensions"});
      const std::string domain = r_.string_at(v, vptr);
      if (domain.empty() || domain.find_first_of(" \r\n") != std::string::npos) {
        r_.fail(vptr, "expected the EHLO argument, e.g. \"probe.test\"");
      }
      step send;
      send.kind = step_kind::send;
      send.pointer = ptr;
      send.label = s.label;
      send.bytes.parts.emplace_back(byte_part::kind::text, "EHLO " + domain, 1);
      out.push_back(std::move(send));
      s.kind = step_kind::read_reply;
      parse_expectations(j, ptr, s);
      if (j.contains("require_extensions")) {
        for (const auto& ext : upper_all(
                 r_.string_list(j["require_extensions"], ptr + "/require_extensions", true))) {
          outcome missing =
              make_outcome(match_kind::reply, {"250"}, script::verdict::skip,
                           "the server does not advertise " + ext + ", which this check needs",
                           ptr + "/require_extensions");
          missing.match.lacks_extension.push_back(ext);
          s.expect.push_back(std::move(missing));
        }
      }
      s.expect.push_back(make_outcome(match_kind::reply, {"250"}, std::nullopt, "", vptr));
      if (!s.otherwise) {
        s.otherwise = make_outcome(match_kind::any, {}, script::verdict::error,
                                   "EHLO was not answered with 250", vptr);
      }
    } else if (action == "starttls") {
      // starttls: STARTTLS + 220 + handshake as the precondition of a check that is about
      // something else; a refusal or a failed handshake makes the case SKIP (the STARTTLS
      // checks themselves judge that).
      allow({});
      script::tls_params params = parse_tls(v, vptr);
      step send;
      send.kind = step_kind::send;
      send.pointer = ptr;
      send.label = s.label;
      send.bytes.parts.emplace_back(byte_part::kind::text, "STARTTLS", 1);
      out.push_back(std::move(send));
      step read;
      read.kind = step_kind::read_reply;
      read.pointer = ptr;
      read.label = s.label;
      read.expect.push_back(make_outcome(match_kind::reply, {"220"}, std::nullopt, "", vptr));
      read.otherwise = make_outcome(
          match_kind::any, {}, script::verdict::skip,
          "STARTTLS did not get 220; this check needs a working STARTTLS (see starttls.ready-220)",
          vptr);
      out.push_back(std::move(read));
      s.kind = step_kind::tls_handshake;
      s.timeout_phase = script::phase::handshake;
      s.tls = std::move(params);
      s.expect.push_back(make_outcome(match_kind::handshake_ok, {}, std::nullopt, "", vptr));
      s.otherwise = make_outcome(
          match_kind::any, {}, script::verdict::skip,
          "the TLS handshake after STARTTLS failed; this check needs a working STARTTLS "
          "(see starttls.ready-220)",
          vptr);
    }
    out.push_back(std::move(s));
  }

  // check_order rejects scripts that would do I/O before any connect step.
  void check_order(const script::scenario& sc) {
    for (const auto& s : sc.steps) {
      if (s.kind == step_kind::connect) {
        return;
      }
      if (s.kind != step_kind::sleep) {
        r_.fail(s.pointer,
                "the first step that talks to the target must come after a connect step");
      }
    }
    r_.fail("/steps", "a scenario needs a connect step");
  }

  reader r_;
  std::string_view text_;
  bool needs_sink_ = false;  // an await_delivery step needs the target's sink
};

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw config_error(file.string(), "", text_position{}, "cannot read the file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

script::scenario parse_scenario(std::string_view text, const std::string& file) {
  return scenario_parser(text, file).parse();
}

script::scenario load_scenario_file(const fs::path& file, const fs::path& root) {
  const std::string text = read_file(file);
  script::scenario sc = parse_scenario(text, file.string());
  if (root.empty()) {
    return sc;
  }
  const fs::path rel = file.lexically_relative(root);
  sc.file = rel.generic_string();
  // <role>/<group>/<name>.json  <->  id "<group>.<name>" ("c." prefix for client checks).
  std::string id = sc.id;
  if (id.rfind("c.", 0) == 0) {
    id = id.substr(2);
  }
  const std::size_t dot = id.find('.');
  const std::string expected = fmt::format("{}/{}/{}.json", script::to_string(sc.role),
                                           id.substr(0, dot), id.substr(dot + 1));
  if (sc.file != expected) {
    json_locator loc(text);
    throw config_error(
        file.string(), "/id", loc.value_position("/id"),
        fmt::format("id \"{}\" belongs in {} (relative to the scenarios folder)", sc.id, expected));
  }
  return sc;
}

const script::scenario* scenario_set::find(std::string_view id) const {
  for (const auto& s : scenarios) {
    if (s->id == id) {
      return s.get();
    }
  }
  return nullptr;
}

scenario_set load_scenarios(const fs::path& root) {
  scenario_set set;
  set.root = root;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    set.errors.emplace_back(root.string(), "", text_position{}, "not a folder of scenarios");
    return set;
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      break;
    }
    if (it->is_directory() && it->path().filename() == "schema") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".json") {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> seen;  // id -> file
  for (const auto& f : files) {
    try {
      auto sc = std::make_unique<script::scenario>(load_scenario_file(f, root));
      auto [it, inserted] = seen.emplace(sc->id, sc->file);
      if (!inserted) {
        set.errors.emplace_back(
            f.string(), "/id", text_position{},
            fmt::format("duplicate id \"{}\" (also in {})", sc->id, it->second));
        continue;
      }
      set.scenarios.push_back(std::move(sc));
    } catch (const config_error& e) {
      set.errors.push_back(e);
    }
  }
  std::sort(set.scenarios.begin(), set.scenarios.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  return set;
}

fs::path default_scenario_dir() {
  if (const char* env = std::getenv("SMTPSIM_SCENARIOS"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path() / ".." / "share" / "smtpsim" / "scenarios";
    if (fs::is_directory(installed, ec)) {
      return installed.lexically_normal();
    }
  }
  return SMTPSIM_SOURCE_SCENARIOS;
}

std::shared_ptr<const std::vector<std::string>> fuzz_corpus(const scenario_set& set,
                                                            const script::bindings& vars) {
  std::vector<std::string> bytes;
  for (const auto& sc : set.scenarios) {
    if (sc->role != script::sut_role::server) {
      continue;
    }
    for (const auto& c : script::expand_cases(*sc)) {
      script::bindings case_vars = vars;
      if (c.var != nullptr) {
        for (const auto& [name, value] : c.var->vars) {
          case_vars.insert_or_assign(name, value);
        }
      }
      for (const auto& st : sc->steps) {
        if (st.kind == script::step_kind::send || st.kind == script::step_kind::send_raw) {
          bytes.push_back(st.bytes.expand(case_vars));
        }
      }
    }
  }
  return std::make_shared<const std::vector<std::string>>(protocol::corpus_lines(bytes));
}

}  // namespace smtpsim::harness
