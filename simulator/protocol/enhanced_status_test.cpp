#include "simulator/protocol/enhanced_status.hpp"

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

TEST(EnhancedStatus, ParsesCodeFollowedByText) {
  std::size_t consumed = 0;
  auto status = parse_enhanced_status("5.7.0 Must issue a STARTTLS command first", &consumed);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, (enhanced_status{5, 7, 0}));
  EXPECT_EQ(consumed, 5u);
}

TEST(EnhancedStatus, ParsesCodeAtTheEndOfTheText) {
  auto status = parse_enhanced_status("2.0.0");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->to_string(), "2.0.0");
}

TEST(EnhancedStatus, ParsesThreeDigitSubjectAndDetail) {
  std::size_t consumed = 0;
  auto status = parse_enhanced_status("4.123.456 x", &consumed);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->subject, 123);
  EXPECT_EQ(status->detail, 456);
  EXPECT_EQ(consumed, 9u);
  EXPECT_EQ(parse_enhanced_status("5.7.11 x")->detail, 11);
}

TEST(EnhancedStatus, AcceptsLeadingZerosAsTheGrammarDoes) {
  auto status = parse_enhanced_status("5.07.001");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, (enhanced_status{5, 7, 1}));
}

TEST(EnhancedStatus, RejectsFourDigitFields) {
  EXPECT_FALSE(parse_enhanced_status("5.1234.0 x"));
  EXPECT_FALSE(parse_enhanced_status("5.1.1234 x"));
}

TEST(EnhancedStatus, RejectsClassesOtherThanTwoFourFive) {
  for (const char* text : {"1.0.0 x", "3.0.0 x", "6.0.0 x", "0.0.0 x", "22.0.0 x"}) {
    EXPECT_FALSE(parse_enhanced_status(text)) << text;
  }
}

TEST(EnhancedStatus, RejectsMalformedCodes) {
  for (const char* text : {"", "5", "5.", "5.7", "5.7.", "5..0", "5.7.x", ".5.7.0", "5,7,0",
                           "5.7.0x", "5.7.0.1", "x5.7.0", " 5.7.0", "5.7.0\tx"}) {
    EXPECT_FALSE(parse_enhanced_status(text)) << text;
  }
}

TEST(EnhancedStatus, LeavesConsumedAloneOnFailure) {
  std::size_t consumed = 42;
  EXPECT_FALSE(parse_enhanced_status("5.7.x", &consumed));
  EXPECT_EQ(consumed, 42u);
}

TEST(EnhancedStatus, ExactParseRejectsTrailingText) {
  EXPECT_TRUE(parse_enhanced_status_exact("5.7.0"));
  EXPECT_FALSE(parse_enhanced_status_exact("5.7.0 "));
  EXPECT_FALSE(parse_enhanced_status_exact("5.7.0 text"));
  EXPECT_FALSE(parse_enhanced_status_exact(""));
}

TEST(EnhancedStatus, FormatsAndCompares) {
  const enhanced_status a{4, 7, 0};
  EXPECT_EQ(a.to_string(), "4.7.0");
  EXPECT_EQ(a, parse_enhanced_status_exact("4.7.0"));
  EXPECT_NE(a, (enhanced_status{5, 7, 0}));
}

}  // namespace
}  // namespace smtpsim::protocol
