#include "harness/target.hpp"

#include <fstream>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "harness/scenario_loader.hpp"

#include <unistd.h>

namespace smtpsim::harness {
namespace {

namespace fs = std::filesystem;

TEST(ListenerUrl, ParsesSchemesHostsAndPorts) {
  auto a = parse_listener_url("smtp://127.0.0.1:2525");
  EXPECT_FALSE(a.implicit_tls);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 2525);
  auto b = parse_listener_url("smtps://[::1]:465");
  EXPECT_TRUE(b.implicit_tls);
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 465);
}

TEST(ListenerUrl, RejectsWhatIsNotAListener) {
  for (const char* bad : {"http://x:1", "smtp://x", "smtp://:25", "smtp://x:0", "smtp://x:70000",
                          "smtp://x:2a", "smtps://[::1:465"}) {
    EXPECT_THROW(parse_listener_url(bad), config_error) << bad;
  }
}

TEST(TargetFromUrls, NamesListenersBySchemeAndRefusesTwins) {
  auto t = target_from_urls({"smtp://127.0.0.1:25", "smtps://127.0.0.1:465"});
  EXPECT_EQ(t.listeners.at("starttls").port, 25);
  EXPECT_EQ(t.listeners.at("wrapper").port, 465);
  EXPECT_THROW(target_from_urls({"smtp://a:1", "smtp://b:2"}), config_error);
}

TEST(DerivedVars, BuildsThePlainResponseAndTheLocalDomain) {
  script::bindings v{{"auth_user", "u"}, {"auth_password", "p"}, {"local_rcpt", "pm@ex.test"}};
  add_derived_vars(v);
  EXPECT_EQ(v.at("auth_plain"), "AHUAcA==");  // base64("\0u\0p"), RFC 4616
  EXPECT_EQ(v.at("local_domain"), "ex.test");
}

class TargetFile : public ::testing::Test {
 protected:
  fs::path write(const std::string& text) {
    // ctest runs each test in its own process, concurrently: one file per test and process.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path p = fs::temp_directory_path() / ("smtpsim-target-" + std::string(info->name()) + "-" +
                                              std::to_string(::getpid()) + ".json");
    std::ofstream(p) << text;
    return p;
  }
};

TEST_F(TargetFile, LoadsListenersTraitsVarsAndTls) {
  auto t = load_target_file(write(R"({
  "name": "pf",
  "listeners": {"starttls": "smtp://127.0.0.1:10025", "wrapper": "smtps://127.0.0.1:10465"},
  "traits": ["public_mx"],
  "vars": {"local_rcpt": "postmaster@mx.test"},
  "tls": {"server_name": "mx.test"}
})"));
  EXPECT_EQ(t.name, "pf");
  EXPECT_EQ(t.listeners.size(), 2u);
  EXPECT_EQ(t.traits.count("public_mx"), 1u);
  EXPECT_EQ(t.server_name, "mx.test");
}

TEST_F(TargetFile, WrongSchemeForTheWrapperIsPinpointed) {
  try {
    load_target_file(
        write("{\n  \"listeners\": {\n    \"wrapper\": \"smtp://127.0.0.1:465\"\n  }\n}"));
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(e.pointer(), "/listeners/wrapper");
    EXPECT_EQ(e.where().line, 3u);
    EXPECT_EQ(e.where().column, 16u);
  }
}

TEST_F(TargetFile, UnknownFieldsAreErrors) {
  try {
    load_target_file(write("{\"listeners\": {\"starttls\": \"smtp://a:1\"}, \"start\": \"x\"}"));
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(e.pointer(), "/start");
  }
}

TEST_F(TargetFile, StartedTargetsGetSetupTeardownSinkAndPortsFromTheHarness) {
  const fs::path f = write(R"({
  "kind": "server",
  "listeners": {
    "starttls": "smtp://127.0.0.1",
    "tls_required": "smtp://127.0.0.1:{port:starttls}",
    "wrapper": "smtps://127.0.0.1:10465"
  },
  "setup": ["./ctl", "start", "{instance_dir}", "{pki_dir}", "{sink_port}", "--p={port:starttls}"],
  "teardown": ["./ctl", "stop", "{instance_dir}"],
  "ready_timeout_ms": 5000,
  "sink": true,
  "requires_programs": ["sh"],
  "expected_failures": {"auth.*": "a reason"}
})");
  const auto t = load_target_file(f);
  EXPECT_TRUE(t.started());
  EXPECT_TRUE(t.sink);
  EXPECT_EQ(t.traits.count("sink"), 1u);
  EXPECT_EQ(t.setup.at(0), (fs::absolute(f).parent_path() / "ctl").string());
  EXPECT_EQ(t.teardown.at(2), "{instance_dir}");
  EXPECT_EQ(t.ready_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(t.allocated_ports, (std::set<std::string, std::less<>>{"starttls"}));
  EXPECT_EQ(t.port_aliases.at("tls_required"), "starttls");
  EXPECT_EQ(t.listeners.at("starttls").port, 0);
  EXPECT_EQ(t.listeners.at("wrapper").port, 10465);
  EXPECT_EQ(t.expected_failures.at("auth.*"), "a reason");
  EXPECT_EQ(t.requires_programs, std::vector<std::string>{"sh"});
}

TEST_F(TargetFile, AllocatedPortsWorkForIpv6HostsToo) {
  const auto t = load_target_file(write(R"({
  "listeners": {"starttls": "smtp://[::1]", "tls_required": "smtp://[::1]:{port:starttls}"},
  "setup": ["x", "{port:starttls}"]
})"));
  EXPECT_EQ(t.listeners.at("starttls").host, "::1");
  EXPECT_EQ(t.allocated_ports.count("starttls"), 1u);
  EXPECT_EQ(t.port_aliases.at("tls_required"), "starttls");
}

TEST_F(TargetFile, FixedTargetsAreNotStarted) {
  const auto t = load_target_file(write(R"({"listeners": {"starttls": "smtp://a:25"}})"));
  EXPECT_FALSE(t.started());
  EXPECT_TRUE(t.setup.empty());
}

TEST(ServerPlaceholders, FillEveryNameAndRefuseUnknownOnes) {
  server_placeholder_values v;
  v.instance_dir = "/i";
  v.pki_dir = "/p";
  v.sink_port = "2600";
  v.source_dir = "/s";
  v.run_dir = "/r";
  v.ports["starttls"] = "2525";
  const auto out =
      fill_server_placeholders({"{instance_dir}/x", "{pki_dir}", "{sink_port}:{port:starttls}",
                                "{source_dir}{run_dir}", "{{lit}}"},
                               v);
  EXPECT_EQ(out, (std::vector<std::string>{"/i/x", "/p", "2600:2525", "/s/r", "{lit}"}));
  EXPECT_THROW(fill_server_placeholders({"{port:wrapper}"}, v), std::invalid_argument);
  EXPECT_THROW(fill_server_placeholders({"{instance}"}, v), std::invalid_argument);
  EXPECT_THROW(fill_server_placeholders({"{pki_dir"}, v), std::invalid_argument);
}

struct bad_started_file {
  const char* text;
  const char* pointer;
  std::size_t line, column;
  const char* message;  // a part of the message
};

TEST_F(TargetFile, ErrorsInStartedTargetsNameFilePointerAndPosition) {
  const bad_started_file cases[] = {
      {R"({"listeners": {"starttls": "smtp://127.0.0.1"}})", "/listeners/starttls", 1, 28,
       "the harness picks one only for a target it starts"},
      {"{\"listeners\": {\"starttls\": \"smtp://127.0.0.1\"},\n \"setup\": [\"x\", "
       "\"{instanse_dir}\"]}",
       "/setup/1", 2, 17, "unknown placeholder {instanse_dir}"},
      {R"({"listeners": {"starttls": "smtp://127.0.0.1"}, "setup": ["x", "{port:wrapper}"]})",
       "/setup/1", 1, 64, "no listener \"wrapper\""},
      {R"({"listeners": {"starttls": "smtp://127.0.0.1"}, "setup": ["x", "{sink_port}"]})",
       "/setup/1", 1, 64, "needs \"sink\": true"},
      {R"({"listeners": {"a": "smtp://h:{port:b}"}, "setup": ["x"]})", "/listeners/a", 1, 21,
       "no other listener \"b\""},
      {R"({"listeners": {"starttls": "smtp://h:1"}, "traits": ["sink"]})", "/traits/0", 1, 54,
       "comes with \"sink\": true"},
      {R"({"listeners": {"starttls": "smtp://h:1"}, "teardown": ["x"]})", "/teardown", 1, 55,
       "a teardown needs a setup"},
      {R"({"listeners": {"starttls": "smtp://h:1"}, "setup": []})", "/setup", 1, 52,
       "non-empty array"},
      {R"({"listeners": {"starttls": "smtp://h:1"}, "ready_timeout_ms": 0})", "/ready_timeout_ms",
       1, 63, "milliseconds from 1"},
      {R"({"listeners": {"starttls": "smtp://h:1"}, "expected_failures": {"x": ""}})",
       "/expected_failures/x", 1, 70, "must not be empty"},
      {R"({"kind": "client", "listeners": {"starttls": "smtp://h:1"}})", "/kind", 1, 10,
       "\"kind\": \"server\""},
  };
  for (const auto& c : cases) {
    try {
      load_target_file(write(c.text));
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const config_error& e) {
      EXPECT_EQ(e.pointer(), c.pointer) << c.text;
      EXPECT_EQ(e.where().line, c.line) << c.text;
      EXPECT_EQ(e.where().column, c.column) << c.text;
      EXPECT_NE(e.message().find(c.message), std::string::npos) << e.message();
    }
  }
}

}  // namespace
}  // namespace smtpsim::harness
