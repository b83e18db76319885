#include "simulator/script/transcript.hpp"

#include <fmt/format.h>

namespace smtpsim::script {

void transcript::add_bytes(std::chrono::microseconds at, direction dir, bool tls,
                           std::uint32_t conn, std::string_view bytes) {
  if (bytes.empty()) {
    return;
  }
  std::size_t keep = bytes.size();
  if (stored_bytes_ + keep > max_bytes_) {
    keep = max_bytes_ > stored_bytes_ ? max_bytes_ - stored_bytes_ : 0;
  }
  dropped_bytes_ += bytes.size() - keep;
  if (keep == 0) {
    return;
  }
  stored_bytes_ += keep;
  // Consecutive chunks in the same direction stay separate entries: the segment boundaries are
  // evidence (e.g. "STARTTLS\r\nRSET\r\n" in one write).
  entries_.push_back(transcript_entry{at, dir, tls, conn, std::string(bytes.substr(0, keep)), {}});
}

void transcript::add_event(std::chrono::microseconds at, bool tls, std::uint32_t conn,
                           std::string note) {
  entries_.push_back(transcript_entry{at, direction::event, tls, conn, {}, std::move(note)});
}

namespace {

std::string escape_bytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 8);
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// split_lines cuts a chunk after each LF so that every rendered line is one SMTP line.
void render_chunk(std::string& out, const std::string& prefix, std::string_view bytes) {
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t end = bytes.find('\n', start);
    end = end == std::string_view::npos ? bytes.size() : end + 1;
    out += prefix;
    out += escape_bytes(bytes.substr(start, end - start));
    out += '\n';
    start = end;
  }
}

}  // namespace

std::string render_transcript(const transcript& t, bool we_are_client, std::size_t first,
                              std::size_t count) {
  std::string out;
  const auto& entries = t.entries();
  // "C>" is what the client sent, "S>" what the server sent, whichever side we play.
  const char* us = we_are_client ? "C>" : "S>";
  const char* peer = we_are_client ? "S>" : "C>";
  const std::size_t end = count > entries.size() ? entries.size() : first + count;
  for (std::size_t i = first; i < end && i < entries.size(); ++i) {
    const auto& e = entries[i];
    const double seconds = static_cast<double>(e.at.count()) / 1e6;
    const std::string conn = e.connection > 0 ? fmt::format("#{} ", e.connection) : "";
    const char* tls = e.tls ? "[tls] " : "";
    switch (e.dir) {
      case direction::sent:
        render_chunk(out, fmt::format("{:8.3f}s {}{} {}", seconds, conn, us, tls), e.bytes);
        break;
      case direction::received:
        render_chunk(out, fmt::format("{:8.3f}s {}{} {}", seconds, conn, peer, tls), e.bytes);
        break;
      case direction::event:
        out += fmt::format("{:8.3f}s {}** {}{}\n", seconds, conn, tls, e.note);
        break;
    }
  }
  if (t.truncated()) {
    out +=
        fmt::format("          ** transcript truncated: {} bytes not stored\n", t.dropped_bytes());
  }
  return out;
}

}  // namespace smtpsim::script
