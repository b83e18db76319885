// replay_main runs a fuzz target's LLVMFuzzerTestOneInput over files, so corpora and crash
// reproducers run as ordinary regression tests under g++ and gdb, without libFuzzer (as fmt's
// FMT_FUZZ_LINKMAIN does). Usage: <fuzzer> FILE|DIR... ; directories are read one level deep, in
// name order. Exits 1 if no input was found, so an empty or missing corpus fails the test.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace {

std::vector<char> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + file.string());
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run_one(const std::filesystem::path& file) {
  const std::vector<char> bytes = read_file(file);
  // Copy into an exactly sized heap buffer so ASan catches reads past the end, as libFuzzer's
  // own driver does.
  std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i) {
      const std::filesystem::path arg(argv[i]);
      std::vector<std::filesystem::path> files;
      if (std::filesystem::is_directory(arg)) {
        for (const auto& entry : std::filesystem::directory_iterator(arg)) {
          if (entry.is_regular_file()) {
            files.push_back(entry.path());
          }
        }
        std::sort(files.begin(), files.end());
      } else {
        files.push_back(arg);
      }
      for (const auto& file : files) {
        run_one(file);
        ++count;
      }
    }
    std::printf("replayed %zu inputs\n", count);
    return count == 0 ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replay: %s\n", e.what());
    return 2;
  }
}
