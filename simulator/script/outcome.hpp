#pragma once
// What a case ends with: a verdict, the judgments that led to it (each with its evidence), the
// transcript and the TLS sessions.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "simulator/script/transcript.hpp"
#include "simulator/script/verdict.hpp"

namespace smtpsim::script {

// judgment is one decision taken at one step, with its evidence.
struct judgment {
  verdict v = verdict::pass;
  std::string reason;        // why, in one sentence
  std::size_t step = 0;      // index into the case's steps
  std::string step_pointer;  // JSON pointer of that step in the scenario file, e.g. "/steps/4"
  std::string expected;      // the reactions the scenario allowed at that step
  std::string observed;      // what the peer did
  // The transcript entries [transcript_from, transcript_to) are the excerpt for this judgment.
  std::size_t transcript_from = 0;
  std::size_t transcript_to = 0;
};

struct case_outcome {
  verdict final_verdict = verdict::error;
  std::string reason;  // the reason of the judgment that set the final verdict
  std::vector<judgment> judgments;
  transcript log;
  std::vector<tls_facts> tls;  // one per handshake attempt, in order
  std::chrono::milliseconds duration{0};
};

}  // namespace smtpsim::script
