#include "simulator/tls/base64.hpp"

#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace smtpsim::tls {
namespace {

using namespace std::string_literals;

struct decode_case {
  std::string_view text;
  std::string octets;
};

TEST(Base64, EncodesRfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\0user\0pass"s), "AHVzZXIAcGFzcw==");
}

TEST(Base64, AcceptsCanonicalText) {
  const decode_case cases[] = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"},
      {"AHVzZXIAcGFzcw==", "\0user\0pass"s},  // SASL PLAIN (RFC 4616)
      {"+/+/", "\xFB\xFF\xBF"},
      {"AAAA", "\0\0\0"s},
  };
  for (const auto& c : cases) {
    const auto decoded = base64_decode(c.text);
    ASSERT_TRUE(decoded.has_value()) << "\"" << c.text << "\"";
    EXPECT_EQ(*decoded, c.octets) << "\"" << c.text << "\"";
  }
}

TEST(Base64, RejectsNonCanonicalText) {
  const std::string_view cases[] = {
      "Zg",            // length not a multiple of 4
      "Zg=",           // ditto
      "Zm9vY",         // ditto
      "Zg===",         // ditto
      "Z===",          // three pad characters
      "====",          // padding only
      "=Zm9",          // '=' first
      "Zm=v",          // '=' in the middle of a quantum
      "Zg==Zg==",      // '=' in the middle of the text
      "Zm9v\r\n",      // line break
      " Zm9v",         // leading space (EVP_DecodeBlock would skip it)
      "Zm9v ",         // trailing space
      "Zm9 v",         // inner space
      "Zm-v",          // base64url alphabet
      "Zm_v",          // ditto
      "Zh==",          // non-zero bits after the last octet
      "Zm9=",          // ditto, one pad character
      "*",             // junk
      "Zm9v\xC3\xA9",  // non-ASCII
  };
  for (const std::string_view text : cases) {
    EXPECT_FALSE(base64_decode(text).has_value()) << "\"" << text << "\"";
  }
  EXPECT_FALSE(base64_decode("Zm9v\0AAA"s).has_value());  // NUL is outside the alphabet
}

TEST(Base64, RoundTripsEveryOctetValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string part = all.substr(0, len);
    EXPECT_EQ(base64_decode(base64_encode(part)), part) << len;
  }
}

TEST(Base64, RoundTripsInputLongerThanOneChunk) {
  std::mt19937 rng(42);  // deterministic
  std::uniform_int_distribution<int> octet(0, 255);
  std::string data(100'003, '\0');
  for (char& c : data) {
    c = static_cast<char>(octet(rng));
  }
  const std::string text = base64_encode(data);
  EXPECT_EQ(text.size(), (data.size() + 2) / 3 * 4);
  EXPECT_EQ(text.find_first_of("\r\n"), std::string::npos);
  EXPECT_EQ(base64_decode(text), data);
}

}  // namespace
}  // namespace smtpsim::tls
