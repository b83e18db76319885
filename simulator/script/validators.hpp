#pragma once
// The cross-cutting validators of checks.md §0 and A14. They run after a server-role case ended
// (smtpsim played the client), on its transcript alone, and report findings; they never change
// the case's verdict (the run turns them into one result per validator, harness/run.cpp).
//
// - a14.one-reply-per-command: RFC 5321 §4.2, "Every command MUST generate exactly one reply".
//   The validator models what a strict RFC 5321 server treats as a command in the octets the
//   client sent and flags a reply that arrives when every command already had its reply.
// - a14.multiline-same-code: RFC 5321 §4.2.1, every line of a reply carries the same code.
// - esc.prefix-all-replies: RFC 2034 §3, §4: after an EHLO reply that advertised
//   ENHANCEDSTATUSCODES, every 2xx/4xx/5xx reply (not the greeting, not HELO/EHLO replies) starts
//   each line with the same class.subject.detail code whose class is the reply's first digit;
//   3xx replies carry none.
// - esc.tls-codes: RFC 3207 §4 and RFC 4954 §4, §6 name the enhanced status code of each TLS- and
//   AUTH-related reply (530 5.7.0, 454 4.7.0, 538 5.7.11, 535 5.7.8, 534 5.7.9, and 500 5.5.6 to
//   an AUTH exchange line over 12288 octets); a SHOULD, so a finding is a WARN. It looks only at
//   replies that carry a well-formed code of the right class (esc.prefix-all-replies reports the
//   others).
//
// The command model (docs/scenario-format.md §3.8) never guesses against the server: where the
// octets allow more than one reading (a bare LF, a "." line with extra CRs inside DATA) it tries
// a strict and a lenient server and only reports what neither explains; octets it cannot
// attribute (a reply that does not parse, binary octets without a line end) stop the count on
// that connection side. Fewer replies than commands are never its business (RFC 3207 §4.2
// discards; a close).

#include <span>
#include <string_view>

#include "simulator/script/outcome.hpp"
#include "simulator/script/transcript.hpp"

namespace smtpsim::script {

inline constexpr std::string_view one_reply_validator = "a14.one-reply-per-command";
inline constexpr std::string_view multiline_validator = "a14.multiline-same-code";
inline constexpr std::string_view esc_validator = "esc.prefix-all-replies";
inline constexpr std::string_view esc_tls_codes_validator = "esc.tls-codes";

// validator_info describes one validator for the run's synthetic result.
struct validator_info {
  std::string_view id;
  std::string_view title;
  std::string_view level;  // "MUST" or "SHOULD"
  std::string_view reference;
  verdict on_finding = verdict::fail;  // of a finding and of the run's result: FAIL, or WARN
  std::string_view skip_reason;        // the run's result when no case gave it anything to check
};

// server_validators lists the validators run on server-role transcripts, in report order.
std::span<const validator_info> server_validators();

// validate_server_transcript runs every server validator over `t` (we played the client).
validation validate_server_transcript(const transcript& t);

}  // namespace smtpsim::script
