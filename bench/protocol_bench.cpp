// protocol_bench measures the throughput of the simulator/protocol parsers on realistic SMTP
// traffic (MB/s and items/s): the line framer, the reply reader (single-line and multi-line EHLO
// replies), the command and path parsers, the EHLO extension list and the DATA reader; and the
// fuzz step's line generator.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "simulator/protocol/address.hpp"
#include "simulator/protocol/command.hpp"
#include "simulator/protocol/data.hpp"
#include "simulator/protocol/ehlo.hpp"
#include "simulator/protocol/grammar_fuzz.hpp"
#include "simulator/protocol/line_framer.hpp"
#include "simulator/protocol/reply.hpp"

namespace {

using namespace smtpsim::protocol;

// tcp_segment is the chunk size used to feed streams, a typical Ethernet TCP payload.
constexpr std::size_t tcp_segment = 1460;

const std::vector<std::string>& command_lines() {
  static const std::vector<std::string> lines = {
      "EHLO client.example.test",
      "MAIL FROM:<sender@example.test> SIZE=12345 BODY=8BITMIME",
      "RCPT TO:<recipient.name@mail.example.test> NOTIFY=SUCCESS,FAILURE",
      "RCPT TO:<@relay.test:\"quoted user\"@[IPv6:2001:db8::1]>",
      "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
      "DATA",
      "NOOP",
      "RSET",
      "STARTTLS",
      "QUIT",
  };
  return lines;
}

// command_stream is `n` octets (at least) of CRLF-terminated command lines.
std::string command_stream(std::size_t n) {
  std::string out;
  while (out.size() < n) {
    for (const std::string& line : command_lines()) {
      out += line;
      out += "\r\n";
    }
  }
  return out;
}

std::string ehlo_reply() {
  return "250-mx.example.test Hello client.example.test [192.0.2.1]\r\n"
         "250-PIPELINING\r\n250-SIZE 52428800\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n"
         "250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
         "250-SMTPUTF8\r\n250-CHUNKING\r\n250 STARTTLS\r\n";
}

std::string repeat(const std::string& unit, std::size_t n) {
  std::string out;
  while (out.size() < n) {
    out += unit;
  }
  return out;
}

// message_body is a dot-stuffed message of about `n` octets with 72-octet text lines, a few of
// them starting with a dot.
std::string message_body(std::size_t n) {
  std::string body = "From: a@example.test\r\nTo: b@example.test\r\nSubject: benchmark\r\n\r\n";
  std::size_t i = 0;
  while (body.size() < n) {
    body += (i++ % 20 == 0) ? "." : "";
    body += std::string(70, static_cast<char>('a' + i % 26));
    body += "\r\n";
  }
  return dot_stuff(body);
}

void feed_in_segments(std::string_view stream, auto&& feed) {
  for (std::size_t i = 0; i < stream.size(); i += tcp_segment) {
    feed(stream.substr(i, tcp_segment));
  }
}

void BM_LineFramer(benchmark::State& state) {
  const std::string stream = command_stream(64 * 1024);
  std::size_t lines = 0;
  for (auto _ : state) {
    line_framer framer;
    feed_in_segments(stream, [&](std::string_view chunk) {
      framer.feed(chunk);
      while (auto line = framer.next()) {
        benchmark::DoNotOptimize(line->text.data());
        ++lines;
      }
    });
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(lines));
}
BENCHMARK(BM_LineFramer);

void BM_LineFramerOverlong(benchmark::State& state) {
  // 70 000-octet lines: the skip path of check line.cmd-overlong-resync.
  const std::string stream = repeat("NOOP " + std::string(70000, 'A') + "QUIT\r\n", 256 * 1024);
  std::size_t lines = 0;
  for (auto _ : state) {
    line_framer framer;
    feed_in_segments(stream, [&](std::string_view chunk) {
      framer.feed(chunk);
      while (auto line = framer.next()) {
        benchmark::DoNotOptimize(line->text.data());
        ++lines;
      }
    });
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(lines));
}
BENCHMARK(BM_LineFramerOverlong);

void read_replies(benchmark::State& state, const std::string& stream) {
  std::size_t replies = 0;
  for (auto _ : state) {
    reply_reader reader;
    feed_in_segments(stream, [&](std::string_view chunk) {
      reader.feed(chunk);
      for (auto r = reader.next(); r; r = reader.next()) {
        benchmark::DoNotOptimize(r->code);
        ++replies;
      }
    });
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(replies));
}

void BM_ReplyReaderSingleLine(benchmark::State& state) {
  read_replies(state, repeat("250 2.1.5 Recipient <recipient@example.test> ok\r\n", 64 * 1024));
}
BENCHMARK(BM_ReplyReaderSingleLine);

void BM_ReplyReaderEhlo(benchmark::State& state) {
  read_replies(state, repeat(ehlo_reply(), 64 * 1024));
}
BENCHMARK(BM_ReplyReaderEhlo);

void BM_ParseEhlo(benchmark::State& state) {
  reply_reader reader;
  const std::string wire = ehlo_reply();
  reader.feed(wire);
  const reply r = reader.next().value();
  for (auto _ : state) {
    ehlo_info info = parse_ehlo(r);
    benchmark::DoNotOptimize(info.extensions.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseEhlo);

void BM_ParseCommand(benchmark::State& state) {
  const std::vector<std::string>& lines = command_lines();
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& line : lines) {
      auto c = parse_command(line);
      benchmark::DoNotOptimize(c.has_value());
      bytes += line.size();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
}
BENCHMARK(BM_ParseCommand);

void BM_ParsePath(benchmark::State& state) {
  const std::vector<std::string> paths = {
      "<sender@example.test>",
      "<first.last+tag@mail.subdomain.example.test>",
      "<@relay1.test,@relay2.test:user@example.test>",
      "<\"quoted \\\"local\\\" part\"@example.test>",
      "<user@[192.0.2.1]>",
      "<user@[IPv6:2001:db8:0:0:0:0:0:1]>",
      "<" + std::string(64, 'l') + "@" + std::string(63, 'd') + "." + std::string(63, 'e') +
          ".test>",
  };
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& text : paths) {
      auto p = parse_path(text);
      benchmark::DoNotOptimize(p.has_value());
      bytes += text.size();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * paths.size()));
}
BENCHMARK(BM_ParsePath);

void BM_DataReader(benchmark::State& state) {
  const std::string wire = message_body(1024 * 1024);
  for (auto _ : state) {
    data_reader reader;
    std::size_t consumed = 0;
    feed_in_segments(wire, [&](std::string_view chunk) { consumed += reader.feed(chunk); });
    benchmark::DoNotOptimize(consumed);
    if (!reader.done()) {
      state.SkipWithError("the data did not end");
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DataReader);

void BM_DotStuff(benchmark::State& state) {
  const std::string body = message_body(1024 * 1024);
  for (auto _ : state) {
    std::string wire = dot_stuff(body);
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DotStuff);

// The fuzz step's line generator: it must never be what limits a network fuzzing run (the
// anchors' goal G6 is 300 sessions/s against a real MTA).
void BM_GrammarFuzzLine(benchmark::State& state) {
  grammar_fuzzer gen(1, command_lines());
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string line = gen.next();
    bytes += line.size();
    benchmark::DoNotOptimize(line.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_GrammarFuzzLine);

}  // namespace

BENCHMARK_MAIN();
