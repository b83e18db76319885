#include "simulator/protocol/address.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

// domain_of_length builds a valid domain of exactly `n` octets from labels of up to 63 octets.
std::string domain_of_length(std::size_t n) {
  std::string out;
  while (out.size() < n) {
    if (!out.empty()) {
      out += '.';
    }
    const std::size_t left = n - out.size();
    // Never leave a remainder of 1 (it would need a label after a trailing dot).
    std::size_t label = std::min<std::size_t>(63, left);
    if (left > 63 && left - label < 2) {
      label = left - 2;
    }
    out += std::string(label, 'd');
  }
  return out;
}

TEST(ParsePath, ParsesSimpleMailbox) {
  auto p = parse_path("<user@example.test>");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->null);
  EXPECT_EQ(p->box.local_part, "user");
  EXPECT_EQ(p->box.domain, "example.test");
  EXPECT_FALSE(p->box.quoted_local_part);
  EXPECT_FALSE(p->box.address_literal);
  EXPECT_TRUE(p->source_route.empty());
  EXPECT_EQ(p->to_string(), "<user@example.test>");
  EXPECT_EQ(p->box.to_string(), "user@example.test");
}

TEST(ParsePath, AcceptsNullPathOnlyWhenAllowed) {
  EXPECT_EQ(parse_path("<>").error(), errc::path_not_null);
  auto p = parse_path("<>", {.allow_null = true});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->null);
  EXPECT_EQ(p->to_string(), "<>");
}

TEST(ParsePath, ParsesSourceRoutes) {
  auto p = parse_path("<@a.test,@b.test:user@c.test>");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->source_route, (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(p->box.domain, "c.test");
  EXPECT_EQ(p->to_string(), "<@a.test,@b.test:user@c.test>");
  auto one = parse_path("<@relay.test:u@x.test>");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->source_route, std::vector<std::string>{"relay.test"});
}

TEST(ParsePath, RejectsMalformedSourceRoutes) {
  for (std::string_view text : {"<@a.test user@c.test>", "<@a.test,user@c.test>", "<@:u@c.test>",
                                "<@a.test,:u@c.test>", "<@[1.2.3.4]:u@c.test>", "<@a.test:>"}) {
    EXPECT_EQ(parse_path(text).error(), errc::path_syntax) << text;
  }
}

TEST(ParsePath, ParsesQuotedLocalParts) {
  auto p = parse_path(R"(<"john smith"@example.test>)");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->box.quoted_local_part);
  EXPECT_EQ(p->box.local_part, R"("john smith")");
  EXPECT_EQ(p->to_string(), R"(<"john smith"@example.test>)");

  auto escaped = parse_path(R"(<"a\"b\\c>d"@example.test>)");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->box.local_part, R"("a\"b\\c>d")");
  EXPECT_TRUE(parse_path(R"(<""@example.test>)"));
}

TEST(ParsePath, RejectsMalformedQuotedLocalParts) {
  using namespace std::string_view_literals;
  for (std::string_view text :
       {R"(<"abc@example.test>)"sv, R"(<"a"b"@example.test>)"sv, "<\"a\\\x01\"@example.test>"sv,
        "<\"a\tb\"@example.test>"sv, "<\"a\0b\"@example.test>"sv, R"(<"a"@>)"sv}) {
    EXPECT_EQ(parse_path(text).error(), errc::path_syntax) << text;
  }
}

TEST(ParsePath, FindsTheEndOfAPathWithAnAngleBracketInQuotes) {
  std::size_t consumed = 0;
  auto p = parse_path_prefix(R"(<"a>b"@x.test> SIZE=100)", &consumed);
  ASSERT_TRUE(p);
  EXPECT_EQ(consumed, 14u);
  EXPECT_EQ(p->box.local_part, R"("a>b")");
}

TEST(ParsePath, ChecksDotStrings) {
  EXPECT_TRUE(parse_path("<first.last+tag@x.test>"));
  EXPECT_TRUE(parse_path("<!#$%&'*+-/=?^_`{|}~@x.test>"));
  for (std::string_view text :
       {"<.a@x.test>", "<a.@x.test>", "<a..b@x.test>", "<a b@x.test>", "<a(b)@x.test>", "<@x.test>",
        "<a@@x.test>", "<a>", "<a@x.test", "a@x.test>", "<a@x.test>>", ""}) {
    EXPECT_EQ(parse_path(text).error(), errc::path_syntax) << text;
  }
}

TEST(ParsePath, ChecksDomainLabels) {
  EXPECT_TRUE(parse_path("<a@x-y.test>"));
  EXPECT_TRUE(parse_path("<a@1.2.3.example>"));
  EXPECT_TRUE(parse_path("<a@localhost>"));
  for (std::string_view text : {"<a@-x.test>", "<a@x-.test>", "<a@x..test>", "<a@x.test.>",
                                "<a@.x.test>", "<a@x_y.test>", "<a@>"}) {
    EXPECT_EQ(parse_path(text).error(), errc::path_syntax) << text;
  }
}

TEST(ParsePath, ParsesIpv4AddressLiterals) {
  auto p = parse_path("<a@[192.0.2.1]>");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->box.address_literal);
  EXPECT_EQ(p->box.domain, "[192.0.2.1]");
  EXPECT_TRUE(parse_path("<a@[0.0.0.0]>"));
  EXPECT_TRUE(parse_path("<a@[255.255.255.255]>"));
  for (std::string_view text :
       {"<a@[256.0.0.1]>", "<a@[1.2.3]>", "<a@[1.2.3.4.5]>", "<a@[1.2.3.4]x>", "<a@[1.2.3.4>",
        "<a@[0001.2.3.4]>", "<a@[]>", "<a@[1..2.3]>"}) {
    EXPECT_EQ(parse_path(text).error(), errc::path_syntax) << text;
  }
}

TEST(AddressLiteral, AcceptsEveryIpv6Form) {
  for (std::string_view text : {
           "[IPv6:2001:db8:0:0:0:0:0:1]",      // IPv6-full
           "[IPv6:2001:db8::1]",               // IPv6-comp
           "[IPv6:::1]",                       // comp, nothing before "::"
           "[IPv6:::]",                        // comp, nothing at all
           "[IPv6:fe80::]",                    // comp, nothing after
           "[IPv6:1:2:3::4:5:6]",              // comp, 6 groups in total
           "[IPv6:0:0:0:0:0:ffff:192.0.2.1]",  // IPv6v4-full
           "[IPv6:::ffff:192.0.2.1]",          // IPv6v4-comp
           "[IPv6:1:2::3:4:192.0.2.1]",        // v4-comp, 4 groups
           "[ipv6:ABCD::ef]",                  // ABNF literals are case-insensitive
       }) {
    EXPECT_TRUE(is_valid_address_literal(text)) << text;
  }
}

TEST(AddressLiteral, RejectsMalformedIpv6) {
  for (std::string_view text : {
           "[IPv6:2001:db8:0:0:0:0:1]",    // 7 groups, no "::"
           "[IPv6:1:2:3:4:5:6:7:8:9]",     // 9 groups
           "[IPv6:1::2::3]",               // two "::"
           "[IPv6:1:2:3:4::5:6:7]",        // "::" with 7 groups (RFC 5321 allows 6)
           "[IPv6:12345::1]",              // 5 hex digits
           "[IPv6:g::1]",                  // not hex
           "[IPv6:1:::2]",                 // ":::"
           "[IPv6:1:2:3:4:5::192.0.2.1]",  // v4-comp with 5 groups
           "[IPv6:1:2:3:4:5:192.0.2.1]",   // v4-full with 5 groups
           "[IPv6:192.0.2.1::1]",          // IPv4 not last
           "[IPv6:]",
           "[IPv6:1:]",
           "[IPv6::1]",
       }) {
    EXPECT_FALSE(is_valid_address_literal(text)) << text;
  }
  EXPECT_EQ(parse_path("<a@[IPv6:1::2::3]>").error(), errc::path_syntax);
  EXPECT_TRUE(parse_path("<a@[IPv6:2001:db8::1]>"));
}

TEST(AddressLiteral, AcceptsGeneralLiterals) {
  EXPECT_TRUE(is_valid_address_literal("[x-tag:some-content]"));
  EXPECT_TRUE(is_valid_address_literal("[tag:a:b]"));
  EXPECT_FALSE(is_valid_address_literal("[tag:]"));
  EXPECT_FALSE(is_valid_address_literal("[:abc]"));
  EXPECT_FALSE(is_valid_address_literal("[tag-:abc]"));
  EXPECT_FALSE(is_valid_address_literal("[ta g:abc]"));
  EXPECT_FALSE(is_valid_address_literal("[tag:a\\b]"));
  EXPECT_FALSE(is_valid_address_literal("[tag:a b]"));
  EXPECT_FALSE(is_valid_address_literal("tag:abc"));
  EXPECT_FALSE(is_valid_address_literal("[abc]"));
  EXPECT_FALSE(is_valid_address_literal("["));
}

TEST(ParsePath, FlagsLocalPartLongerThan64) {
  const std::string at_limit = "<" + std::string(64, 'l') + "@x.test>";
  auto ok = parse_path(at_limit);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->local_part_too_long);
  auto over = parse_path("<" + std::string(65, 'l') + "@x.test>");
  ASSERT_TRUE(over);
  EXPECT_TRUE(over->local_part_too_long);
}

TEST(ParsePath, FlagsDomainLongerThan255) {
  const std::string d255 = domain_of_length(255);
  ASSERT_EQ(d255.size(), 255u);
  ASSERT_TRUE(is_valid_domain(d255));
  auto ok = parse_path("<a@" + d255 + ">");
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->domain_too_long);
  auto over = parse_path("<a@" + domain_of_length(256) + ">");
  ASSERT_TRUE(over);
  EXPECT_TRUE(over->domain_too_long);
}

TEST(ParsePath, FlagsPathLongerThan256) {
  // Check line.path-limits: 256 octets including the brackets is accepted.
  const std::string local(64, 'l');
  const std::string at_limit = "<" + local + "@" + domain_of_length(256 - 3 - 64) + ">";
  ASSERT_EQ(at_limit.size(), 256u);
  auto ok = parse_path(at_limit);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->path_too_long);
  EXPECT_FALSE(ok->local_part_too_long);
  EXPECT_FALSE(ok->domain_too_long);
  const std::string over = "<" + local + "@" + domain_of_length(257 - 3 - 64) + ">";
  ASSERT_EQ(over.size(), 257u);
  auto too_long = parse_path(over);
  ASSERT_TRUE(too_long);
  EXPECT_TRUE(too_long->path_too_long);
}

TEST(ParsePath, RejectsEightBitUnlessAllowed) {
  // Check line.8bit-in-command: without SMTPUTF8 8-bit octets are not part of the grammar.
  const std::string text =
      "<\xc3\xa9t\xc3\xa9@b\xc3\xbc"
      "cher.test>";
  EXPECT_EQ(parse_path(text).error(), errc::path_syntax);
  auto p = parse_path(text, {.allow_8bit = true});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->eight_bit);
  EXPECT_FALSE(parse_path("<a@x.test>", {.allow_8bit = true})->eight_bit);
  EXPECT_TRUE(parse_path("<\"\xc3\xa9\"@x.test>", {.allow_8bit = true}));
}

TEST(ParsePath, RejectsInvalidUtf8EvenWhenEightBitIsAllowed) {
  for (std::string_view text : {"<\xc3@x.test>", "<\xc0\xaf@x.test>", "<\xed\xa0\x80@x.test>",
                                "<\xf5\x80\x80\x80@x.test>", "<\x80@x.test>"}) {
    EXPECT_EQ(parse_path(text, {.allow_8bit = true}).error(), errc::path_syntax);
  }
}

TEST(ParsePath, RejectsControlCharacters) {
  using namespace std::string_view_literals;
  // Check line.nul-in-command.
  EXPECT_EQ(parse_path("<a\0b@x.test>"sv).error(), errc::path_syntax);
  EXPECT_EQ(parse_path("<a\rb@x.test>").error(), errc::path_syntax);
  EXPECT_EQ(parse_path("<a@x.te\x7fst>").error(), errc::path_syntax);
}

TEST(ParsePath, AcceptsBareMailboxOnlyWhenAllowed) {
  EXPECT_EQ(parse_path("user@x.test").error(), errc::path_syntax);
  auto p = parse_path("user@x.test", {.allow_no_brackets = true});
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->brackets_missing);
  EXPECT_EQ(p->to_string(), "<user@x.test>");
  std::size_t consumed = 0;
  auto prefix = parse_path_prefix("user@x.test SIZE=1", &consumed, {.allow_no_brackets = true});
  ASSERT_TRUE(prefix);
  EXPECT_EQ(consumed, 11u);
  EXPECT_FALSE(parse_path("<a@x.test>", {.allow_no_brackets = true})->brackets_missing);
}

TEST(ParsePath, AcceptsPostmasterWithoutDomainOnlyWhenAllowed) {
  EXPECT_EQ(parse_path("<Postmaster>").error(), errc::path_syntax);
  auto p = parse_path("<postMASTER>", {.allow_postmaster = true});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->box.local_part, "postMASTER");
  EXPECT_EQ(p->box.domain, "");
  EXPECT_EQ(p->to_string(), "<postMASTER>");
  EXPECT_EQ(parse_path("<other>", {.allow_postmaster = true}).error(), errc::path_syntax);
}

TEST(ParsePath, RejectsTrailingTextButPrefixParseStopsBeforeIt) {
  EXPECT_EQ(parse_path("<a@x.test> SIZE=1").error(), errc::path_syntax);
  std::size_t consumed = 0;
  ASSERT_TRUE(parse_path_prefix("<a@x.test> SIZE=1", &consumed));
  EXPECT_EQ(consumed, 10u);
}

TEST(IsValidDomain, FollowsTheSubDomainGrammar) {
  EXPECT_TRUE(is_valid_domain("example.test"));
  EXPECT_TRUE(is_valid_domain("a"));
  EXPECT_TRUE(is_valid_domain("0-9.x1"));
  EXPECT_FALSE(is_valid_domain(""));
  EXPECT_FALSE(is_valid_domain("a..b"));
  EXPECT_FALSE(is_valid_domain("-a"));
  EXPECT_FALSE(is_valid_domain("a-"));
  EXPECT_FALSE(is_valid_domain("a.b."));
  EXPECT_FALSE(is_valid_domain("my_host"));
  EXPECT_FALSE(is_valid_domain("b\xc3\xbc.test"));
  EXPECT_FALSE(is_valid_domain("[1.2.3.4]"));
}

}  // namespace
}  // namespace smtpsim::protocol
