#include "simulator/reference/sasl.hpp"

#include <gtest/gtest.h>

namespace smtpsim::reference {
namespace {

// RFC 2195 §2: the example exchange with password "tanstaaftanstaaf".
TEST(CramMd5Digest, MatchesTheRfc2195Example) {
  EXPECT_EQ(cram_md5_digest("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>"),
            "b913a602c7eda7a495b4e6e7334d3890");
}

TEST(CramMd5Digest, DependsOnTheSecret) {
  EXPECT_NE(cram_md5_digest("a", "<1@x>"), cram_md5_digest("b", "<1@x>"));
}

}  // namespace
}  // namespace smtpsim::reference
