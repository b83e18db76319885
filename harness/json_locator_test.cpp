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

// Found by the scenario_loader fuzzer: a stray '}' inside an array made the scan spin forever,
// growing its maps until the process ran out of memory.
TEST(JsonLocator, InvalidTextEndsTheScan) {
  for (const std::string text :
       {"[}", "[1,}]", "{\"a\": [}}", "{\"a\" 1 2 }", "{{{", "]]]", "{\"a\":"}) {
    json_locator loc(text);
    EXPECT_EQ(loc.value_position("").line, 1u) << text;
  }
}

TEST(JsonLocator, DeepNestingIsBounded) {
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  json_locator loc(text);
  EXPECT_EQ(loc.value_position("/0/0").column, 3u);
  // Beyond the depth limit (256 levels), the deepest recorded ancestor answers.
  std::string deep;
  for (int i = 0; i < 300; ++i) {
    deep += "/0";
  }
  EXPECT_EQ(loc.value_position(deep).column, 256u);
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
