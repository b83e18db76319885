#pragma once
// grammar_fuzzer generates SMTP command lines for the network grammar fuzzer (checks.md A11,
// line.fuzz-grammar): random and known verbs, paths and ESMTP parameters, lone CR, high-bit
// octets, UTF-8 (valid and broken), very long parameters, and mutations of seed lines taken from
// the scenario catalogue. It is deterministic: the same seed and corpus give the same lines on
// every platform (its own PRNG, no std:: distributions), so a seed is a reproducer.
//
// Every line it returns can be sent as one command line that a conforming server must answer
// with exactly one reply: it has no LF (so no CRLF inside), at most max_line octets before the
// CRLF the sender appends, and its verb is never DATA, BDAT or STARTTLS (their replies change
// what the next line means: message text, chunk octets, TLS records).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtpsim::protocol {

class grammar_fuzzer {
 public:
  // corpus: seed lines (see corpus_lines); max_line: octets per line, CRLF not counted.
  explicit grammar_fuzzer(std::uint64_t seed, std::vector<std::string> corpus = {},
                          std::size_t max_line = 510);

  // next returns the next line, without its CRLF.
  std::string next();

  std::uint64_t seed() const { return seed_; }
  std::size_t corpus_size() const { return corpus_.size(); }

 private:
  std::uint64_t next_u64();
  std::size_t below(std::size_t n);  // uniform enough in [0, n); 0 when n == 0
  bool chance(unsigned percent);
  char pick(std::string_view from);

  std::string from_grammar();
  std::string verb();
  std::string domain();
  std::string path();
  std::string params(std::size_t budget);
  std::string text(std::size_t min, std::size_t max, std::string_view alphabet);
  std::string utf8_piece();
  void mutate(std::string& line);
  std::string finish(std::string line) const;

  std::uint64_t seed_;
  std::uint64_t state_;
  std::vector<std::string> corpus_;
  std::size_t max_line_;
};

// corpus_lines turns byte strings (what scenarios send) into seed lines: split at CRLF and at
// bare LF, drop empty lines and lines longer than max_line, and keep each line once, in order
// of first appearance.
std::vector<std::string> corpus_lines(const std::vector<std::string>& byte_strings,
                                      std::size_t max_line = 510);

// sendable_verb rewrites a line whose first word is DATA, BDAT or STARTTLS (any case, after
// leading blanks) by prefixing that word with 'X'; other lines are returned unchanged.
std::string sendable_verb(std::string line);

}  // namespace smtpsim::protocol
