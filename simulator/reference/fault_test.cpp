#include "simulator/reference/fault.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace smtpsim::reference {
namespace {

TEST(Fault, CatalogueListsEveryFaultOnceInOrder) {
  auto faults = all_faults();
  ASSERT_EQ(faults.size(), fault_count);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(faults[i].id), i);
    EXPECT_TRUE(names.insert(faults[i].name).second) << faults[i].name;
  }
}

TEST(Fault, EverySentenceStartsWithItsNameAndOneClause) {
  for (const fault_info& info : all_faults()) {
    const std::string prefix = std::string(info.name) + ", if set, causes the server to ";
    EXPECT_EQ(info.sentence.substr(0, prefix.size()), prefix) << info.name;
    EXPECT_EQ(info.sentence.back(), '.') << info.name;
    EXPECT_EQ(describe(info.id), info.sentence);
    EXPECT_EQ(to_string(info.id), info.name);
  }
}

TEST(Fault, ParseAcceptsSnakeKebabAndAnyCase) {
  EXPECT_EQ(parse_fault("omit_close_notify"), fault::omit_close_notify);
  EXPECT_EQ(parse_fault("omit-close-notify"), fault::omit_close_notify);
  EXPECT_EQ(parse_fault("OMIT-Close_notify"), fault::omit_close_notify);
  EXPECT_EQ(parse_fault("starttls_502"), fault::starttls_502);
  EXPECT_FALSE(parse_fault("no_such_fault"));
  EXPECT_FALSE(parse_fault(""));
  for (const fault_info& info : all_faults()) {
    EXPECT_EQ(parse_fault(info.name), info.id);
  }
}

TEST(FaultSet, HoldsWhatWasSet) {
  fault_set empty;
  EXPECT_TRUE(empty.empty());
  fault_set s{fault::starttls_502, fault::omit_close_notify};
  EXPECT_EQ(s.size(), 2U);
  EXPECT_TRUE(s.has(fault::starttls_502));
  EXPECT_FALSE(s.has(fault::readvertise_starttls));
  s.set(fault::starttls_502, false);
  EXPECT_FALSE(s.has(fault::starttls_502));
  fault_set u = s | fault_set{fault::reply_before_greeting};
  EXPECT_EQ(u.list(), (std::vector<fault>{fault::omit_close_notify, fault::reply_before_greeting}));
}

}  // namespace
}  // namespace smtpsim::reference
