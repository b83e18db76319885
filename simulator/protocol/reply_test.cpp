#include "simulator/protocol/reply.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace smtpsim::protocol {
namespace {

// outcome is what one call of reply_reader::next() gave: a reply, or an error and its line.
struct outcome {
  errc error = errc::ok;
  reply value;
  std::string error_line;
  friend bool operator==(const outcome&, const outcome&) = default;
};

std::vector<outcome> drain(reply_reader& reader) {
  std::vector<outcome> out;
  for (;;) {
    auto r = reader.next();
    if (r.error() == errc::incomplete) {
      return out;
    }
    outcome o;
    o.error = r.error();
    if (r) {
      o.value = std::move(r).value();
    } else {
      o.error_line = reader.last_error().line;
    }
    out.push_back(std::move(o));
  }
}

std::vector<outcome> read_whole(std::string_view input, reply_limits limits = {}) {
  reply_reader reader(limits);
  reader.feed(input);
  return drain(reader);
}

std::vector<outcome> read_bytewise(std::string_view input, reply_limits limits = {}) {
  reply_reader reader(limits);
  std::vector<outcome> out;
  for (char c : input) {
    reader.feed(std::string_view(&c, 1));
    auto more = drain(reader);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

// read_one reads exactly one reply from `input` and fails the test otherwise.
reply read_one(std::string_view input) {
  auto out = read_whole(input);
  EXPECT_EQ(out.size(), 1u);
  if (out.empty()) {
    return {};
  }
  EXPECT_EQ(out[0].error, errc::ok);
  return out[0].value;
}

TEST(ReplyReader, ParsesSingleLineReply) {
  reply r = read_one("250 OK\r\n");
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.code_class(), 2);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "OK");
  EXPECT_FALSE(r.multiline());
  EXPECT_EQ(r.raw, "250 OK\r\n");
  EXPECT_EQ(r.wire_length, 8u);
  EXPECT_FALSE(r.mixed_codes);
  EXPECT_FALSE(r.esc.has_value());
}

TEST(ReplyReader, AcceptsBareCode) {
  // Check c.parse.bare-code: RFC 5321 §4.2 "clients MUST be prepared for it to be omitted".
  reply r = read_one("250\r\n");
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "");
  EXPECT_EQ(r.text(), "");
}

TEST(ReplyReader, AcceptsEmptyTextAfterSeparator) {
  reply r = read_one("250-\r\n250 \r\n");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"", ""}));
}

TEST(ReplyReader, ParsesMultiLineEhloReply) {
  const std::string input =
      "250-mx.example.test Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
      "250 ENHANCEDSTATUSCODES\r\n";
  reply r = read_one(input);
  EXPECT_EQ(r.code, 250);
  EXPECT_TRUE(r.multiline());
  EXPECT_EQ(r.lines,
            (std::vector<std::string>{"mx.example.test Hello", "PIPELINING", "SIZE 10240000",
                                      "STARTTLS", "ENHANCEDSTATUSCODES"}));
  EXPECT_EQ(r.raw, input);
  EXPECT_EQ(r.text(),
            "mx.example.test Hello\nPIPELINING\nSIZE 10240000\nSTARTTLS\n"
            "ENHANCEDSTATUSCODES");
  EXPECT_FALSE(r.mixed_codes);
}

TEST(ReplyReader, FlagsMixedCodes) {
  // Check c.parse.mismatched-multiline: RFC 5321 §4.2.1, the code must be the same on each line.
  reply r = read_one("250-a\r\n550 b\r\n");
  EXPECT_EQ(r.code, 550);
  EXPECT_TRUE(r.mixed_codes);
  reply same = read_one("550-a\r\n550-b\r\n550 c\r\n");
  EXPECT_FALSE(same.mixed_codes);
  reply middle = read_one("250-a\r\n251-b\r\n250 c\r\n");
  EXPECT_TRUE(middle.mixed_codes);
}

TEST(ReplyReader, WaitsForTheFinalLine) {
  reply_reader reader;
  reader.feed("220-a\r\n220-b\r\n");
  EXPECT_EQ(reader.next().error(), errc::incomplete);
  EXPECT_EQ(reader.buffered(), 14u);
  reader.feed("220 c\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines.size(), 3u);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(ReplyReader, TakeBufferedReturnsAnIncompleteMultiLineReply) {
  reply_reader reader;
  reader.feed("250-a\r\n250-b\r\n250 c");
  EXPECT_EQ(reader.next().error(), errc::incomplete);
  EXPECT_EQ(reader.take_buffered(), "250-a\r\n250-b\r\n250 c");
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.next().error(), errc::incomplete);
}

TEST(ReplyReader, TakeBufferedReturnsRepliesPipelinedAfter220) {
  // Check c.inject.after-220: what follows the 220 in the same segment must be discarded.
  reply_reader reader;
  reader.feed("220 2.0.0 Ready\r\n250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 220);
  EXPECT_EQ(reader.take_buffered(), "250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n");
}

TEST(ReplyReader, ReturnsSeveralRepliesFromOneChunk) {
  auto out =
      read_whole("454 currently unavailable\r\n235 Authenticated\r\n250 2.1.0 Sender ok\r\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].value.code, 454);
  EXPECT_EQ(out[1].value.code, 235);
  EXPECT_EQ(out[2].value.code, 250);
}

TEST(ReplyReader, ReportsBadCodeAndResynchronises) {
  auto out = read_whole("hello\r\n250 ok\r\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].error, errc::reply_bad_code);
  EXPECT_EQ(out[0].error_line, "hello");
  EXPECT_EQ(out[1].error, errc::ok);
  EXPECT_EQ(out[1].value.code, 250);
}

TEST(ReplyReader, RejectsCodesOutsideTheGrammar) {
  // Check c.parse.unknown-code: first digits outside 2-5 are errors, "2x0" is not a code.
  for (std::string_view line : {"699 x\r\n", "199 x\r\n", "2x0 x\r\n", "25\r\n", "\r\n"}) {
    auto out = read_whole(line);
    ASSERT_EQ(out.size(), 1u) << line;
    EXPECT_EQ(out[0].error, errc::reply_bad_code) << line;
  }
}

TEST(ReplyReader, KeepsUnknownCodesWithAValidFirstDigit) {
  EXPECT_EQ(read_one("299 ok\r\n").code, 299);
  EXPECT_EQ(read_one("499 later\r\n").code_class(), 4);
}

TEST(ReplyReader, ReportsBadSeparator) {
  auto out = read_whole("250x ok\r\n2500\r\n250 ok\r\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].error, errc::reply_bad_separator);
  EXPECT_EQ(out[1].error, errc::reply_bad_separator);
  EXPECT_EQ(out[2].value.code, 250);
}

TEST(ReplyReader, DropsTheReplyABadLineInterrupts) {
  reply_reader reader;
  reader.feed("250-a\r\ngarbage\r\n250 b\r\n");
  auto first = reader.next();
  EXPECT_EQ(first.error(), errc::reply_bad_code);
  EXPECT_EQ(reader.last_error().code, errc::reply_bad_code);
  EXPECT_EQ(reader.last_error().line, "garbage");
  EXPECT_EQ(reader.dropped_bytes(), 16u);
  auto second = reader.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->lines, std::vector<std::string>{"b"});
  EXPECT_EQ(second->raw, "250 b\r\n");
}

TEST(ReplyReader, FlagsFramingAnomalies) {
  using namespace std::string_view_literals;
  EXPECT_TRUE(read_one("250-a\n250 b\r\n").bare_lf);
  EXPECT_TRUE(read_one("250 a\rb\r\n").bare_cr);
  EXPECT_TRUE(read_one("250 a\0b\r\n"sv).nul);
  reply clean = read_one("250 ab\r\n");
  EXPECT_FALSE(clean.bare_lf || clean.bare_cr || clean.nul || clean.overlong_line);
}

TEST(ReplyReader, KeepsExactRawOctetsWithBareLf) {
  reply r = read_one("250-a\n250 b\r\n");
  EXPECT_EQ(r.raw, "250-a\n250 b\r\n");
  EXPECT_EQ(r.wire_length, 13u);
}

TEST(ReplyReader, FlagsOverlongLineButKeepsTheReply) {
  // Check c.parse.overlong-reply: a 4000-octet line is within the lenient default limit.
  reply ok = read_one("250 " + std::string(3996, 'x') + "\r\n");
  EXPECT_FALSE(ok.overlong_line);
  EXPECT_EQ(ok.lines[0].size(), 3996u);
  const std::string input = "250-" + std::string(5000, 'x') + "\r\n250 end\r\n";
  reply r = read_one(input);
  EXPECT_TRUE(r.overlong_line);
  EXPECT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].size(), 4094u - 4u);
  EXPECT_EQ(r.wire_length, input.size());
}

TEST(ReplyReader, EnforcesTheLineLimitAndSkipsTheRestOfTheReply) {
  const reply_limits limits{.max_line_length = 512, .max_lines = 3, .max_reply_bytes = 4096};
  const std::string input = "250-a\r\n250-b\r\n250-c\r\n250-d\r\n250 e\r\n221 bye\r\n";
  for (const auto& out : {read_whole(input, limits), read_bytewise(input, limits)}) {
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].error, errc::reply_too_many_lines);
    EXPECT_EQ(out[0].error_line, "250-d");
    EXPECT_EQ(out[1].value.code, 221);
  }
  // Exactly at the limit is fine.
  auto at_limit = read_whole("250-a\r\n250-b\r\n250 c\r\n", limits);
  ASSERT_EQ(at_limit.size(), 1u);
  EXPECT_EQ(at_limit[0].error, errc::ok);
}

TEST(ReplyReader, EnforcesTheByteLimit) {
  const reply_limits limits{.max_line_length = 512, .max_lines = 100, .max_reply_bytes = 20};
  // 10 + 10 octets fit exactly; one more line does not.
  auto fits = read_whole("250-abcd\r\n250 abcd\r\n", limits);
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_EQ(fits[0].error, errc::ok);
  // The limit is hit on the final line: nothing more to skip.
  auto out = read_whole("250-abcd\r\n250-abcd\r\n250 x\r\n250 next\r\n", limits);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].error, errc::reply_too_large);
  EXPECT_EQ(out[1].value.lines, std::vector<std::string>{"next"});
  // The limit is hit on a continuation line: the rest of that reply is skipped.
  auto skipped = read_whole("250-abcd\r\n250-abcd\r\n250-x\r\n250 y\r\n250 next\r\n", limits);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].error, errc::reply_too_large);
  EXPECT_EQ(skipped[1].value.lines, std::vector<std::string>{"next"});
}

TEST(ReplyReader, ParsesEnhancedStatusOnEveryLine) {
  reply r = read_one("250-2.1.0 first\r\n250 2.1.0 second\r\n");
  ASSERT_TRUE(r.esc.has_value());
  EXPECT_EQ(r.esc->to_string(), "2.1.0");
  EXPECT_TRUE(r.esc_on_every_line);
  EXPECT_TRUE(r.esc_class_matches());

  reply partial = read_one("250-2.1.0 first\r\n250 second\r\n");
  EXPECT_TRUE(partial.esc.has_value());
  EXPECT_FALSE(partial.esc_on_every_line);

  reply different = read_one("550-5.7.1 first\r\n550 5.7.0 second\r\n");
  EXPECT_FALSE(different.esc_on_every_line);

  reply none = read_one("250 ok\r\n");
  EXPECT_FALSE(none.esc.has_value());
  EXPECT_FALSE(none.esc_on_every_line);
  EXPECT_FALSE(none.esc_class_matches());
}

TEST(ReplyReader, RecordsEscClassMismatch) {
  // Check c.parse.esc-mismatch: "250 5.1.1 text" is recorded; the code decides.
  reply r = read_one("250 5.1.1 text\r\n");
  ASSERT_TRUE(r.esc.has_value());
  EXPECT_EQ(r.esc->cls, 5);
  EXPECT_FALSE(r.esc_class_matches());
  EXPECT_EQ(r.code_class(), 2);
}

TEST(ReplyReader, FeedingOctetByOctetMatchesOneChunk) {
  using namespace std::string_literals;
  const std::vector<std::string> inputs = {
      "220-a\r\n220-b\r\n220 c\r\n250 ok\r\n",
      "250-a\n550 b\r\nxx\r\n250-\r\n250\r\n",
      "250-2.0.0 a\r\n250 2.0.0 b\r\n354 go\r\n2\r\n",
      "250-"s + std::string(6000, 'y') + "\r\n250 \0\r\r\n"s,
  };
  const reply_limits small{.max_line_length = 64, .max_lines = 2, .max_reply_bytes = 100};
  for (const std::string& input : inputs) {
    EXPECT_EQ(read_whole(input), read_bytewise(input));
    EXPECT_EQ(read_whole(input, small), read_bytewise(input, small));
  }
}

TEST(ReplyReader, AccountsForEveryOctet) {
  const std::string input = "250-a\r\nbad\r\n250 b\r\n" + std::string(5000, 'z') +
                            "\r\n250-c\r\n250 d\r\n220-partial\r\n";
  const reply_limits limits{.max_line_length = 512, .max_lines = 10, .max_reply_bytes = 1000};
  reply_reader reader(limits);
  reader.feed(input);
  std::size_t total = 0;
  for (const auto& o : drain(reader)) {
    total += o.value.wire_length;
  }
  EXPECT_EQ(total + reader.dropped_bytes() + reader.buffered(), input.size());
}

TEST(FormatReply, WritesSingleMultiAndBareCodes) {
  EXPECT_EQ(format_reply(250, "OK"), "250 OK\r\n");
  EXPECT_EQ(format_reply(250, ""), "250\r\n");
  EXPECT_EQ(format_reply(250, std::vector<std::string>{}), "250\r\n");
  EXPECT_EQ(format_reply(250, std::vector<std::string>{"a", "b", "c"}),
            "250-a\r\n250-b\r\n250 c\r\n");
  EXPECT_EQ(format_reply(220, "first\nsecond"), "220-first\r\n220 second\r\n");
  EXPECT_EQ(format_reply(250, std::vector<std::string>{"a", ""}), "250-a\r\n250\r\n");
  EXPECT_EQ(format_reply(7, "x"), "007 x\r\n");
}

TEST(FormatReply, RoundTripsThroughTheReader) {
  const std::vector<std::string> lines = {"mx.test greets you", "PIPELINING", "", "STARTTLS"};
  reply r = read_one(format_reply(250, lines));
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.lines, lines);
  EXPECT_EQ(format_reply(r.code, r.text()), r.raw);
}

TEST(ReplyReader, ResetForgetsThePartialReplyAndErrors) {
  reply_reader reader;
  reader.feed("bad\r\n250-a\r\n");
  EXPECT_EQ(reader.next().error(), errc::reply_bad_code);
  EXPECT_EQ(reader.next().error(), errc::incomplete);
  reader.reset();
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.dropped_bytes(), 0u);
  EXPECT_EQ(reader.last_error().code, errc::ok);
  reader.feed("250 fresh\r\n");
  auto r = reader.next();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->multiline());
}

}  // namespace
}  // namespace smtpsim::protocol
