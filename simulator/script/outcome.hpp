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

// finding is one violation a cross-cutting validator (checks.md §0, A14) saw in the transcript.
// Validators are checks of their own: a finding never changes the case's verdict.
struct finding {
  std::string validator;  // e.g. "a14.one-reply-per-command" (validators.hpp lists the ids)
  verdict v = verdict::fail;
  std::size_t entry = 0;   // index of the transcript entry holding the offending bytes
  std::size_t offset = 0;  // octet offset of the offending reply in that entry
  std::string line;        // the offending reply's first line, control characters escaped
  std::string reason;      // one sentence
};

// validation is what the validators found in one case's transcript.
struct validation {
  std::vector<finding> findings;
  // checked lists the validators that could judge something in this transcript (a validator
  // with nothing to look at, e.g. ESC when ENHANCEDSTATUSCODES was never advertised, is absent).
  std::vector<std::string> checked;
};

struct case_outcome {
  verdict final_verdict = verdict::error;
  std::string reason;  // the reason of the judgment that set the final verdict
  std::vector<judgment> judgments;
  transcript log;
  std::vector<tls_facts> tls;  // one per handshake attempt, in order
  std::chrono::milliseconds duration{0};
  validation validated;  // the cross-cutting validators' findings (server-role cases)
};

}  // namespace smtpsim::script
