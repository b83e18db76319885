#include "harness/target.hpp"

#include <fstream>

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

}  // namespace
}  // namespace smtpsim::harness
