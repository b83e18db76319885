#include "simulator/protocol/data.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

using namespace std::string_literals;

// read_result is what a data_reader made of some input.
struct read_result {
  std::size_t consumed = 0;
  bool done = false;
  bool too_large = false;
  std::string message;
  data_anomalies anomalies;
  friend bool operator==(const read_result&, const read_result&) = default;
};

read_result read_whole(std::string_view input, data_limits limits = {}) {
  data_reader reader(limits);
  read_result out;
  out.consumed = reader.feed(input);
  out.done = reader.done();
  out.too_large = reader.too_large();
  out.message = reader.message();
  out.anomalies = reader.anomalies();
  return out;
}

read_result read_bytewise(std::string_view input, data_limits limits = {}) {
  data_reader reader(limits);
  read_result out;
  for (char c : input) {
    out.consumed += reader.feed(std::string_view(&c, 1));
  }
  out.done = reader.done();
  out.too_large = reader.too_large();
  out.message = reader.message();
  out.anomalies = reader.anomalies();
  return out;
}

TEST(DataReader, EndsAtCrlfDotCrlfAndLeavesTheRest) {
  const std::string input = "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
  data_reader reader;
  EXPECT_EQ(reader.feed(input), input.size() - 6);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.error(), errc::ok);
  EXPECT_EQ(reader.message(), "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(reader.wire_length(), input.size() - 6);
  EXPECT_FALSE(reader.anomalies().any());
  EXPECT_EQ(reader.feed("more"), 0u);
}

TEST(DataReader, EndsAtDotCrlfAtTheVeryStart) {
  data_reader reader;
  EXPECT_EQ(reader.feed(".\r\nNOOP\r\n"), 3u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.message(), "");
}

TEST(DataReader, WaitsAcrossFeeds) {
  data_reader reader;
  EXPECT_EQ(reader.feed("abc\r"), 4u);
  EXPECT_EQ(reader.feed("\n."), 2u);
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(reader.error(), errc::incomplete);
  EXPECT_EQ(reader.feed("\r"), 1u);
  EXPECT_EQ(reader.feed("\nRSET\r\n"), 1u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.message(), "abc\r\n");
}

TEST(DataReader, RemovesDotStuffing) {
  // RFC 5321 §4.5.2.
  auto r = read_whole("..hidden\r\n...\r\n.x\r\n\r\n.\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.message, ".hidden\r\n..\r\nx\r\n\r\n");
}

TEST(DataReader, KeepsDotsInsideLines) {
  auto r = read_whole("a.b\r\n a\r\n.\r\n");
  EXPECT_EQ(r.message, "a.b\r\n a\r\n");
}

// look_alike is one smuggling sequence of check group A12 and the anomaly it must raise.
struct look_alike {
  std::string sequence;
  bool data_anomalies::*flag;
};

TEST(DataReader, DoesNotEndAtAnySmugglingSequence) {
  // Check group A12 (CVE-2023-51764/5/6), SEC Consult's inbound set plus the extra-CR pair.
  const std::vector<look_alike> cases = {
      {"\n.\n", &data_anomalies::lf_dot_lf},
      {"\n.\r", &data_anomalies::lf_dot_cr},
      {"\r.\n", &data_anomalies::cr_dot_lf},
      {"\r.\r", &data_anomalies::cr_dot_cr},
      {"\n.\r\n", &data_anomalies::lf_dot_crlf},
      {"\r.\r\n", &data_anomalies::cr_dot_crlf},
      {"\r\n\0.\r\n"s, &data_anomalies::nul_dot_line},
      {"\r\n.\r\r\n", &data_anomalies::crlf_dot_cr_crlf},
      {"\r\r\n.\r\r\n", &data_anomalies::crlf_dot_cr_crlf},
  };
  const std::string smuggled =
      "MAIL FROM:<s@spoof.test>\r\nRCPT TO:<sink@h.test>\r\nDATA\r\nFrom: s@spoof.test\r\n\r\n"
      "SMUGGLED\r\n";
  for (const look_alike& c : cases) {
    const std::string input =
        "From: a@x.test\r\n\r\ntext" + c.sequence + smuggled + ".\r\nQUIT\r\n";
    for (const read_result& r : {read_whole(input), read_bytewise(input)}) {
      EXPECT_TRUE(r.done);
      // Only the final "\r\n.\r\n" ends the data: one message, with the smuggled text inside.
      EXPECT_EQ(r.consumed, input.size() - 6) << testing::PrintToString(c.sequence);
      EXPECT_NE(r.message.find("SMUGGLED"), std::string::npos);
      EXPECT_TRUE(r.anomalies.*c.flag) << testing::PrintToString(c.sequence);
      EXPECT_TRUE(r.anomalies.end_look_alike());
    }
  }
}

TEST(DataReader, RecordsLookAlikesAtTheStartOfTheContent) {
  EXPECT_TRUE(read_whole(".\n.\r\n").anomalies.lf_dot_lf);
  auto nul = read_whole("\0.\r\n.\r\n"s);
  EXPECT_TRUE(nul.anomalies.nul_dot_line);
  EXPECT_TRUE(nul.done);
  EXPECT_EQ(nul.message, "\0.\r\n"s);
}

TEST(DataReader, RecordsBareLineEndsAndNul) {
  auto lf = read_whole("a\nb\r\n.\r\n");
  EXPECT_TRUE(lf.anomalies.bare_lf);
  EXPECT_FALSE(lf.anomalies.bare_cr);
  EXPECT_FALSE(lf.anomalies.end_look_alike());
  auto cr = read_whole("a\rb\r\n.\r\n");  // check smuggle.bare-cr-in-data
  EXPECT_TRUE(cr.anomalies.bare_cr);
  EXPECT_FALSE(cr.anomalies.bare_lf);
  EXPECT_EQ(cr.message, "a\rb\r\n");
  auto nul = read_whole("a\0b\r\n.\r\n"s);
  EXPECT_TRUE(nul.anomalies.nul);
  EXPECT_TRUE(nul.anomalies.any());
  EXPECT_FALSE(read_whole("clean\r\n.\r\n").anomalies.any());
}

TEST(DataReader, DropsAStuffedDotBeforeABareCr) {
  auto r = read_whole("\r\n.\rx\r\n.\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.message, "\r\n\rx\r\n");
  EXPECT_TRUE(r.anomalies.bare_cr);
}

TEST(DataReader, FeedingOctetByOctetMatchesOneChunk) {
  const std::vector<std::string> inputs = {
      "a\r\n..b\r\n.\r\n",  "\n.\n\r.\r\r.\n.\r\n",   ".\r\r\n\r\n.\r\n",
      "\r\n\0.\r\n.\r\nX"s, "....\r\n.\r.\r\n.\r\n",  std::string(300, 'x') + "\r\n.\r\n",
      "no end \r\n. \r\n",  "\r\r\r\n\n\n.\r\n.\r\n",
  };
  for (const std::string& input : inputs) {
    EXPECT_EQ(read_whole(input), read_bytewise(input)) << testing::PrintToString(input);
    EXPECT_EQ(read_whole(input, {.max_message_bytes = 3}),
              read_bytewise(input, {.max_message_bytes = 3}));
  }
}

TEST(DataReader, KeepsLookingForTheEndPastTheSizeLimit) {
  const std::string input = std::string(100, 'a') + "\r\n.\r\nQUIT\r\n";
  data_reader reader({.max_message_bytes = 10});
  EXPECT_EQ(reader.feed(input), input.size() - 6);
  EXPECT_TRUE(reader.done());
  EXPECT_TRUE(reader.too_large());
  EXPECT_EQ(reader.error(), errc::data_too_large);
  EXPECT_EQ(reader.message(), std::string(10, 'a'));
}

TEST(DataReader, AcceptsContentExactlyAtTheSizeLimit) {
  auto at = read_whole("12345678\r\n.\r\n", {.max_message_bytes = 10});
  EXPECT_TRUE(at.done);
  EXPECT_FALSE(at.too_large);
  EXPECT_EQ(at.message, "12345678\r\n");
  auto over = read_whole("123456789\r\n.\r\n", {.max_message_bytes = 10});
  EXPECT_TRUE(over.done);
  EXPECT_TRUE(over.too_large);
  EXPECT_EQ(over.message.size(), 10u);
}

TEST(DataReader, ResetStartsAFreshMessage) {
  data_reader reader;
  reader.feed("a\n.\nb\r\n.\r\n");
  ASSERT_TRUE(reader.done());
  reader.reset();
  EXPECT_FALSE(reader.done());
  EXPECT_FALSE(reader.anomalies().any());
  EXPECT_EQ(reader.feed(".\r\n"), 3u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.message(), "");
}

TEST(DotStuff, DoublesLeadingDotsAndAddsTheEnd) {
  // Check c.smuggle.dot-stuffing.
  EXPECT_EQ(dot_stuff(".hidden\r\n.\r\nx\r\n"), "..hidden\r\n..\r\nx\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
  EXPECT_EQ(dot_stuff("no newline"), "no newline\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a.b\r\n"), "a.b\r\n.\r\n");
}

TEST(DotStuff, DoublesDotsAfterBareLineEndsToo) {
  // A lenient receiver must not find "\n.\r\n" in what we send.
  EXPECT_EQ(dot_stuff("a\n.\r\n"), "a\n..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r.\r\n"), "a\r..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\n"), "a\n\r\n.\r\n");
}

TEST(DotStuff, RoundTripsThroughTheReader) {
  for (const std::string& body : {""s, "x\r\n"s, ".\r\n"s, "..\r\n.\r\n"s, "a\r\n.b\r\n\r\n"s,
                                  ".\r\n.\r\n.\r\n"s, "line\r\n. \r\n.\r\n..x\r\n"s}) {
    const std::string wire = dot_stuff(body);
    data_reader reader;
    EXPECT_EQ(reader.feed(wire), wire.size()) << testing::PrintToString(body);
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(reader.message(), body);
  }
}

}  // namespace
}  // namespace smtpsim::protocol
