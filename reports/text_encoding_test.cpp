#include "reports/text_encoding.hpp"

#include <gtest/gtest.h>

#include "reports/testing/sample_run.hpp"

namespace smtpsim::reports {
namespace {

TEST(Base64, EncodesRfc4648TestVectors) {
  // RFC 4648 §10.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, RoundTripsEveryByteValueAtEveryLengthRemainder) {
  const std::string bytes = testing::all_byte_values();
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string part = bytes.substr(bytes.size() - length);
    const auto decoded = base64_decode(base64_encode(part));
    ASSERT_TRUE(decoded.has_value()) << length;
    EXPECT_EQ(*decoded, part) << length;
  }
}

TEST(Base64, RejectsTextThatIsNotCanonical) {
  EXPECT_FALSE(base64_decode("Zg"));        // missing padding
  EXPECT_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(base64_decode("Zh=="));      // unused bits set
  EXPECT_FALSE(base64_decode("Zm9=v"));     // bad length
  EXPECT_FALSE(base64_decode("Zm9 v"));     // whitespace
  EXPECT_FALSE(base64_decode("Zm9-"));      // URL alphabet
  EXPECT_FALSE(base64_decode("Z==="));      // too much padding
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_EQ(base64_decode(""), std::string());
}

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII\r\n"));
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x93\xa7"));
  EXPECT_TRUE(is_valid_utf8(std::string("\0", 1)));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8, RejectsOverlongSurrogatesAndValuesPastTheLastCodePoint) {
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\x80"));      // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));  // cut short
}

TEST(Utf8, ReplacesEachBrokenByteWithTheReplacementCharacter) {
  EXPECT_EQ(to_valid_utf8("a\xff"
                          "b\xe2\x82"),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(to_valid_utf8("h\xc3\xa9"), "h\xc3\xa9");
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8(testing::all_byte_values())));
}

TEST(ReadableText, KeepsCrLfTabAndUtf8ButNotOtherControls) {
  EXPECT_TRUE(is_readable_text("EHLO probe.test\r\n"));
  EXPECT_TRUE(is_readable_text("a\tb \xc3\xa9"));
  EXPECT_FALSE(is_readable_text(std::string("22\0", 3)));
  EXPECT_FALSE(is_readable_text("\x1b[31m"));
  EXPECT_FALSE(is_readable_text("\x7f"));
  EXPECT_FALSE(is_readable_text("\xff"));
}

}  // namespace
}  // namespace smtpsim::reports
