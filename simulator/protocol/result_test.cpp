#include "simulator/protocol/result.hpp"

#include <string>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

TEST(Result, HoldsAValue) {
  result<std::string> r = std::string("abc");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(r.error(), errc::ok);
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(r->size(), 3u);
  std::string moved = std::move(r).value();
  EXPECT_EQ(moved, "abc");
}

TEST(Result, HoldsAnError) {
  result<int> r = errc::command_syntax;
  EXPECT_FALSE(r);
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::command_syntax);
}

}  // namespace
}  // namespace smtpsim::protocol
