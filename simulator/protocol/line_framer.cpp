#include "simulator/protocol/line_framer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace smtpsim::protocol {

namespace {

// compact_threshold is how many consumed octets may sit at the front of the buffer before it is
// compacted (also when they are at least half of it, which keeps compaction amortised O(1)).
constexpr std::size_t compact_threshold = 4096;

// note_content_octet records the anomalies one octet of line content carries. A CR inside the
// content is always bare (a CR followed by LF would have ended the line), an LF inside is always
// bare (only possible when !lf_ends_line).
void note_content_octet(framed_line& line, unsigned char c) {
  if (c == '\r') {
    line.bare_cr = true;
  } else if (c == '\n') {
    line.bare_lf_inside = true;
  } else if (c == 0) {
    line.nul = true;
  } else if (c >= 0x80) {
    line.eight_bit = true;
  }
}

}  // namespace

line_framer::line_framer(framing_limits limits)
    : limits_(limits), keep_(limits.max_line_length > 2 ? limits.max_line_length - 2 : 0) {}

void line_framer::feed(std::string_view bytes) {
  compact();
  const std::size_t max = limits_.max_line_length;
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (skipping_) {
      i += skip(bytes.substr(i));
      continue;
    }
    // Look at no more octets than it takes to tell whether the current line fits the limit: the
    // (max + 1)-th octet of a line may still be the LF of a line of wire length max + 1.
    const std::size_t tail = buf_.size() - tail_start_;
    std::size_t window = max - tail;
    if (window < std::numeric_limits<std::size_t>::max()) {
      ++window;
    }
    const std::size_t n = std::min(window, bytes.size() - i);
    const char* w = bytes.data() + i;

    std::size_t term = std::string_view::npos;
    std::size_t from = 0;
    while (from < n) {
      const void* hit = std::memchr(w + from, '\n', n - from);
      if (hit == nullptr) {
        break;
      }
      const std::size_t j = static_cast<std::size_t>(static_cast<const char*>(hit) - w);
      if (limits_.lf_ends_line) {
        term = j;
        break;
      }
      // RFC 5321 §2.3.8: only CRLF ends the line; the CR may have arrived in an earlier feed.
      const bool after_cr = j > 0 ? w[j - 1] == '\r' : (tail > 0 && buf_.back() == '\r');
      if (after_cr) {
        term = j;
        break;
      }
      from = j + 1;
    }

    if (term != std::string_view::npos) {
      buf_.append(w, term + 1);
      tail_start_ = buf_.size();
      i += term + 1;
    } else if (n < window) {
      buf_.append(w, n);  // the input ends inside a line that still fits
      i += n;
    } else {
      // The (max + 1)-th octet does not end the line: it is overlong. Keep max octets, account
      // for them, and skip from the octet that broke the limit on.
      buf_.append(w, n - 1);
      i += n - 1;
      start_skipping(std::string_view(buf_).substr(tail_start_));
    }
  }
}

void line_framer::start_skipping(std::string_view rest_of_tail) {
  pending_ = overlong_record{};
  pending_.start = tail_start_;
  pending_.kept = std::min(keep_, rest_of_tail.size());
  pending_.line.overlong = true;
  // The tail holds no terminator, so this only records anomalies and counts octets.
  for (char c : rest_of_tail) {
    if (pending_.prev_cr) {
      pending_.line.bare_cr = true;
    }
    pending_.prev_cr = c == '\r';
    if (c != '\r') {
      note_content_octet(pending_.line, static_cast<unsigned char>(c));
    }
  }
  pending_.line.wire_length = rest_of_tail.size();
  dropped_ += rest_of_tail.size() - pending_.kept;
  buf_.resize(tail_start_ + pending_.kept);
  skipping_ = true;
}

std::size_t line_framer::skip(std::string_view bytes) {
  framed_line& line = pending_.line;
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    const char c = bytes[k];
    if (c == '\n' && (limits_.lf_ends_line || pending_.prev_cr)) {
      line.ending = pending_.prev_cr ? line_ending::crlf : line_ending::lf;
      line.wire_length += k + 1;
      dropped_ += k + 1;
      overlong_.push_back(std::move(pending_));
      pending_ = overlong_record{};
      skipping_ = false;
      tail_start_ = buf_.size();
      return k + 1;
    }
    if (pending_.prev_cr) {
      line.bare_cr = true;  // the CR was not followed by LF
    }
    pending_.prev_cr = c == '\r';
    if (c != '\r') {
      note_content_octet(line, static_cast<unsigned char>(c));
    }
  }
  line.wire_length += bytes.size();
  dropped_ += bytes.size();
  return bytes.size();
}

std::optional<framed_line> line_framer::next() {
  if (overlong_head_ < overlong_.size() && overlong_[overlong_head_].start == pos_) {
    overlong_record& record = overlong_[overlong_head_];
    framed_line line = std::move(record.line);
    line.text.assign(buf_, pos_, record.kept);
    pos_ += record.kept;
    dropped_ -= line.wire_length - record.kept;
    if (++overlong_head_ == overlong_.size()) {
      overlong_.clear();
      overlong_head_ = 0;
    }
    return line;
  }
  if (pos_ >= tail_start_) {
    return std::nullopt;
  }

  // A complete line starts at pos_: its terminator lies before tail_start_.
  const char* base = buf_.data();
  std::size_t lf = pos_;
  for (;;) {
    lf = static_cast<std::size_t>(
        static_cast<const char*>(std::memchr(base + lf, '\n', tail_start_ - lf)) - base);
    if (limits_.lf_ends_line || (lf > pos_ && base[lf - 1] == '\r')) {
      break;
    }
    ++lf;
  }
  const bool crlf = lf > pos_ && base[lf - 1] == '\r';
  const std::size_t content_end = crlf ? lf - 1 : lf;

  framed_line line;
  line.wire_length = lf + 1 - pos_;
  line.ending = crlf ? line_ending::crlf : line_ending::lf;
  for (std::size_t k = pos_; k < content_end; ++k) {
    const auto c = static_cast<unsigned char>(base[k]);
    // Fast path: printable ASCII carries no anomaly.
    if (c >= 0x20 && c < 0x80) {
      continue;
    }
    note_content_octet(line, c);
  }
  std::size_t text_length = content_end - pos_;
  if (line.wire_length > limits_.max_line_length) {
    line.overlong = true;
    text_length = std::min(text_length, keep_);
  }
  line.text.assign(base + pos_, text_length);
  pos_ = lf + 1;
  return line;
}

std::size_t line_framer::buffered() const { return buf_.size() - pos_ + dropped_; }

std::string line_framer::take_buffered() {
  std::string out = buf_.substr(pos_);
  reset();
  return out;
}

void line_framer::reset() {
  buf_.clear();
  pos_ = 0;
  tail_start_ = 0;
  dropped_ = 0;
  skipping_ = false;
  pending_ = overlong_record{};
  overlong_.clear();
  overlong_head_ = 0;
}

void line_framer::compact() {
  if (pos_ == 0 || (pos_ != buf_.size() && (pos_ < compact_threshold || pos_ * 2 < buf_.size()))) {
    return;
  }
  const std::size_t shift = pos_;
  buf_.erase(0, shift);
  pos_ = 0;
  tail_start_ -= shift;
  if (skipping_) {
    pending_.start -= shift;
  }
  for (std::size_t k = overlong_head_; k < overlong_.size(); ++k) {
    overlong_[k].start -= shift;
  }
}

}  // namespace smtpsim::protocol
