#include "simulator/protocol/text.hpp"

#include <string>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

TEST(Text, AsciiUpperMapsOnlyLowerCaseLetters) {
  EXPECT_EQ(ascii_upper(std::string_view("StartTls 1.2 {x} \xe9")), "STARTTLS 1.2 {X} \xe9");
  EXPECT_EQ(ascii_upper('q'), 'Q');
  EXPECT_EQ(ascii_upper('`'), '`');  // just below 'a'
  EXPECT_EQ(ascii_upper('{'), '{');  // just above 'z'
}

TEST(Text, IequalsComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(iequals("ehlo", "EHLO"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("EHLO", "EHL"));
  EXPECT_FALSE(iequals("@", "`"));  // 0x40 and 0x60 differ by the case bit but are not letters
  EXPECT_FALSE(iequals("\xc9", "\xe9"));
}

TEST(Text, IstartsWithAndIcontains) {
  EXPECT_TRUE(istarts_with("Mail From:<a@b>", "MAIL FROM:"));
  EXPECT_FALSE(istarts_with("MAIL", "MAIL FROM:"));
  EXPECT_TRUE(icontains("250-smtputf8\r\n250 StartTLS", "STARTTLS"));
  EXPECT_TRUE(icontains("abc", ""));
  EXPECT_FALSE(icontains("STARTTL", "STARTTLS"));
}

TEST(Text, PrintableEscapesLineEndsControlAndNonAscii) {
  EXPECT_EQ(printable(std::string_view("250 ok\r\n\0\x7f\xff", 11)), "250 ok\\r\\n\\x00\\x7f\\xff");
  EXPECT_EQ(printable("plain text"), "plain text");
}

TEST(Text, PrintableIsBoundedAndSaysHowLongTheInputWas) {
  const std::string flood(5000, 'A');
  EXPECT_EQ(printable(flood, 4), "AAAA... (5000 octets)");
  EXPECT_EQ(printable(flood).size(), 120 + std::string("... (5000 octets)").size());
  EXPECT_EQ(printable("ABCD", 4), "ABCD");
}

}  // namespace
}  // namespace smtpsim::protocol
