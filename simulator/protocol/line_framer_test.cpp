#include "simulator/protocol/line_framer.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

// drain takes every complete line from `framer`.
std::vector<framed_line> drain(line_framer& framer) {
  std::vector<framed_line> lines;
  while (auto line = framer.next()) {
    lines.push_back(std::move(*line));
  }
  return lines;
}

// frame_whole feeds `input` in one chunk.
std::vector<framed_line> frame_whole(std::string_view input, framing_limits limits = {}) {
  line_framer framer(limits);
  framer.feed(input);
  return drain(framer);
}

// frame_bytewise feeds `input` one octet at a time, taking lines as they complete.
std::vector<framed_line> frame_bytewise(std::string_view input, framing_limits limits = {}) {
  line_framer framer(limits);
  std::vector<framed_line> lines;
  for (char c : input) {
    framer.feed(std::string_view(&c, 1));
    auto more = drain(framer);
    lines.insert(lines.end(), more.begin(), more.end());
  }
  return lines;
}

framing_limits strict_crlf(std::size_t max = 512) {
  return {.max_line_length = max, .lf_ends_line = false};
}

TEST(LineFramer, SplitsCrlfLines) {
  auto lines = frame_whole("EHLO a.test\r\nNOOP\r\n\r\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "EHLO a.test");
  EXPECT_EQ(lines[0].wire_length, 13u);
  EXPECT_EQ(lines[0].ending, line_ending::crlf);
  EXPECT_FALSE(lines[0].has_anomaly());
  EXPECT_EQ(lines[1].text, "NOOP");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[2].wire_length, 2u);
}

TEST(LineFramer, ReportsBareLfEnding) {
  auto lines = frame_whole("NOOP\nQUIT\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "NOOP");
  EXPECT_EQ(lines[0].ending, line_ending::lf);
  EXPECT_EQ(lines[0].wire_length, 5u);
  EXPECT_TRUE(lines[0].has_anomaly());
  EXPECT_EQ(lines[1].ending, line_ending::crlf);
}

TEST(LineFramer, KeepsBareLfInsideWhenLfDoesNotEndLines) {
  auto lines = frame_whole("NOOP\nQUIT\r\n", strict_crlf());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "NOOP\nQUIT");
  EXPECT_TRUE(lines[0].bare_lf_inside);
  EXPECT_EQ(lines[0].ending, line_ending::crlf);
  EXPECT_TRUE(lines[0].has_anomaly());
}

TEST(LineFramer, FlagsBareCrInside) {
  auto lines = frame_whole("NO\rOP\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "NO\rOP");
  EXPECT_TRUE(lines[0].bare_cr);
  EXPECT_TRUE(lines[0].has_anomaly());
}

TEST(LineFramer, FlagsCrBeforeCrlfAsBare) {
  auto lines = frame_whole("NOOP\r\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "NOOP\r");
  EXPECT_TRUE(lines[0].bare_cr);
  EXPECT_EQ(lines[0].ending, line_ending::crlf);
}

TEST(LineFramer, FlagsNulInside) {
  using namespace std::string_view_literals;
  auto lines = frame_whole("MAIL FROM:<a\0b@x.test>\r\n"sv);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].nul);
  EXPECT_EQ(lines[0].text.size(), 22u);
  EXPECT_TRUE(lines[0].has_anomaly());
}

TEST(LineFramer, FlagsEightBitWithoutCallingItAnAnomaly) {
  auto lines = frame_whole("MAIL FROM:<\xc3\xa9@x.test>\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].eight_bit);
  EXPECT_FALSE(lines[0].has_anomaly());
}

TEST(LineFramer, ReturnsNothingForAnIncompleteLine) {
  line_framer framer;
  framer.feed("NOOP\r");
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_EQ(framer.buffered(), 5u);
  framer.feed("\n");
  auto line = framer.next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "NOOP");
  EXPECT_EQ(line->ending, line_ending::crlf);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, JoinsCrAndLfSplitAcrossFeedsInStrictMode) {
  line_framer framer(strict_crlf());
  framer.feed("NOOP\r");
  framer.feed("\nQUIT\r\n");
  auto lines = drain(framer);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "NOOP");
  EXPECT_FALSE(lines[0].bare_cr);
  EXPECT_EQ(lines[1].text, "QUIT");
}

TEST(LineFramer, AcceptsLineExactlyAtTheLimit) {
  // Check line.cmd-512-accepted: "NOOP " + 505 octets + CRLF = 512 octets.
  const std::string line = "NOOP " + std::string(505, 'a') + "\r\n";
  ASSERT_EQ(line.size(), 512u);
  auto lines = frame_whole(line);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].overlong);
  EXPECT_EQ(lines[0].text.size(), 510u);
  EXPECT_EQ(lines[0].wire_length, 512u);
}

TEST(LineFramer, FlagsLineOneOctetOverTheLimit) {
  const std::string line = "NOOP " + std::string(506, 'a') + "\r\n";
  ASSERT_EQ(line.size(), 513u);
  for (const auto& lines : {frame_whole(line), frame_bytewise(line)}) {
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].overlong);
    EXPECT_EQ(lines[0].text, line.substr(0, 510));
    EXPECT_EQ(lines[0].wire_length, 513u);
    EXPECT_EQ(lines[0].ending, line_ending::crlf);
  }
}

TEST(LineFramer, FlagsLfEndedLineOneOctetOverTheLimit) {
  const std::string line = std::string(512, 'a') + "\n";
  auto lines = frame_whole(line);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].overlong);
  EXPECT_EQ(lines[0].text.size(), 510u);
  EXPECT_EQ(lines[0].wire_length, 513u);
  EXPECT_EQ(lines[0].ending, line_ending::lf);
  // One octet less fits: 511 octets + LF = 512.
  auto fits = frame_whole(std::string(511, 'a') + "\n");
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_FALSE(fits[0].overlong);
  EXPECT_EQ(fits[0].text.size(), 511u);
}

TEST(LineFramer, EmitsOverlongLineOnceAndNeverItsTail) {
  // Check line.cmd-overlong-resync: the QUIT at the end of the long line is not a command.
  for (std::size_t n : {508u, 509u, 600u, 70000u}) {
    const std::string input = "NOOP " + std::string(n, 'A') + "QUIT\r\nNOOP\r\n";
    for (const auto& lines : {frame_whole(input), frame_bytewise(input)}) {
      ASSERT_EQ(lines.size(), 2u) << n;
      EXPECT_TRUE(lines[0].overlong);
      EXPECT_EQ(lines[0].text.size(), 510u);
      EXPECT_EQ(lines[0].wire_length, 5 + n + 6);
      EXPECT_EQ(lines[1].text, "NOOP");
      EXPECT_FALSE(lines[1].overlong);
    }
  }
}

TEST(LineFramer, RecordsAnomaliesInTheSkippedTail) {
  using namespace std::string_literals;
  const std::string input = std::string(600, 'a') + "\0\r\xff"s + "b\r\n";
  for (const auto& lines : {frame_whole(input), frame_bytewise(input)}) {
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].overlong);
    EXPECT_TRUE(lines[0].nul);
    EXPECT_TRUE(lines[0].bare_cr);
    EXPECT_TRUE(lines[0].eight_bit);
    EXPECT_EQ(lines[0].ending, line_ending::crlf);
  }
}

TEST(LineFramer, KeepsBareLfInsideAnOverlongLineInStrictMode) {
  const std::string input = std::string(600, 'a') + "\nQUIT\r\nNOOP\r\n";
  for (const auto& lines :
       {frame_whole(input, strict_crlf()), frame_bytewise(input, strict_crlf())}) {
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_TRUE(lines[0].overlong);
    EXPECT_TRUE(lines[0].bare_lf_inside);
    EXPECT_EQ(lines[1].text, "NOOP");
  }
}

TEST(LineFramer, KeepsOnlyTheLimitOfAnEndlessLine) {
  line_framer framer;
  const std::string chunk(10000, 'A');
  for (int i = 0; i < 10; ++i) {
    framer.feed(chunk);
  }
  EXPECT_FALSE(framer.next().has_value());
  EXPECT_EQ(framer.buffered(), 100000u);
  // Only the retained text is still held in memory.
  EXPECT_EQ(framer.take_buffered(), std::string(510, 'A'));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, FeedingOctetByOctetMatchesOneChunk) {
  using namespace std::string_literals;
  const std::vector<std::string> inputs = {
      "EHLO a.test\r\nSTARTTLS\r\nRSET\r\n",
      "NOOP\nQUIT\r\n\n\r\n",
      "a\rb\r\r\n\r\r\r\n\n",
      "x\0y\r\n\xc3\xa9\r\n"s,
      std::string(511, 'a') + "\r\n" + std::string(510, 'b') + "\r\n" + std::string(512, 'c') +
          "\n" + std::string(513, 'd') + "\r\n",
      std::string(2000, 'e') + "\r" + std::string(10, 'f') + "\n\r\ntail",
      std::string(700, 'g') + "\r\r\r\n" + std::string(514, 'h') + "\r",
  };
  for (const std::string& input : inputs) {
    for (bool lf_ends_line : {true, false}) {
      for (std::size_t max : {0u, 1u, 2u, 3u, 7u, 512u}) {
        const framing_limits limits{.max_line_length = max, .lf_ends_line = lf_ends_line};
        EXPECT_EQ(frame_whole(input, limits), frame_bytewise(input, limits))
            << "max=" << max << " lf_ends_line=" << lf_ends_line;
      }
    }
  }
}

TEST(LineFramer, CountsEveryOctetInLinesOrBuffered) {
  const std::string input =
      "NOOP\r\n" + std::string(3000, 'x') + "\r\nQUIT\nhalf a line" + std::string(900, 'y');
  for (std::size_t split = 0; split <= input.size(); split += 97) {
    line_framer framer;
    framer.feed(std::string_view(input).substr(0, split));
    std::size_t total = 0;
    for (const auto& line : drain(framer)) {
      total += line.wire_length;
    }
    framer.feed(std::string_view(input).substr(split));
    for (const auto& line : drain(framer)) {
      total += line.wire_length;
    }
    EXPECT_EQ(total + framer.buffered(), input.size()) << split;
  }
}

TEST(LineFramer, TakeBufferedReturnsPlaintextPipelinedAfterStarttls) {
  // Check inject.starttls-rset-same-segment: the RSET must be discarded, not executed in TLS.
  line_framer framer;
  framer.feed("STARTTLS\r\nRSET\r\nNOO");
  auto line = framer.next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "STARTTLS");
  EXPECT_EQ(framer.buffered(), 9u);
  EXPECT_EQ(framer.take_buffered(), "RSET\r\nNOO");
  EXPECT_EQ(framer.buffered(), 0u);
  EXPECT_FALSE(framer.next().has_value());
  framer.feed("EHLO b.test\r\n");
  line = framer.next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "EHLO b.test");
}

TEST(LineFramer, ResetForgetsEverything) {
  line_framer framer;
  framer.feed("NOOP\r\n" + std::string(700, 'a'));
  framer.reset();
  EXPECT_EQ(framer.buffered(), 0u);
  EXPECT_FALSE(framer.next().has_value());
  framer.feed("QUIT\r\n");
  auto line = framer.next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->text, "QUIT");
  EXPECT_FALSE(line->overlong);
}

TEST(LineFramer, CompactsWhileSkippingAnOverlongLine) {
  std::string shorts;
  for (int i = 0; i < 300; ++i) {
    shorts += "NOOP 0123456789abc\r\n";  // 20 octets
  }
  line_framer framer;
  framer.feed(shorts + std::string(700, 'A'));
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(framer.next().has_value());
  }
  EXPECT_FALSE(framer.next().has_value());
  // This feed compacts the buffer (6000 consumed octets) while the long line is being skipped.
  framer.feed(std::string(50, 'B') + "QUIT\r\nNOOP\r\n");
  auto lines = drain(framer);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].overlong);
  EXPECT_EQ(lines[0].text, std::string(510, 'A'));
  EXPECT_EQ(lines[0].wire_length, 756u);
  EXPECT_EQ(lines[1].text, "NOOP");
}

TEST(LineFramer, CompactsAroundQueuedOverlongLines) {
  std::string shorts;
  for (int i = 0; i < 300; ++i) {
    shorts += "NOOP 0123456789abc\r\n";
  }
  const std::string overlong = std::string(600, 'x') + "\r\n";
  line_framer framer;
  framer.feed(shorts + overlong + "RSET\r\n" + overlong);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(framer.next().has_value());
  }
  // Two overlong lines are still queued when this feed compacts the buffer.
  framer.feed("QUIT\r\n");
  auto lines = drain(framer);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(lines[0].overlong);
  EXPECT_EQ(lines[0].text, std::string(510, 'x'));
  EXPECT_EQ(lines[1].text, "RSET");
  EXPECT_TRUE(lines[2].overlong);
  EXPECT_EQ(lines[2].wire_length, 602u);
  EXPECT_EQ(lines[3].text, "QUIT");
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, KeepsManyQueuedLinesInOrder) {
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input += "RCPT TO:<u" + std::to_string(i) + "@x.test>\r\n";
  }
  auto lines = frame_whole(input);
  ASSERT_EQ(lines.size(), 3000u);
  EXPECT_EQ(lines[2999].text, "RCPT TO:<u2999@x.test>");
}

}  // namespace
}  // namespace smtpsim::protocol
