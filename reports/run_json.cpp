#include "reports/run_json.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "reports/atomic_file.hpp"
#include "reports/text_encoding.hpp"

namespace smtpsim::reports {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Writing

std::string_view direction_name(script::direction d) {
  switch (d) {
    case script::direction::sent:
      return "sent";
    case script::direction::received:
      return "received";
    case script::direction::event:
      return "event";
  }
  return "event";
}

// text makes a free-text field safe for JSON, whose strings must be UTF-8.
std::string text(std::string_view s) {
  return is_valid_utf8(s) ? std::string(s) : to_valid_utf8(s);
}

template <class Json>
Json string_array(const std::vector<std::string>& items) {
  Json a = Json::array();
  for (const auto& item : items) {
    a.push_back(text(item));
  }
  return a;
}

template <class Json>
Json counts_json(const verdict_counts& c) {
  Json j = Json::object();
  j["total"] = c.total();
  j["pass"] = c.pass;
  j["fail"] = c.fail;
  j["warn"] = c.warn;
  j["info"] = c.info;
  j["skip"] = c.skip;
  j["error"] = c.error;
  j["xfail"] = c.xfail;
  j["xpass"] = c.xpass;
  return j;
}

template <class Json>
Json target_json(const target_info& t) {
  Json j = Json::object();
  j["name"] = text(t.name);
  j["kind"] = text(t.kind);
  j["description"] = text(t.description);
  Json listeners = Json::object();
  for (const auto& [name, url] : t.listeners) {
    listeners[text(name)] = text(url);
  }
  j["listeners"] = std::move(listeners);
  return j;
}

template <class Json>
Json judgment_json(const script::judgment& g) {
  Json j = Json::object();
  j["verdict"] = script::to_string(g.v);
  j["reason"] = text(g.reason);
  j["step"] = g.step;
  j["step_pointer"] = text(g.step_pointer);
  j["expected"] = text(g.expected);
  j["observed"] = text(g.observed);
  j["transcript_from"] = g.transcript_from;
  j["transcript_to"] = g.transcript_to;
  return j;
}

template <class Json>
Json finding_json(const script::finding& f) {
  Json j = Json::object();
  j["validator"] = text(f.validator);
  j["verdict"] = script::to_string(f.v);
  j["entry"] = f.entry;
  j["offset"] = f.offset;
  j["line"] = text(f.line);
  j["reason"] = text(f.reason);
  return j;
}

template <class Json>
Json entry_json(const script::transcript_entry& e) {
  Json j = Json::object();
  j["at_us"] = static_cast<std::int64_t>(e.at.count());
  j["dir"] = direction_name(e.dir);
  j["tls"] = e.tls;
  j["connection"] = e.connection;
  if (e.dir == script::direction::event) {
    j["note"] = text(e.note);
  } else if (is_readable_text(e.bytes)) {
    j["text"] = e.bytes;
  } else {
    j["base64"] = base64_encode(e.bytes);
  }
  return j;
}

template <class Json>
Json cert_json(const script::cert_info& c) {
  Json j = Json::object();
  j["subject"] = text(c.subject);
  j["issuer"] = text(c.issuer);
  j["serial"] = text(c.serial);
  j["not_before"] = text(c.not_before);
  j["not_after"] = text(c.not_after);
  j["dns_names"] = string_array<Json>(c.dns_names);
  j["ip_addresses"] = string_array<Json>(c.ip_addresses);
  j["self_signed"] = c.self_signed;
  j["sha256"] = text(c.sha256);
  j["pubkey_sha256"] = text(c.pubkey_sha256);
  return j;
}

template <class Json>
Json tls_json(const script::tls_facts& t) {
  Json j = Json::object();
  j["established"] = t.established;
  j["version"] = text(t.version);
  j["cipher"] = text(t.cipher);
  j["sni"] = text(t.sni);
  Json chain = Json::array();
  for (const auto& c : t.peer_chain) {
    chain.push_back(cert_json<Json>(c));
  }
  j["peer_chain"] = std::move(chain);
  j["peer_verified"] = t.peer_verified;
  j["verify_error"] = text(t.verify_error);
  j["client_cert_requested"] = t.client_cert_requested;
  j["client_cert_sent"] = t.client_cert_sent;
  j["alert_received"] = text(t.alert_received);
  j["alert_sent"] = text(t.alert_sent);
  j["error"] = text(t.error);
  return j;
}

template <class Json>
Json case_json(const case_result& r) {
  const auto& o = r.outcome;
  Json j = Json::object();
  j["case_id"] = text(r.case_id);
  j["scenario_id"] = text(r.scenario_id);
  j["variant"] = text(r.variant);
  j["target"] = text(r.target);
  j["title"] = text(r.title);
  j["level"] = text(r.level);
  j["role"] = text(r.role);
  j["file"] = text(r.file);
  j["references"] = string_array<Json>(r.references);
  j["tags"] = string_array<Json>(r.tags);
  j["started_at"] = text(r.started_at);
  j["verdict"] = script::to_string(o.final_verdict);
  j["reason"] = text(o.reason);
  j["duration_ms"] = static_cast<std::int64_t>(o.duration.count());
  Json judgments = Json::array();
  for (const auto& g : o.judgments) {
    judgments.push_back(judgment_json<Json>(g));
  }
  j["judgments"] = std::move(judgments);
  Json entries = Json::array();
  for (const auto& e : o.log.entries()) {
    entries.push_back(entry_json<Json>(e));
  }
  Json transcript = Json::object();
  transcript["entries"] = std::move(entries);
  transcript["dropped_bytes"] = o.log.dropped_bytes();
  j["transcript"] = std::move(transcript);
  Json tls = Json::array();
  for (const auto& t : o.tls) {
    tls.push_back(tls_json<Json>(t));
  }
  j["tls"] = std::move(tls);
  j["synthetic"] = r.synthetic;
  j["validated"] = string_array<Json>(o.validated.checked);
  Json findings = Json::array();
  for (const auto& f : o.validated.findings) {
    findings.push_back(finding_json<Json>(f));
  }
  j["findings"] = std::move(findings);
  return j;
}

// build_run is written once for both json (sorted keys, the API type) and ordered_json (the
// file, in documentation order, which is easier to read).
template <class Json>
Json build_run(const run_result& run) {
  Json j = Json::object();
  j["schema_version"] = text(run.schema_version);
  j["tool_version"] = text(run.tool_version);
  j["command_line"] = string_array<Json>(run.command_line);
  j["started_at"] = text(run.started_at);
  j["finished_at"] = text(run.finished_at);
  j["duration_seconds"] = run.duration_seconds;
  j["interrupted"] = run.interrupted;
  j["strict"] = run.strict;
  j["exit_code"] = run.exit_code;
  Json targets = Json::array();
  for (const auto& t : run.targets) {
    targets.push_back(target_json<Json>(t));
  }
  j["targets"] = std::move(targets);
  j["summary"] = counts_json<Json>(run.counts());
  Json cases = Json::array();
  for (const auto& r : run.cases) {
    cases.push_back(case_json<Json>(r));
  }
  j["cases"] = std::move(cases);
  return j;
}

// ---------------------------------------------------------------------------------------------
// Reading

// pointer_token escapes a key for a JSON pointer (RFC 6901 §3: "~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(const std::string& ptr, std::string_view key) {
  return ptr + "/" + pointer_token(key);
}

std::string child(const std::string& ptr, std::size_t index) {
  return fmt::format("{}/{}", ptr, index);
}

struct schema_version_parts {
  unsigned major = 0;
  unsigned minor = 0;
};

// parse_schema_version accepts "MAJOR.MINOR" with decimal numbers only.
std::optional<schema_version_parts> parse_schema_version(std::string_view v) {
  const std::size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size()) {
    return std::nullopt;
  }
  schema_version_parts parts;
  const auto parse = [](std::string_view s, unsigned& out) {
    const char* end = s.data() + s.size();
    const auto [p, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc() && p == end;
  };
  if (!parse(v.substr(0, dot), parts.major) || !parse(v.substr(dot + 1), parts.minor)) {
    return std::nullopt;
  }
  return parts;
}

// reader turns the document into a run_result, failing with the source name and the JSON
// pointer of the first bad field.
class reader {
 public:
  explicit reader(std::string source) : source_(std::move(source)) {}

  // allow_unknown_fields, if true, causes unknown object members to be ignored: the file was
  // written by a newer minor version, whose additions this reader cannot know.
  void allow_unknown_fields(bool allow) { allow_unknown_ = allow; }

  [[noreturn]] void fail(const std::string& ptr, std::string_view what) const {
    throw std::runtime_error(
        fmt::format("{}: {}: {}", source_, ptr.empty() ? "(document)" : ptr, what));
  }

  // object checks that `j` is an object whose members are all in `known`.
  void object(const json& j, const std::string& ptr,
              std::initializer_list<std::string_view> known) const {
    if (!j.is_object()) {
      fail(ptr, "expected an object");
    }
    if (allow_unknown_) {
      return;
    }
    for (const auto& [key, value] : j.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(child(ptr, key), "unknown field");
      }
    }
  }

  const json& member(const json& obj, const std::string& ptr, std::string_view key) const {
    const auto it = obj.find(key);
    if (it == obj.end()) {
      fail(child(ptr, key), "missing field");
    }
    return *it;
  }

  std::string string(const json& obj, const std::string& ptr, std::string_view key) const {
    const json& v = member(obj, ptr, key);
    if (!v.is_string()) {
      fail(child(ptr, key), "expected a string");
    }
    return v.get<std::string>();
  }

  bool boolean(const json& obj, const std::string& ptr, std::string_view key) const {
    const json& v = member(obj, ptr, key);
    if (!v.is_boolean()) {
      fail(child(ptr, key), "expected true or false");
    }
    return v.get<bool>();
  }

  double number(const json& obj, const std::string& ptr, std::string_view key) const {
    const json& v = member(obj, ptr, key);
    if (!v.is_number()) {
      fail(child(ptr, key), "expected a number");
    }
    return v.get<double>();
  }

  std::int64_t integer(const json& obj, const std::string& ptr, std::string_view key,
                       std::int64_t min, std::int64_t max) const {
    const json& v = member(obj, ptr, key);
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (max >= 0 && u <= static_cast<std::uint64_t>(max)) {
        return static_cast<std::int64_t>(u);
      }
    } else if (v.is_number_integer()) {
      const auto i = v.get<std::int64_t>();
      if (i >= min && i <= max) {
        return i;
      }
    } else {
      fail(child(ptr, key), "expected an integer");
    }
    fail(child(ptr, key), fmt::format("expected an integer from {} to {}", min, max));
  }

  std::size_t count(const json& obj, const std::string& ptr, std::string_view key) const {
    return static_cast<std::size_t>(integer(obj, ptr, key, 0, max_count));
  }

  const json& array(const json& obj, const std::string& ptr, std::string_view key) const {
    const json& v = member(obj, ptr, key);
    if (!v.is_array()) {
      fail(child(ptr, key), "expected an array");
    }
    return v;
  }

  std::vector<std::string> strings(const json& obj, const std::string& ptr,
                                   std::string_view key) const {
    const json& a = array(obj, ptr, key);
    const std::string a_ptr = child(ptr, key);
    std::vector<std::string> out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) {
        fail(child(a_ptr, i), "expected a string");
      }
      out.push_back(a[i].get<std::string>());
    }
    return out;
  }

  script::verdict verdict(const json& obj, const std::string& ptr, std::string_view key) const {
    const std::string name = string(obj, ptr, key);
    const auto v = script::parse_verdict(name);
    // Only the upper-case names are written, and the schema allows nothing else.
    if (!v || script::to_string(*v) != name) {
      fail(child(ptr, key),
           fmt::format(
               "expected one of PASS, FAIL, WARN, INFO, SKIP, ERROR, XFAIL, XPASS, not \"{}\"",
               name));
    }
    return *v;
  }

  run_result run(const json& doc) {
    const std::string ptr;
    if (!doc.is_object()) {
      fail(ptr, "expected an object");
    }
    run_result r;
    r.schema_version = string(doc, ptr, "schema_version");
    check_schema_version(r.schema_version);
    object(
        doc, ptr,
        {"schema_version", "tool_version", "command_line", "started_at", "finished_at",
         "duration_seconds", "interrupted", "strict", "exit_code", "targets", "summary", "cases"});
    r.tool_version = string(doc, ptr, "tool_version");
    r.command_line = strings(doc, ptr, "command_line");
    r.started_at = string(doc, ptr, "started_at");
    r.finished_at = string(doc, ptr, "finished_at");
    r.duration_seconds = number(doc, ptr, "duration_seconds");
    r.interrupted = boolean(doc, ptr, "interrupted");
    r.strict = boolean(doc, ptr, "strict");
    r.exit_code = static_cast<int>(integer(doc, ptr, "exit_code", 0, 255));
    const json& targets = array(doc, ptr, "targets");
    for (std::size_t i = 0; i < targets.size(); ++i) {
      r.targets.push_back(target(targets[i], child(child(ptr, "targets"), i)));
    }
    const json& cases = array(doc, ptr, "cases");
    r.cases.reserve(cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      r.cases.push_back(case_of(cases[i], child(child(ptr, "cases"), i)));
    }
    check_summary(member(doc, ptr, "summary"), "/summary", r.counts());
    return r;
  }

 private:
  // max_count bounds sizes and indexes; it keeps them representable on every platform and
  // rejects absurd values from a corrupted file.
  static constexpr std::int64_t max_count = std::int64_t{1} << 40;

  void check_schema_version(const std::string& version) {
    const auto ours = parse_schema_version(run_schema_version);
    const auto theirs = parse_schema_version(version);
    if (!theirs) {
      fail("/schema_version", fmt::format("expected \"MAJOR.MINOR\", not \"{}\"", version));
    }
    if (theirs->major != ours->major) {
      fail("/schema_version", fmt::format("schema version {} is not supported (this smtpsim "
                                          "reads {}.x)",
                                          version, ours->major));
    }
    allow_unknown_fields(theirs->minor > ours->minor);
  }

  void check_summary(const json& s, const std::string& ptr, const verdict_counts& c) const {
    object(s, ptr, {"total", "pass", "fail", "warn", "info", "skip", "error", "xfail", "xpass"});
    const std::pair<std::string_view, std::size_t> expected[] = {
        {"total", c.total()}, {"pass", c.pass},   {"fail", c.fail},
        {"warn", c.warn},     {"info", c.info},   {"skip", c.skip},
        {"error", c.error},   {"xfail", c.xfail}, {"xpass", c.xpass}};
    for (const auto& [key, value] : expected) {
      const std::size_t stated = count(s, ptr, key);
      if (stated != value) {
        fail(child(ptr, key),
             fmt::format("says {} but the cases have {}: the file is inconsistent", stated, value));
      }
    }
  }

  target_info target(const json& j, const std::string& ptr) const {
    object(j, ptr, {"name", "kind", "description", "listeners"});
    target_info t;
    t.name = string(j, ptr, "name");
    t.kind = string(j, ptr, "kind");
    t.description = string(j, ptr, "description");
    const json& listeners = member(j, ptr, "listeners");
    const std::string l_ptr = child(ptr, "listeners");
    if (!listeners.is_object()) {
      fail(l_ptr, "expected an object");
    }
    for (const auto& [name, url] : listeners.items()) {
      if (!url.is_string()) {
        fail(child(l_ptr, name), "expected a string");
      }
      t.listeners.emplace(name, url.get<std::string>());
    }
    return t;
  }

  script::judgment judgment(const json& j, const std::string& ptr) const {
    object(j, ptr,
           {"verdict", "reason", "step", "step_pointer", "expected", "observed", "transcript_from",
            "transcript_to"});
    script::judgment g;
    g.v = verdict(j, ptr, "verdict");
    g.reason = string(j, ptr, "reason");
    g.step = count(j, ptr, "step");
    g.step_pointer = string(j, ptr, "step_pointer");
    g.expected = string(j, ptr, "expected");
    g.observed = string(j, ptr, "observed");
    g.transcript_from = count(j, ptr, "transcript_from");
    g.transcript_to = count(j, ptr, "transcript_to");
    return g;
  }

  script::transcript_entry entry(const json& j, const std::string& ptr) const {
    object(j, ptr, {"at_us", "dir", "tls", "connection", "text", "base64", "note"});
    script::transcript_entry e;
    e.at = std::chrono::microseconds(integer(j, ptr, "at_us", 0, max_count * 1000));
    const std::string dir = string(j, ptr, "dir");
    if (dir == "sent") {
      e.dir = script::direction::sent;
    } else if (dir == "received") {
      e.dir = script::direction::received;
    } else if (dir == "event") {
      e.dir = script::direction::event;
    } else {
      fail(child(ptr, "dir"), fmt::format("expected sent, received or event, not \"{}\"", dir));
    }
    e.tls = boolean(j, ptr, "tls");
    e.connection = static_cast<std::uint32_t>(
        integer(j, ptr, "connection", 0, std::numeric_limits<std::uint32_t>::max()));
    const bool has_text = j.contains("text");
    const bool has_base64 = j.contains("base64");
    if (e.dir == script::direction::event) {
      if (has_text || has_base64) {
        fail(child(ptr, has_text ? "text" : "base64"), "an event carries a note, not bytes");
      }
      e.note = string(j, ptr, "note");
      return e;
    }
    if (j.contains("note")) {
      fail(child(ptr, "note"), "sent/received entries carry bytes, not a note");
    }
    if (has_text == has_base64) {
      fail(ptr, "expected exactly one of \"text\" and \"base64\"");
    }
    if (has_text) {
      e.bytes = string(j, ptr, "text");
    } else {
      const auto decoded = base64_decode(string(j, ptr, "base64"));
      if (!decoded) {
        fail(child(ptr, "base64"), "not canonical base64 (RFC 4648 §4, padded)");
      }
      e.bytes = *decoded;
    }
    // transcript never stores empty chunks, so one here could not round-trip.
    if (e.bytes.empty()) {
      fail(child(ptr, has_text ? "text" : "base64"), "expected at least one byte");
    }
    return e;
  }

  script::transcript transcript(const json& j, const std::string& ptr) const {
    object(j, ptr, {"entries", "dropped_bytes"});
    const json& entries = array(j, ptr, "entries");
    std::vector<script::transcript_entry> parsed;
    parsed.reserve(entries.size());
    std::size_t stored = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      parsed.push_back(entry(entries[i], child(child(ptr, "entries"), i)));
      stored += parsed.back().bytes.size();
    }
    std::size_t dropped = count(j, ptr, "dropped_bytes");
    // The transcript class has no setter for its counters, so rebuild it through its public API:
    // a bound of exactly the stored bytes keeps every entry, and replaying `dropped` bytes past
    // that bound counts them as dropped without storing them. An untruncated transcript keeps
    // the default bound, so it can still grow like a fresh one.
    const std::size_t bound =
        dropped > 0 ? stored : std::max(stored, script::transcript::default_max_bytes);
    script::transcript t(bound);
    for (auto& e : parsed) {
      if (e.dir == script::direction::event) {
        t.add_event(e.at, e.tls, e.connection, std::move(e.note));
      } else {
        t.add_bytes(e.at, e.dir, e.tls, e.connection, e.bytes);
      }
    }
    if (dropped > 0) {
      const std::string filler(std::min<std::size_t>(dropped, 1024 * 1024), '\0');
      while (dropped > 0) {
        const std::size_t n = std::min(dropped, filler.size());
        t.add_bytes(std::chrono::microseconds(0), script::direction::received, false, 0,
                    std::string_view(filler).substr(0, n));
        dropped -= n;
      }
    }
    return t;
  }

  script::cert_info cert(const json& j, const std::string& ptr) const {
    object(j, ptr,
           {"subject", "issuer", "serial", "not_before", "not_after", "dns_names", "ip_addresses",
            "self_signed", "sha256", "pubkey_sha256"});
    script::cert_info c;
    c.subject = string(j, ptr, "subject");
    c.issuer = string(j, ptr, "issuer");
    c.serial = string(j, ptr, "serial");
    c.not_before = string(j, ptr, "not_before");
    c.not_after = string(j, ptr, "not_after");
    c.dns_names = strings(j, ptr, "dns_names");
    c.ip_addresses = strings(j, ptr, "ip_addresses");
    c.self_signed = boolean(j, ptr, "self_signed");
    c.sha256 = string(j, ptr, "sha256");
    c.pubkey_sha256 = string(j, ptr, "pubkey_sha256");
    return c;
  }

  script::tls_facts tls(const json& j, const std::string& ptr) const {
    object(
        j, ptr,
        {"established", "version", "cipher", "sni", "peer_chain", "peer_verified", "verify_error",
         "client_cert_requested", "client_cert_sent", "alert_received", "alert_sent", "error"});
    script::tls_facts t;
    t.established = boolean(j, ptr, "established");
    t.version = string(j, ptr, "version");
    t.cipher = string(j, ptr, "cipher");
    t.sni = string(j, ptr, "sni");
    const json& chain = array(j, ptr, "peer_chain");
    for (std::size_t i = 0; i < chain.size(); ++i) {
      t.peer_chain.push_back(cert(chain[i], child(child(ptr, "peer_chain"), i)));
    }
    t.peer_verified = boolean(j, ptr, "peer_verified");
    t.verify_error = string(j, ptr, "verify_error");
    t.client_cert_requested = boolean(j, ptr, "client_cert_requested");
    t.client_cert_sent = boolean(j, ptr, "client_cert_sent");
    t.alert_received = string(j, ptr, "alert_received");
    t.alert_sent = string(j, ptr, "alert_sent");
    t.error = string(j, ptr, "error");
    return t;
  }

  case_result case_of(const json& j, const std::string& ptr) const {
    object(j, ptr, {"case_id",    "scenario_id", "variant",   "target",      "title",
                    "level",      "role",        "file",      "references",  "tags",
                    "started_at", "verdict",     "reason",    "duration_ms", "judgments",
                    "transcript", "tls",         "synthetic", "validated",   "findings"});
    case_result r;
    r.case_id = string(j, ptr, "case_id");
    r.scenario_id = string(j, ptr, "scenario_id");
    r.variant = string(j, ptr, "variant");
    r.target = string(j, ptr, "target");
    r.title = string(j, ptr, "title");
    r.level = string(j, ptr, "level");
    r.role = string(j, ptr, "role");
    r.file = string(j, ptr, "file");
    r.references = strings(j, ptr, "references");
    r.tags = strings(j, ptr, "tags");
    r.started_at = string(j, ptr, "started_at");
    auto& o = r.outcome;
    o.final_verdict = verdict(j, ptr, "verdict");
    o.reason = string(j, ptr, "reason");
    o.duration = std::chrono::milliseconds(integer(j, ptr, "duration_ms", 0, max_count));
    const json& judgments = array(j, ptr, "judgments");
    for (std::size_t i = 0; i < judgments.size(); ++i) {
      o.judgments.push_back(judgment(judgments[i], child(child(ptr, "judgments"), i)));
    }
    o.log = transcript(member(j, ptr, "transcript"), child(ptr, "transcript"));
    const json& tls_list = array(j, ptr, "tls");
    for (std::size_t i = 0; i < tls_list.size(); ++i) {
      o.tls.push_back(tls(tls_list[i], child(child(ptr, "tls"), i)));
    }
    // Added in 1.2: optional, so that 1.0 and 1.1 files still read.
    if (j.contains("synthetic")) {
      r.synthetic = boolean(j, ptr, "synthetic");
    }
    if (j.contains("validated")) {
      o.validated.checked = strings(j, ptr, "validated");
    }
    if (j.contains("findings")) {
      const json& findings = array(j, ptr, "findings");
      for (std::size_t i = 0; i < findings.size(); ++i) {
        o.validated.findings.push_back(finding(findings[i], child(child(ptr, "findings"), i)));
      }
    }
    return r;
  }

  script::finding finding(const json& j, const std::string& ptr) const {
    object(j, ptr, {"validator", "verdict", "entry", "offset", "line", "reason"});
    script::finding f;
    f.validator = string(j, ptr, "validator");
    f.v = verdict(j, ptr, "verdict");
    f.entry = count(j, ptr, "entry");
    f.offset = count(j, ptr, "offset");
    f.line = string(j, ptr, "line");
    f.reason = string(j, ptr, "reason");
    return f;
  }

  std::string source_;
  bool allow_unknown_ = false;
};

}  // namespace

nlohmann::json to_json(const run_result& run) { return build_run<nlohmann::json>(run); }

std::string to_json_text(const run_result& run) {
  // Strings were made valid UTF-8 above, so the strict error handler can only fire on a bug.
  return build_run<nlohmann::ordered_json>(run).dump(2) + "\n";
}

void write_run_json(const run_result& run, const std::filesystem::path& path) {
  write_file_atomically(path, to_json_text(run));
}

run_result read_run_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format("{}: cannot open the file", path.string()));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    throw std::runtime_error(fmt::format("{}: cannot read the file", path.string()));
  }
  json doc;
  try {
    doc = json::parse(content.str());
  } catch (const json::parse_error& e) {
    // nlohmann's message already says "line L, column C".
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  } catch (const json::out_of_range& e) {
    // A number too large for a double ("number overflow parsing '1e999'").
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
  return parse_run_json(doc, path.string());
}

run_result parse_run_json(const nlohmann::json& doc, std::string_view source) {
  reader r{std::string(source)};
  return r.run(doc);
}

}  // namespace smtpsim::reports
