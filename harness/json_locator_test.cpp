#include "harness/json_locator.hpp"

#include <gtest/gtest.h>

namespace smtpsim::harness {
namespace {

TEST(JsonLocator, FindsValuesAndKeys) {
  const std::string text = "{\n  \"a\": [1, {\"b/c\": true}],\n  \"d\": \"x\"\n}";
  json_locator loc(text);
  EXPECT_EQ(loc.value_position("/a/1").line, 2u);
  EXPECT_EQ(loc.value_position("/a/1").column, 12u);
  EXPECT_EQ(loc.key_position("/a/1/b~1c").column, 13u);
  EXPECT_EQ(loc.value_position("/d").line, 3u);
  EXPECT_EQ(loc.key_position("/d").column, 3u);
}

TEST(JsonLocator, MissingPointerFallsBackToTheNearestParent) {
  json_locator loc("{\"a\": {\"b\": 1}}");
  EXPECT_EQ(loc.value_position("/a/zzz/q").column, 7u);
}

TEST(JsonLocator, ReportsDuplicateKeys) {
  json_locator loc("{\"a\": 1,\n \"a\": 2}");
  ASSERT_EQ(loc.duplicate_keys().size(), 1u);
  EXPECT_EQ(loc.duplicate_keys()[0].pointer, "/a");
  EXPECT_EQ(loc.duplicate_keys()[0].where.line, 2u);
}

TEST(JsonLocator, EscapedQuotesInKeysDoNotConfuseIt) {
  json_locator loc(R"({"a\"b": {"c": 1}})");
  EXPECT_EQ(loc.value_position("/a\"b/c").column, 16u);
}

TEST(JsonLocator, PositionOfOffsetCountsLines) {
  EXPECT_EQ(position_of_offset("ab\ncd", 4).line, 2u);
  EXPECT_EQ(position_of_offset("ab\ncd", 4).column, 2u);
}

}  // namespace
}  // namespace smtpsim::harness
