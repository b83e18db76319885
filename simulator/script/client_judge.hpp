#pragma once
// The judgment of a client-side case. The fake server records what the client did on every
// connection of the case (fake_server.hpp); once the client is done, the scenario's rules are
// tried in order against that record and the first that applies gives the verdict, with the
// matching commands as evidence. Rules can be limited to the TLS policy the client target
// declares (Postfix's words: none, may, encrypt, verify, secure), so one scenario says, e.g.,
// "AUTH in plaintext is FAIL for a mandatory client, INFO for an opportunistic one".
// Plain data: no Asio, no OpenSSL, no JSON.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/script/fake_server.hpp"
#include "simulator/script/outcome.hpp"
#include "simulator/script/verdict.hpp"

namespace smtpsim::script {

// client_policies are the policy words, in order of strength.
inline const std::vector<std::string>& client_policies() {
  static const std::vector<std::string> words = {"none", "may", "encrypt", "verify", "secure"};
  return words;
}

// client_condition is what a rule looks for. Every field that is set must hold (AND).
struct client_condition {
  // Command filters: a command matches when every set filter holds; `sent` holds when some
  // command (SASL responses excluded) on some connection matches.
  std::vector<std::string> sent;             // its verb is one of these ("" in the list: any verb)
  std::vector<std::string> line_prefix;      // its line starts with one of these (any case)
  std::optional<std::string> side;           // "plaintext" or "tls"
  std::optional<bool> early;                 // sent before the reply to an earlier command
  std::vector<std::string> early_after;      // ... that earlier command's verb is one of these
  std::optional<bool> in_delay;              // sent while a reply was held back
  std::optional<bool> with_argument;         // has a non-empty argument
  std::optional<std::size_t> longer_than;    // its line (with line end) is longer than this
  std::optional<bool> after_first_delivery;  // sent after a message was accepted
  // sasl: true matches SASL response lines (after a 334) instead of commands.
  std::optional<bool> sasl;
  std::vector<std::string> line_not;  // its line is none of these, exactly

  // Connection facts (some connection satisfies it, unless said otherwise).
  std::vector<std::string> first_in_tls_not;  // the first command inside TLS is none of these
  std::optional<std::string> after_220;       // "tls", "plaintext", "nothing"
  std::optional<std::string> handshake;       // "ok", "failed", "none" (none: never attempted)
  std::optional<bool> delivered;              // a message was accepted (any connection)
  std::optional<std::string> delivered_side;  // ... and it came over "plaintext" / "tls"
  std::optional<bool> client_cert;            // a client certificate was presented
  std::optional<std::size_t> connections_at_least;
  std::optional<bool> connected;     // at least one connection
  std::optional<bool> close_notify;  // a TLS connection the client closed: with close_notify
  std::optional<std::chrono::milliseconds> tls_wait_over;  // the client's first byte came late
  std::optional<bool> exit_ok;  // the client program exited 0 (evidence, not the main signal)

  bool has_command_filter() const;
  // observes_action is true when the condition can only hold because the client did something
  // (sent a command, plaintext after the 220, a message, a certificate), so it holds even for a
  // client that had to be killed; conditions on what did not happen need a client that finished.
  bool observes_action() const;
};

// client_rule is one rule of a scenario.
struct client_rule {
  client_condition when;
  std::vector<std::string> policies;  // apply only to these client policies (empty: all)
  verdict v = verdict::fail;
  std::string reason;
  std::string pointer;  // JSON pointer in the scenario file
};

// client_facts is everything the judge sees about one case.
struct client_facts {
  std::vector<connection_record> connections;
  std::string policy = "may";
  bool wrapper = false;
  bool exited = false;             // the client program ended by itself
  std::optional<int> exit_status;  // its status (128+N for a signal)
  bool killed = false;             // we had to kill it
};

// judge_client tries `rules` in order and returns the verdict of the first that applies, or
// `otherwise`. The judgment's `observed` names what matched (command lines, connection facts);
// transcript_from/to point at the first matching command.
judgment judge_client(const std::vector<client_rule>& rules, const client_rule& otherwise,
                      const client_facts& facts);

// describe renders a condition for evidence, e.g. "sent AUTH|MAIL in plaintext".
std::string describe(const client_condition& c);
// summarize renders the record briefly: one line per connection.
std::string summarize(const client_facts& facts);

}  // namespace smtpsim::script
