#pragma once
// Shared by every fuzz target: the libFuzzer entry point (declared once, so that targets build
// warning-free with -Wmissing-declarations, and replay_main.cpp calls the same symbol) and
// SMTPSIM_FUZZ_CHECK.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// LLVMFuzzerTestOneInput runs one input; each *_fuzzer.cpp defines it. It returns 0.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// SMTPSIM_FUZZ_CHECK aborts with the failed condition when a fuzz invariant does not hold. Unlike
// assert it stays active in release builds (the fuzz preset is RelWithDebInfo, so NDEBUG is set).
#define SMTPSIM_FUZZ_CHECK(condition)                                                             \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (false)

namespace smtpsim::fuzz {

// bytewise_limit is the input size up to which feed_in_pieces feeds one octet at a time. The small
// limits the targets select from their first octet make every chunk-boundary case reachable in
// inputs this short; longer inputs go in pseudo-random pieces of 1-64 octets, which still move
// the boundaries around from run to run but cost far fewer calls (libFuzzer inputs reach 4 KB).
constexpr std::size_t bytewise_limit = 512;

// feed_in_pieces calls `feed` on consecutive pieces of `input` that together are `input`: single
// octets for short inputs, else pieces whose sizes come from a generator seeded by the input (so a
// crash reproduces from the input alone).
template <class Feed>
void feed_in_pieces(std::string_view input, Feed&& feed) {
  if (input.size() <= bytewise_limit) {
    for (std::size_t i = 0; i < input.size(); ++i) {
      feed(input.substr(i, 1));
    }
    return;
  }
  std::uint32_t state = 2166136261u;  // FNV-1a over the input seeds a xorshift32
  for (char c : input) {
    state = (state ^ static_cast<unsigned char>(c)) * 16777619u;
  }
  state |= 1u;
  std::size_t i = 0;
  while (i < input.size()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const std::size_t n = 1 + state % 64;
    feed(input.substr(i, n));
    i += n;
  }
}

}  // namespace smtpsim::fuzz
