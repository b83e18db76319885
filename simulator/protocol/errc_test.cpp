#include "simulator/protocol/errc.hpp"

#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

TEST(Errc, NamesEveryError) {
  for (int i = 0; i <= static_cast<int>(errc::data_too_large); ++i) {
    const std::string_view name = to_string(static_cast<errc>(i));
    EXPECT_FALSE(name.empty()) << i;
    EXPECT_NE(name, "unknown protocol error") << i;
  }
  EXPECT_EQ(to_string(errc::line_too_long), "line too long");
}

TEST(Errc, ConvertsToErrorCode) {
  const std::error_code ec = errc::path_syntax;
  EXPECT_EQ(&ec.category(), &protocol_category());
  EXPECT_STREQ(ec.category().name(), "smtpsim.protocol");
  EXPECT_EQ(ec.message(), "path syntax error");
  EXPECT_TRUE(ec);
  EXPECT_FALSE(make_error_code(errc::ok));
  EXPECT_EQ(ec, make_error_code(errc::path_syntax));
  EXPECT_NE(ec, make_error_code(errc::path_not_null));
}

TEST(Errc, NamesUnknownValuesWithoutFailing) {
  EXPECT_EQ(protocol_category().message(999), "unknown protocol error");
}

}  // namespace
}  // namespace smtpsim::protocol
