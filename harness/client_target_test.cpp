#include "harness/client_target.hpp"

#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "harness/process.hpp"
#include "harness/scenario_loader.hpp"

#include <unistd.h>

namespace smtpsim::harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using words = std::vector<std::string>;

TEST(ClientPolicy, ParsesPostfixSecurityLevels) {
  for (auto p : {client_policy::none, client_policy::may, client_policy::encrypt,
                 client_policy::verify, client_policy::secure}) {
    EXPECT_EQ(parse_client_policy(to_string(p)), p);
  }
  EXPECT_EQ(to_string(client_policy::encrypt), "encrypt");
  EXPECT_FALSE(parse_client_policy("dane").has_value());
  EXPECT_FALSE(parse_client_policy("May").has_value());
  EXPECT_FALSE(parse_client_policy("").has_value());
}

// ClientTargetFile writes one file per test and process (ctest runs tests concurrently).
class ClientTargetFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("smtpsim-client-target-" + std::string(info->name()) + "-" +
                                        std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& text, const std::string& name = "client.json") {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // error_of loads `text` and returns the config_error it must throw.
  config_error error_of(const std::string& text) {
    const fs::path p = write(text);
    try {
      load_client_target_file(p);
    } catch (const config_error& e) {
      EXPECT_EQ(e.file(), p.string());
      return e;
    }
    ADD_FAILURE() << "no error for " << text;
    return config_error("", "", {}, "");
  }

  fs::path dir_;
};

TEST_F(ClientTargetFile, LoadsEveryField) {
  const fs::path p = write(R"({
  "$schema": "../schema/client-target.json",
  "kind": "client",
  "name": "swaks-verify",
  "description": "swaks with a CA file",
  "policy": "verify",
  "wrapper": true,
  "command": ["./run-swaks", "--server", "{host}:{port}", "--tls-ca-path", "{ca_file}",
              "--config=./not-resolved", "./"],
  "timeout_ms": 5000,
  "jobs": 4,
  "capabilities": ["auth", "client_cert"],
  "requires_programs": ["swaks", "perl"],
  "setup": ["./setup.sh", "{run_dir}"],
  "teardown": ["rm", "-f", "{run_dir}/x"],
  "expected_failures": {"c.starttls.*": "swaks does not check the name", "c.x": "why"}
})");
  const client_target t = load_client_target_file(p);
  const fs::path folder = fs::absolute(dir_);
  EXPECT_EQ(t.name, "swaks-verify");
  EXPECT_EQ(t.description, "swaks with a CA file");
  EXPECT_EQ(t.policy, client_policy::verify);
  EXPECT_TRUE(t.wrapper);
  EXPECT_EQ(t.command,
            (words{(folder / "run-swaks").string(), "--server", "{host}:{port}", "--tls-ca-path",
                   "{ca_file}", "--config=./not-resolved", folder.string() + "/"}));
  EXPECT_EQ(t.timeout, 5000ms);
  EXPECT_EQ(t.jobs, 4u);
  EXPECT_EQ(t.capabilities, (std::set<std::string>{"auth", "client_cert"}));
  EXPECT_EQ(t.requires_programs, (words{"swaks", "perl"}));
  EXPECT_EQ(t.setup, (words{(folder / "setup.sh").string(), "{run_dir}"}));
  EXPECT_EQ(t.teardown, (words{"rm", "-f", "{run_dir}/x"}));
  EXPECT_EQ(t.expected_failures.size(), 2u);
  EXPECT_EQ(t.expected_failures.at("c.starttls.*"), "swaks does not check the name");
  EXPECT_EQ(t.file, p);
}

TEST_F(ClientTargetFile, HasDefaults) {
  const client_target t =
      load_client_target_file(write(R"({"kind": "client", "command": ["swaks"]})", "mine.json"));
  EXPECT_EQ(t.name, "mine");
  EXPECT_EQ(t.policy, client_policy::may);
  EXPECT_FALSE(t.wrapper);
  EXPECT_EQ(t.command, words{"swaks"});
  EXPECT_EQ(t.timeout, 20000ms);
  EXPECT_EQ(t.jobs, 0u);
  EXPECT_TRUE(t.capabilities.empty());
  EXPECT_TRUE(t.setup.empty());
  EXPECT_TRUE(t.expected_failures.empty());
}

TEST_F(ClientTargetFile, ErrorsNameFileLineColumnAndPointer) {
  const config_error e = error_of(
      "{\n  \"kind\": \"client\",\n  \"command\": [\"swaks\", \"--server\",\n"
      "    \"{hots}:{port}\"]\n}");
  EXPECT_EQ(e.pointer(), "/command/2");
  EXPECT_EQ(e.where().line, 4u);
  EXPECT_EQ(e.where().column, 5u);
  EXPECT_NE(e.message().find("unknown placeholder {hots}"), std::string::npos) << e.message();
  EXPECT_EQ(std::string(e.what()).rfind(e.file() + ":4:5: /command/2: unknown placeholder", 0), 0u)
      << e.what();
}

struct bad_file {
  const char* text;
  const char* pointer;
  std::size_t line;
  std::size_t column;
  const char* message_part;
};

TEST_F(ClientTargetFile, RejectsEachMistakeAtItsPlace) {
  const bad_file cases[] = {
      {R"({"command": ["x"]})", "", 1, 1, "missing required field \"kind\""},
      {R"({"kind": "server", "command": ["x"]})", "/kind", 1, 10, "\"kind\": \"client\""},
      {R"({"kind": 1, "command": ["x"]})", "/kind", 1, 10, "expected a string"},
      {R"({"kind": "client"})", "", 1, 1, "missing required field \"command\""},
      {"{\"kind\": \"client\",\n \"comand\": [\"x\"]}", "/comand", 2, 2,
       "unknown field \"comand\""},
      {R"({"kind": "client", "command": []})", "/command", 1, 31, "non-empty array"},
      {R"({"kind": "client", "command": "swaks -4"})", "/command", 1, 31, "non-empty array"},
      {R"({"kind": "client", "command": [""]})", "/command/0", 1, 32, "must not be empty"},
      {R"({"kind": "client", "command": ["x", 2]})", "/command/1", 1, 37, "expected a string"},
      {R"({"kind": "client", "command": ["x"], "policy": "dane"})", "/policy", 1, 48,
       "unknown policy \"dane\""},
      {R"({"kind": "client", "command": ["x"], "wrapper": "yes"})", "/wrapper", 1, 49,
       "true or false"},
      {R"({"kind": "client", "command": ["x"], "timeout_ms": 0})", "/timeout_ms", 1, 52,
       "whole number"},
      {R"({"kind": "client", "command": ["x"], "timeout_ms": 2.5})", "/timeout_ms", 1, 52,
       "whole number"},
      {R"({"kind": "client", "command": ["x"], "jobs": -1})", "/jobs", 1, 46, "whole number"},
      {R"({"kind": "client", "command": ["x"], "capabilities": ["auth", "auth"]})",
       "/capabilities/1", 1, 63, "listed twice"},
      {R"({"kind": "client", "command": ["x"], "capabilities": ["Client-Cert"]})",
       "/capabilities/0", 1, 55, "lower-case"},
      {R"({"kind": "client", "command": ["x"], "requires_programs": "swaks"})",
       "/requires_programs", 1, 59, "array of strings"},
      {R"({"kind": "client", "command": ["x"], "setup": []})", "/setup", 1, 47, "non-empty array"},
      {R"({"kind": "client", "command": ["x"], "setup": ["s", "{port}"]})", "/setup/1", 1, 53,
       "differs per case"},
      {R"({"kind": "client", "command": ["x"], "teardown": ["t", "{case_dir}"]})", "/teardown/1", 1,
       56, "differs per case"},
      {R"({"kind": "client", "command": ["x"], "expected_failures": ["c.*"]})",
       "/expected_failures", 1, 59, "case id globs to reasons"},
      {R"({"kind": "client", "command": ["x"], "expected_failures": {"c.*": ""}})",
       "/expected_failures/c.*", 1, 67, "must not be empty"},
      {R"({"kind": "client", "command": ["x", "{host"]})", "/command/1", 1, 37, "unmatched '{'"},
      {R"({"kind": "client", "kind": "client", "command": ["x"]})", "/kind", 1, 20,
       "duplicate field"},
      {"{\"kind\": \"client\",\n\"command\": [\"x\",]}", "", 2, 17, "invalid JSON"},
      {R"(["kind", "client"])", "", 1, 1, "expected an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const config_error e = error_of(c.text);
    EXPECT_EQ(e.pointer(), c.pointer);
    EXPECT_EQ(e.where().line, c.line);
    EXPECT_EQ(e.where().column, c.column);
    EXPECT_NE(e.message().find(c.message_part), std::string::npos) << e.message();
  }
}

TEST_F(ClientTargetFile, MissingFileIsAConfigError) {
  EXPECT_THROW(load_client_target_file(dir_ / "missing.json"), config_error);
}

TEST(SplitCommand, SplitsLikeAShellWithoutExpanding) {
  const std::pair<const char*, words> cases[] = {
      {"swaks --to a@b.test", {"swaks", "--to", "a@b.test"}},
      {"  a \t b\n c  ", {"a", "b", "c"}},
      {"'a b' c", {"a b", "c"}},
      {R"("a \"b\" \\ \$x \`")", {R"(a "b" \ $x `)"}},
      {R"("a\nb")", {R"(a\nb)"}},  // other backslashes stay in double quotes (POSIX)
      {R"(a\ b a\|b)", {"a b", "a|b"}},
      {"a '' b", {"a", "", "b"}},
      {R"(x'y'"z")", {"xyz"}},
      {"'$(x) `y` | ; && > $HOME'", {"$(x) `y` | ; && > $HOME"}},
      {"\"a|b;c&d>e<f(g)\"", {"a|b;c&d>e<f(g)"}},
      {"--server={host}:{port} {{x}}", {"--server={host}:{port}", "{{x}}"}},
      {"price=5$ a$ $", {"price=5$", "a$", "$"}},
      {"a#b *.pem ~/x", {"a#b", "*.pem", "~/x"}},  // no globbing, no tilde expansion
      {"a\\\nb", {"ab"}},                          // backslash-newline joins lines
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(split_command(in), out) << in;
  }
}

TEST(SplitCommand, RefusesShellSyntaxAndUnterminatedQuotes) {
  const std::tuple<const char*, std::size_t, const char*> cases[] = {
      {"a | b", 3, "'|' is shell syntax"},
      {"a; b", 2, "';' is shell syntax"},
      {"a && b", 3, "'&&' is shell syntax"},
      {"a & ", 3, "'&' is shell syntax"},
      {"a > out", 3, "'>' is shell syntax"},
      {"a 2>&1", 4, "'>' is shell syntax"},
      {"a < in", 3, "'<' is shell syntax"},
      {"(a)", 1, "'(' is shell syntax"},
      {"a $(b)", 3, "'$(' would be command substitution"},
      {"a `b`", 3, "'`' is shell syntax"},
      {"a \"$(b)\"", 4, "'$' would be expanded"},
      {"a \"`b`\"", 4, "'`' would be command substitution"},
      {"a $HOME", 3, "'$' would be expanded"},
      {"a \"${HOME}\"", 4, "'$' would be expanded"},
      {"a #comment", 3, "shell comment"},
      {"a 'b", 3, "unterminated single quote"},
      {"a \"b", 3, "unterminated double quote"},
      {"a \"b\\\"", 3, "unterminated double quote"},
      {"a\\", 2, "backslash at the end"},
      {"", 1, "empty"},
      {"   ", 1, "empty"},
  };
  for (const auto& [in, column, part] : cases) {
    SCOPED_TRACE(in);
    try {
      split_command(in);
      ADD_FAILURE() << "accepted";
    } catch (const config_error& e) {
      EXPECT_EQ(e.file(), "--client");
      EXPECT_EQ(e.where().column, column);
      EXPECT_NE(e.message().find(part), std::string::npos) << e.message();
    }
  }
  try {
    split_command("a | b");
  } catch (const config_error& e) {
    EXPECT_NE(e.message().find("the client command is run without a shell"), std::string::npos);
  }
}

TEST(Placeholders, FillsEveryNameInsideWords) {
  const placeholder_values v{.host = "127.0.0.1",
                             .port = "2525",
                             .server_name = "mx.test",
                             .ca_file = "/pki/ca.pem",
                             .cert_file = "/pki/c.pem",
                             .key_file = "/pki/c.key",
                             .auth_user = "u",
                             .auth_password = "p",
                             .from = "f@a.test",
                             .to = "t@b.test",
                             .token = "T1",
                             .case_dir = "/run/c1",
                             .run_dir = "/run",
                             .source_dir = "/src"};
  const words in{"{host}:{port}",
                 "{server_name}",
                 "--ca={ca_file}",
                 "{cert_file},{key_file}",
                 "{auth_user}/{auth_password}",
                 "<{from}>",
                 "{to}",
                 "x{token}y",
                 "{case_dir}/log",
                 "{run_dir}",
                 "{source_dir}",
                 "{{host}}",
                 "}}{{",
                 "plain",
                 ""};
  const words out{"127.0.0.1:2525",
                  "mx.test",
                  "--ca=/pki/ca.pem",
                  "/pki/c.pem,/pki/c.key",
                  "u/p",
                  "<f@a.test>",
                  "t@b.test",
                  "xT1y",
                  "/run/c1/log",
                  "/run",
                  "/src",
                  "{host}",
                  "}{",
                  "plain",
                  ""};
  EXPECT_EQ(fill_placeholders(in, v), out);
}

TEST(Placeholders, UnknownNamesAndLoneBracesAreErrors) {
  const placeholder_values v;
  try {
    fill_placeholders({"--server={hots}"}, v);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown placeholder {hots}"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("{host}"), std::string::npos);  // lists known ones
  }
  for (const char* bad : {"{}", "{host", "host}", "{a{host}}", "{HOST}"}) {
    EXPECT_THROW(fill_placeholders({bad}, v), std::invalid_argument) << bad;
  }
}

TEST(Placeholders, CheckNamesTheWordOfACliCommand) {
  try {
    client_target_from_cli("swaks --to {to} --server {hots}", client_policy::may, false, 1s, {});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "--client");
    EXPECT_EQ(e.pointer(), "/command/4");
    EXPECT_NE(e.message().find("{hots}"), std::string::npos);
  }
}

TEST(ClientTargetFromCli, SplitsTheCommandAndKeepsTheSettings) {
  const client_target t = client_target_from_cli("/usr/bin/swaks --server '{host}:{port}' --tls",
                                                 client_policy::encrypt, true, 3s, {"auth"});
  EXPECT_EQ(t.name, "swaks");
  EXPECT_EQ(t.command, (words{"/usr/bin/swaks", "--server", "{host}:{port}", "--tls"}));
  EXPECT_EQ(t.policy, client_policy::encrypt);
  EXPECT_TRUE(t.wrapper);
  EXPECT_EQ(t.timeout, 3000ms);
  EXPECT_EQ(t.capabilities, std::set<std::string>{"auth"});
  EXPECT_TRUE(t.file.empty());
  EXPECT_THROW(client_target_from_cli("a | b", client_policy::may, false, 1s, {}), config_error);
  EXPECT_THROW(client_target_from_cli("a", client_policy::may, false, 0s, {}), config_error);
}

TEST(ClientTarget, ListsMissingPrograms) {
  client_target t;
  t.requires_programs = {"sh", "smtpsim-no-such-program"};
  EXPECT_EQ(missing_programs(t), words{"smtpsim-no-such-program"});
}

TEST_F(ClientTargetFile, RunsAResolvedAndFilledCommand) {
  const fs::path script = dir_ / "client.sh";
  std::ofstream(script) << "#!/bin/sh\nprintf '%s' \"$*\"\n";
  fs::permissions(script, fs::perms::owner_all);
  const client_target t = load_client_target_file(
      write(R"({"kind": "client", "command": ["./client.sh", "{host}:{port}", "{{x}}"]})"));
  placeholder_values v;
  v.host = "127.0.0.1";
  v.port = "2525";
  process_spec spec{.argv = fill_placeholders(t.command, v), .stdout_file = dir_ / "out"};
  auto child = child_process::spawn(spec);
  ASSERT_EQ(child.wait_for(10s), 0);
  EXPECT_EQ(tail_of_file(dir_ / "out", 100), "127.0.0.1:2525 {x}");
}

}  // namespace
}  // namespace smtpsim::harness
