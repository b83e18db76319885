#include "simulator/protocol/ehlo.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

reply read_reply(std::string_view wire) {
  reply_reader reader;
  reader.feed(wire);
  auto r = reader.next();
  EXPECT_TRUE(r) << wire;
  return r ? std::move(r).value() : reply{};
}

TEST(ParseEhlo, ReadsDomainGreetingAndExtensions) {
  ehlo_info info = parse_ehlo(read_reply(
      "250-mx.example.test Hello client [192.0.2.1]\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
      "250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n"));
  EXPECT_EQ(info.domain, "mx.example.test");
  EXPECT_EQ(info.greeting, "Hello client [192.0.2.1]");
  EXPECT_EQ(info.keywords(), (std::vector<std::string>{"PIPELINING", "SIZE", "AUTH", "STARTTLS",
                                                       "ENHANCEDSTATUSCODES"}));
  EXPECT_FALSE(info.first_line_is_keyword);
  EXPECT_FALSE(info.duplicate_keywords);
  const ehlo_extension* auth = info.find("auth");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->params, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_EQ(auth->line, "AUTH PLAIN LOGIN");
  EXPECT_TRUE(info.has("StartTLS"));
  EXPECT_FALSE(info.has("CHUNKING"));
  EXPECT_EQ(info.find("CHUNKING"), nullptr);
}

TEST(ParseEhlo, UppercasesKeywordsAndKeepsParametersAsSent) {
  ehlo_info info = parse_ehlo(read_reply("250-a.test\r\n250 auth  plain   Login\r\n"));
  ASSERT_EQ(info.extensions.size(), 1u);
  EXPECT_EQ(info.extensions[0].keyword, "AUTH");
  EXPECT_EQ(info.extensions[0].params, (std::vector<std::string>{"plain", "Login"}));
  EXPECT_EQ(info.extensions[0].line, "auth  plain   Login");
}

TEST(ParseEhlo, SingleLineReplyHasNoExtensions) {
  ehlo_info info = parse_ehlo(read_reply("250 mx.example.test\r\n"));
  EXPECT_EQ(info.domain, "mx.example.test");
  EXPECT_EQ(info.greeting, "");
  EXPECT_TRUE(info.extensions.empty());
  EXPECT_EQ(parse_ehlo(reply{}), ehlo_info{});
}

TEST(ParseEhlo, FlagsKeywordOnTheFirstLine) {
  // Check broken.srv-ehlo-grammar (Cisco doc 212587): the first line must be the domain.
  ehlo_info info = parse_ehlo(read_reply("250-STARTTLS\r\n250 PIPELINING\r\n"));
  EXPECT_TRUE(info.first_line_is_keyword);
  EXPECT_EQ(info.domain, "STARTTLS");
  EXPECT_FALSE(info.has("STARTTLS"));
  EXPECT_TRUE(info.has("PIPELINING"));
  EXPECT_TRUE(parse_ehlo(read_reply("250-pipelining\r\n250 8BITMIME\r\n")).first_line_is_keyword);
  EXPECT_TRUE(parse_ehlo(read_reply("250-SIZE 1000\r\n250 HELP\r\n")).first_line_is_keyword);
  EXPECT_TRUE(parse_ehlo(read_reply("250-AUTH=LOGIN\r\n250 HELP\r\n")).first_line_is_keyword);
}

TEST(ParseEhlo, DoesNotFlagHostNamesOnTheFirstLine) {
  for (std::string_view wire :
       {"250-localhost\r\n250 STARTTLS\r\n", "250-mx1 ESMTP\r\n250 STARTTLS\r\n",
        "250-size.example.test\r\n250 STARTTLS\r\n", "250-[192.0.2.1]\r\n250 STARTTLS\r\n"}) {
    EXPECT_FALSE(parse_ehlo(read_reply(wire)).first_line_is_keyword) << wire;
  }
}

TEST(ParseEhlo, FlagsDuplicateKeywords) {
  ehlo_info info = parse_ehlo(read_reply("250-a.test\r\n250-SIZE 1\r\n250-size 2\r\n250 X\r\n"));
  EXPECT_TRUE(info.duplicate_keywords);
  EXPECT_EQ(info.find("SIZE")->params, std::vector<std::string>{"1"});
}

TEST(ParseEhlo, SkipsEmptyLines) {
  ehlo_info info = parse_ehlo(read_reply("250-a.test\r\n250-\r\n250- \r\n250 DSN\r\n"));
  EXPECT_EQ(info.keywords(), std::vector<std::string>{"DSN"});
}

TEST(FormatEhlo, RoundTripsThroughTheParser) {
  const std::string wire =
      format_ehlo("mx.test", "greets you", {"PIPELINING", "SIZE 1000", "STARTTLS"});
  EXPECT_EQ(wire, "250-mx.test greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n");
  ehlo_info info = parse_ehlo(read_reply(wire));
  EXPECT_EQ(info.domain, "mx.test");
  EXPECT_EQ(info.greeting, "greets you");
  EXPECT_EQ(info.keywords(), (std::vector<std::string>{"PIPELINING", "SIZE", "STARTTLS"}));
  EXPECT_EQ(format_ehlo("mx.test", "", {}), "250 mx.test\r\n");
}

}  // namespace
}  // namespace smtpsim::protocol
