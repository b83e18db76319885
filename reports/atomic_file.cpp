#include "reports/atomic_file.hpp"

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include <unistd.h>

namespace smtpsim::reports {

namespace {

// temp_path_for names a sibling of `path` that no other writer uses: the process id keeps runs
// apart, the counter keeps threads of one run apart. rename() is only atomic within one file
// system, hence the same folder.
std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  const std::string name =
      fmt::format(".{}.{}.{}.tmp", path.filename().string(), ::getpid(), counter.fetch_add(1));
  return path.parent_path() / name;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  if (path.filename().empty()) {
    throw std::runtime_error(fmt::format("{}: not a file name", path.string()));
  }
  const std::filesystem::path temp = temp_path_for(path);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw std::runtime_error(fmt::format("{}: cannot create {}", path.string(), temp.string()));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw std::runtime_error(fmt::format("{}: cannot write {}", path.string(), temp.string()));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw std::runtime_error(
        fmt::format("{}: cannot replace the file: {}", path.string(), ec.message()));
  }
}

}  // namespace smtpsim::reports
