#pragma once
// Report files are written whole or not at all: CI jobs and `report merge` may read a run's
// output folder while another run is still writing to it.

#include <filesystem>
#include <string_view>

namespace smtpsim::reports {

// write_file_atomically writes `content` to a new file in the folder of `path`, then renames it
// over `path`, so a reader sees either the old file or the complete new one, never half of it.
// The folder must exist. Throws std::runtime_error naming `path` if anything fails; the temporary
// file is removed then.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace smtpsim::reports
