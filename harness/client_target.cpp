#include "harness/client_target.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/json_locator.hpp"
#include "harness/process.hpp"
#include "harness/scenario_loader.hpp"

namespace smtpsim::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::array<std::pair<client_policy, std::string_view>, 5> policy_words{{
    {client_policy::none, "none"},
    {client_policy::may, "may"},
    {client_policy::encrypt, "encrypt"},
    {client_policy::verify, "verify"},
    {client_policy::secure, "secure"},
}};

struct placeholder_def {
  std::string_view name;
  std::string placeholder_values::*member;
  bool per_case;  // differs between cases, so not available to setup and teardown
};

constexpr std::array<placeholder_def, 14> placeholder_defs{{
    {"host", &placeholder_values::host, false},
    {"port", &placeholder_values::port, true},
    {"server_name", &placeholder_values::server_name, false},
    {"ca_file", &placeholder_values::ca_file, false},
    {"cert_file", &placeholder_values::cert_file, false},
    {"key_file", &placeholder_values::key_file, false},
    {"auth_user", &placeholder_values::auth_user, false},
    {"auth_password", &placeholder_values::auth_password, false},
    {"from", &placeholder_values::from, true},
    {"to", &placeholder_values::to, true},
    {"token", &placeholder_values::token, true},
    {"case_dir", &placeholder_values::case_dir, true},
    {"run_dir", &placeholder_values::run_dir, false},
    {"source_dir", &placeholder_values::source_dir, false},
}};

const placeholder_def* find_placeholder(std::string_view name) {
  for (const auto& d : placeholder_defs) {
    if (d.name == name) {
      return &d;
    }
  }
  return nullptr;
}

std::string known_placeholders(bool per_case) {
  std::string list;
  for (const auto& d : placeholder_defs) {
    if (per_case || !d.per_case) {
      list += (list.empty() ? "{" : ", {") + std::string(d.name) + "}";
    }
  }
  return list;
}

// expand_word does the placeholder syntax of one word; `value` maps a known name to its
// replacement or throws std::invalid_argument.
template <typename Value>
std::string expand_word(std::string_view word, const Value& value) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    const char c = word[i];
    const bool doubled = i + 1 < word.size() && word[i + 1] == c;
    if (c == '{' && !doubled) {
      const std::size_t close = word.find('}', i + 1);
      const std::size_t open = word.find('{', i + 1);
      if (close == std::string_view::npos || (open != std::string_view::npos && open < close)) {
        throw std::invalid_argument("unmatched '{' in \"" + std::string(word) +
                                    "\" (write {{ for a literal brace)");
      }
      out += value(word.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (c == '}' && !doubled) {
      throw std::invalid_argument("unmatched '}' in \"" + std::string(word) +
                                  "\" (write }} for a literal brace)");
    } else {
      out += c;
      i += (c == '{' || c == '}') ? 2 : 1;
    }
  }
  return out;
}

// check_word throws std::invalid_argument for a placeholder that is unknown, or per case where
// only run-wide ones are allowed.
void check_word(std::string_view word, bool per_case_allowed) {
  expand_word(word, [&](std::string_view name) -> std::string {
    const placeholder_def* d = find_placeholder(name);
    if (d == nullptr) {
      throw std::invalid_argument("unknown placeholder {" + std::string(name) +
                                  "} (known: " + known_placeholders(per_case_allowed) + ")");
    }
    if (d->per_case && !per_case_allowed) {
      throw std::invalid_argument("placeholder {" + std::string(name) +
                                  "} differs per case; setup and teardown run once per run "
                                  "(available: " +
                                  known_placeholders(false) + ")");
    }
    return {};
  });
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// starts_expansion: would a shell expand the '$' at s[i]? ($NAME, ${...}, $(...), $1, $@ ...)
bool starts_expansion(std::string_view s, std::size_t i) {
  if (i + 1 >= s.size()) {
    return false;
  }
  const char n = s[i + 1];
  return n == '(' || n == '{' || n == '_' || (n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z') ||
         (n >= '0' && n <= '9') || std::string_view("@*#?$!").find(n) != std::string_view::npos;
}

std::string resolve_dot_slash(const std::string& word, const fs::path& folder) {
  if (word.rfind("./", 0) != 0) {
    return word;
  }
  return (folder / word.substr(2)).lexically_normal().string();
}

}  // namespace

std::string expand_braces(std::string_view word,
                          const std::function<std::string(std::string_view)>& value) {
  return expand_word(word, value);
}

std::optional<client_policy> parse_client_policy(std::string_view word) {
  for (const auto& [policy, name] : policy_words) {
    if (name == word) {
      return policy;
    }
  }
  return std::nullopt;
}

std::string_view to_string(client_policy policy) {
  for (const auto& [p, name] : policy_words) {
    if (p == policy) {
      return name;
    }
  }
  return "?";
}

std::vector<std::string> split_command(std::string_view s) {
  auto fail = [&](std::size_t at, const std::string& message) {
    throw config_error("--client", "", position_of_offset(s, at), message);
  };
  auto no_shell = [&](std::size_t at, const std::string& what) {
    fail(at, what +
                 ": the client command is run without a shell (quote it to pass it literally, "
                 "or put the shell code in a script)");
  };
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_blank(c)) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\'') {
      const std::size_t close = s.find('\'', i + 1);
      if (close == std::string_view::npos) {
        fail(i, "unterminated single quote");
      }
      word.append(s.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const std::size_t open = i++;
      in_word = true;
      bool closed = false;
      while (i < s.size() && !closed) {
        const char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
        } else if (d == '\\' && i + 1 < s.size() &&
                   std::string_view("$`\"\\\n").find(s[i + 1]) != std::string_view::npos) {
          if (s[i + 1] != '\n') {  // backslash-newline is a line continuation
            word += s[i + 1];
          }
          i += 2;
        } else if (d == '`') {
          no_shell(i, "'`' would be command substitution");
        } else if (d == '$' && starts_expansion(s, i)) {
          no_shell(i, "'$' would be expanded (placeholders are written {host})");
        } else {
          word += d;  // including a backslash before any other character (POSIX)
          ++i;
        }
      }
      if (!closed) {
        fail(open, "unterminated double quote");
      }
    } else if (c == '\\') {
      if (i + 1 >= s.size()) {
        fail(i, "a backslash at the end escapes nothing");
      }
      if (s[i + 1] != '\n') {
        word += s[i + 1];
        in_word = true;
      }
      i += 2;
    } else if (c == '$' && starts_expansion(s, i)) {
      no_shell(i, s.substr(i, 2) == "$(" ? "'$(' would be command substitution"
                                         : "'$' would be expanded (placeholders are written "
                                           "{host})");
    } else if (std::string_view("|;&<>()`").find(c) != std::string_view::npos) {
      const bool two =
          i + 1 < s.size() && (c == '&' || c == '|' || c == '>' || c == '<') && s[i + 1] == c;
      no_shell(i, "'" + std::string(s.substr(i, two ? 2 : 1)) + "' is shell syntax");
    } else if (c == '#' && !in_word) {
      no_shell(i, "'#' at the start of a word begins a shell comment");
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  if (words.empty()) {
    fail(0, "the client command is empty");
  }
  return words;
}

std::vector<std::string> fill_placeholders(const std::vector<std::string>& argv,
                                           const placeholder_values& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& word : argv) {
    out.push_back(expand_word(word, [&](std::string_view name) -> std::string {
      const placeholder_def* d = find_placeholder(name);
      if (d == nullptr) {
        throw std::invalid_argument("unknown placeholder {" + std::string(name) +
                                    "} (known: " + known_placeholders(true) + ")");
      }
      return values.*(d->member);
    }));
  }
  return out;
}

void check_placeholders(const client_target& t) {
  const std::string where = t.file.empty() ? "--client" : t.file.string();
  auto check = [&](const std::vector<std::string>& argv, const std::string& field,
                   bool per_case_allowed) {
    for (std::size_t i = 0; i < argv.size(); ++i) {
      try {
        check_word(argv[i], per_case_allowed);
      } catch (const std::invalid_argument& e) {
        throw config_error(where, "/" + field + "/" + std::to_string(i), text_position{}, e.what());
      }
    }
  };
  check(t.command, "command", true);
  check(t.setup, "setup", false);
  check(t.teardown, "teardown", false);
}

std::vector<std::string> missing_programs(const client_target& t) {
  std::vector<std::string> missing;
  for (const auto& p : t.requires_programs) {
    if (!find_program(p)) {
      missing.push_back(p);
    }
  }
  return missing;
}

client_target client_target_from_cli(const std::string& command, client_policy policy, bool wrapper,
                                     std::chrono::milliseconds timeout,
                                     std::set<std::string> capabilities) {
  client_target t;
  t.command = split_command(command);
  t.name = fs::path(t.command.front()).filename().string();
  t.description = command;
  t.policy = policy;
  t.wrapper = wrapper;
  if (timeout.count() <= 0) {
    throw config_error("--client", "", text_position{}, "the client timeout must be positive");
  }
  t.timeout = timeout;
  t.capabilities = std::move(capabilities);
  check_placeholders(t);
  return t;
}

client_target load_client_target_file(const fs::path& file) {
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
  if (!doc.is_object()) {
    fail("", "expected an object (a client target file)");
  }
  static constexpr std::array<std::string_view, 14> allowed{"$schema",
                                                            "kind",
                                                            "name",
                                                            "description",
                                                            "policy",
                                                            "wrapper",
                                                            "command",
                                                            "timeout_ms",
                                                            "jobs",
                                                            "capabilities",
                                                            "requires_programs",
                                                            "setup",
                                                            "teardown",
                                                            "expected_failures"};
  for (const auto& [key, value] : doc.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) {
        list += (list.empty() ? "" : ", ") + std::string(a);
      }
      fail("/" + escape_pointer_token(key),
           fmt::format("unknown field \"{}\" (allowed here: {})", key, list), true);
    }
  }
  auto str = [&](const json& j, const std::string& ptr) {
    if (!j.is_string()) {
      fail(ptr, "expected a string");
    }
    return j.get<std::string>();
  };
  auto non_empty_str = [&](const json& j, const std::string& ptr) {
    std::string s = str(j, ptr);
    if (s.empty()) {
      fail(ptr, "must not be empty");
    }
    return s;
  };
  auto string_list = [&](const std::string& field, bool argv) {
    const std::string ptr = "/" + field;
    const json& a = doc[field];
    if (!a.is_array() || (argv && a.empty())) {
      fail(ptr, argv ? "expected a non-empty array of strings (program and arguments)"
                     : "expected an array of strings");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string p = ptr + "/" + std::to_string(i);
      out.push_back(argv && i != 0 ? str(a[i], p) : non_empty_str(a[i], p));
    }
    return out;
  };
  auto number = [&](const std::string& field, std::uint64_t lo, std::uint64_t hi) {
    const json& j = doc[field];
    if (!j.is_number_unsigned() || j.get<std::uint64_t>() < lo || j.get<std::uint64_t>() > hi) {
      fail("/" + field, fmt::format("expected a whole number from {} to {}", lo, hi));
    }
    return j.get<std::uint64_t>();
  };

  if (!doc.contains("kind")) {
    fail("", "missing required field \"kind\" (a client target file has \"kind\": \"client\")");
  }
  if (str(doc["kind"], "/kind") != "client") {
    fail("/kind", "a client target file has \"kind\": \"client\"");
  }
  client_target t;
  t.file = file;
  t.name = doc.contains("name") ? non_empty_str(doc["name"], "/name") : file.stem().string();
  if (doc.contains("description")) {
    t.description = str(doc["description"], "/description");
  }
  if (doc.contains("policy")) {
    const std::string word = str(doc["policy"], "/policy");
    const auto policy = parse_client_policy(word);
    if (!policy) {
      fail("/policy", fmt::format("unknown policy \"{}\" (one of none, may, encrypt, verify, "
                                  "secure: Postfix's smtp_tls_security_level)",
                                  word));
    }
    t.policy = *policy;
  }
  if (doc.contains("wrapper")) {
    if (!doc["wrapper"].is_boolean()) {
      fail("/wrapper", "expected true or false");
    }
    t.wrapper = doc["wrapper"].get<bool>();
  }
  if (!doc.contains("command")) {
    fail("", "missing required field \"command\"");
  }
  const fs::path folder = fs::absolute(file).parent_path();
  auto resolve = [&](std::vector<std::string> argv) {
    for (auto& word : argv) {
      word = resolve_dot_slash(word, folder);
    }
    return argv;
  };
  t.command = resolve(string_list("command", true));
  if (doc.contains("timeout_ms")) {
    t.timeout = std::chrono::milliseconds(number("timeout_ms", 1, 3'600'000));
  }
  if (doc.contains("jobs")) {
    t.jobs = static_cast<unsigned>(number("jobs", 0, 4096));
  }
  if (doc.contains("capabilities")) {
    static const std::regex name_re("^[a-z][a-z0-9_]*$");
    const auto caps = string_list("capabilities", false);
    for (std::size_t i = 0; i < caps.size(); ++i) {
      const std::string ptr = "/capabilities/" + std::to_string(i);
      if (!std::regex_match(caps[i], name_re)) {
        fail(ptr, "a capability is lower-case letters, digits and '_' (e.g. auth, client_cert)");
      }
      if (!t.capabilities.insert(caps[i]).second) {
        fail(ptr, fmt::format("capability \"{}\" is listed twice", caps[i]));
      }
    }
  }
  if (doc.contains("requires_programs")) {
    t.requires_programs = string_list("requires_programs", false);
  }
  if (doc.contains("setup")) {
    t.setup = resolve(string_list("setup", true));
  }
  if (doc.contains("teardown")) {
    t.teardown = resolve(string_list("teardown", true));
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
  try {
    check_placeholders(t);
  } catch (const config_error& e) {
    fail(e.pointer(), e.message());
  }
  return t;
}

}  // namespace smtpsim::harness
