#pragma once
// Shared by every fuzz target: the libFuzzer entry point (declared once, so that targets build
// warning-free with -Wmissing-declarations, and replay_main.cpp calls the same symbol) and
// SMTPSIM_FUZZ_CHECK.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

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
