#pragma once
// The scenario model: one check of the catalogue as typed data (docs/scenario-format.md).
// The loader (harness/scenario_loader) builds it from JSON; the script runner interprets it.
// Plain data: no Asio, no OpenSSL, no JSON.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulator/script/client_judge.hpp"
#include "simulator/script/fake_server.hpp"
#include "simulator/script/verdict.hpp"

namespace smtpsim::script {

// level is the requirement level of the row (checks.md §0).
enum class level : std::uint8_t { must, must_not, should, should_not, may, derived, impl, bcp };
std::string_view to_string(level l);  // "MUST", "MUST NOT", ...
std::optional<level> parse_level(std::string_view text);

// sut_role is the role of the implementation under test: a server (we play the client,
// scenarios/server/) or a client (we play the server, scenarios/client/).
enum class sut_role : std::uint8_t { server, client };
std::string_view to_string(sut_role r);

// bindings are the values a target provides for ${name} placeholders (credentials, recipients,
// domains), plus values the harness derives from them (e.g. auth_plain).
using bindings = std::map<std::string, std::string, std::less<>>;

// byte_part is one piece of a byte template: literal text (with ${var} placeholders), a
// repeated string, raw octets, or a BDAT chunk: "BDAT <n>[ LAST]\r\n" and the `chunk` parts,
// where n is the octet count of the chunk after placeholders are expanded (RFC 3030 §2).
struct byte_part {
  enum class kind : std::uint8_t { text, repeat, octets, bdat };
  byte_part() = default;
  byte_part(kind part_kind, std::string part_value, std::size_t part_count = 1)
      : k(part_kind), value(std::move(part_value)), count(part_count) {}

  kind k = kind::text;
  std::string value;             // text / repeated string / octets
  std::size_t count = 1;         // repeat count
  std::vector<byte_part> chunk;  // bdat: the chunk's parts (never another bdat)
  bool last = false;             // bdat: the LAST marker
};

// byte_template describes the exact octets of one write.
struct byte_template {
  std::vector<byte_part> parts;

  // expand substitutes placeholders and concatenates the parts. A placeholder without a binding
  // is left as is; variables() tells the harness what must be bound before the case can run.
  std::string expand(const bindings& vars) const;
  // variables lists the placeholder names used, in order of first use, without duplicates.
  std::vector<std::string> variables() const;
  // is_empty is true when no part produces octets.
  bool is_empty() const;
};

// substitute replaces ${name} in `text` with bindings; unknown names are left untouched.
std::string substitute(std::string_view text, const bindings& vars);
// placeholders lists the ${name} names in `text`.
std::vector<std::string> placeholders(std::string_view text);

// tls_params says how we do one TLS handshake (client side). Empty fields take the variant's
// value, then the target's, then the defaults.
struct tls_params {
  std::optional<std::string> sni;          // "" sends no SNI; ${server_name} allowed
  std::optional<std::string> min_version;  // "1.0" .. "1.3"
  std::optional<std::string> max_version;
  // client_cert is a PKI certificate name, e.g. "client1"; placeholders allowed
  // ("${ccert_listed}-reissued").
  std::optional<std::string> client_cert;
  std::optional<std::string> ciphers;  // OpenSSL cipher list for TLS <= 1.2
  // cert_name: internal (not in scenario files), the name the server's certificate is checked
  // against: the target's server name, whatever SNI the step sends (tls.sni-unknown-name).
  std::optional<std::string> cert_name;

  // merged_over returns *this with empty fields taken from `base`.
  tls_params merged_over(const tls_params& base) const;
};

// code_pattern matches a reply code: three characters, each a digit or 'x' ("220", "5xx").
struct code_pattern {
  std::string pattern;
  bool matches(int code) const;
};

// match_kind is what a step's observation must look like for an outcome to apply.
enum class match_kind : std::uint8_t {
  reply,             // a complete reply arrived (for wait_silence: any of the replies) whose
                     // code matches one of `codes` (all codes if `codes` is empty)
  silence,           // nothing at all arrived within the time allowed
  timeout,           // the time ran out (bytes may have arrived, but no complete reply)
  closed,            // the peer closed the connection (see closed_mode)
  malformed,         // bytes arrived that are not a valid reply
  handshake_ok,      // the TLS handshake completed
  handshake_failed,  // the TLS handshake failed (alert, close, garbage)
  connected,         // the TCP connection was established
  connect_failed,    // the TCP connection could not be established
  any,               // anything
  delivered,         // await_delivery: a message carrying the token reached the sink
  not_delivered,     // await_delivery: none did within the time allowed
};
std::string_view to_string(match_kind k);

enum class closed_mode : std::uint8_t { any, clean, unclean };

// matcher is the condition of one outcome: a kind plus optional filters on the reply.
struct matcher {
  match_kind kind = match_kind::any;
  std::vector<code_pattern> codes;                 // reply
  closed_mode closed = closed_mode::any;           // closed: clean = TLS close_notify seen
  std::optional<bool> multiline;                   // reply: multi-line or not
  std::vector<std::string> has_extension;          // reply is an EHLO reply listing these
  std::vector<std::string> lacks_extension;        // ... not listing these
  std::vector<std::string> extension_with_params;  // ... listing these with parameters
  std::optional<std::string> text_contains;        // reply / delivered message contains (any case)
  std::optional<std::string> text_matches;  // reply text: an ECMAScript regex finds (any case)
  std::optional<std::string> esc_class;     // enhanced status code, e.g. "5.7.0"; "x" wildcards
  std::optional<bool> tls;                  // the observation happened inside TLS or not
  std::optional<bool> peer_plaintext;       // handshake_failed: the peer sent SMTP text, not TLS
  // cert_requested: handshake_ok / handshake_failed: the server sent (true) or did not send
  // (false) a CertificateRequest (ccert.ask-controls-request).
  std::optional<bool> cert_requested;
  // handshake_failed, closed (inside TLS): the alert received, e.g. a TLS 1.3 server's
  // certificate_required after the client's Finished.
  std::optional<std::string> alert;
  // handshake_ok: the server's certificates pass (true) / fail (false) this check (cert_checks).
  std::optional<bool> chain_complete;
  std::optional<bool> name_matches;
  std::optional<bool> cert_current;
  std::optional<bool> purpose_sslserver;
  std::optional<bool> sni_matches;

  // describe renders the condition for evidence, e.g. "reply 5xx multiline".
  std::string describe() const;
};

// outcome is one allowed (or forbidden) reaction at a step. Outcomes are tried in order; the
// first whose matcher applies is taken. Without a verdict the script continues.
struct outcome {
  matcher match;
  std::optional<verdict> v;
  std::string reason;
  bool stop = false;    // end the case here (default: true when a verdict is given)
  std::string pointer;  // JSON pointer of the outcome in the scenario file

  std::string describe() const;  // "reply 220 -> continue", "reply 2xx -> FAIL: ..."
};

// step_kind: the primitive actions of a script played against a server.
enum class step_kind : std::uint8_t {
  connect,         // open a connection to a listener of the target
  send,            // write a command line (CRLF appended) in one write
  send_raw,        // write exact octets in one write
  read_reply,      // read `count` complete replies (one by default)
  wait_silence,    // read for a window; collect whatever arrives; expect nothing by default
  tls_handshake,   // start TLS as client on the current connection
  tls_shutdown,    // send a TLS close_notify
  close,           // close the connection
  sleep,           // wait without reading
  ehlo_diff,       // record the difference between the last two EHLO replies (INFO evidence)
  await_delivery,  // wait until the sink has a message containing `token`
  fuzz,            // send generated command lines one at a time (fuzz_params), reconnecting to
                   // the last connect step's listener when a session ends; judge each reply
};
std::string_view to_string(step_kind k);

// phase selects the default timeout of a read (architecture: per-phase timeouts).
enum class phase : std::uint8_t { connect, greeting, reply, handshake, data, silence };

// fuzz_params configures a fuzz step (checks.md line.fuzz-grammar): how many generated lines,
// from which seed, and when the fuzzer ends a session itself (QUIT) before the server's error
// limits slow it down or close it (Postfix waits a second per error after 10 errors; Exim
// closes after 3 unknown commands).
struct fuzz_params {
  std::size_t lines = 300;
  std::uint64_t seed = 1;  // the run's --fuzz-seed overrides it
  std::size_t errors_per_session = 8;
  std::size_t lines_per_session = 40;
  // quit_every: end every n-th of those sessions with QUIT and check that QUIT gets exactly one
  // reply (a surplus reply to an earlier line shows there); close the others.
  std::size_t quit_every = 1;
};

struct step {
  step_kind kind = step_kind::send;
  std::string pointer;  // JSON pointer in the scenario file, e.g. "/steps/3"
  std::string label;    // short human description, shown in evidence
  phase timeout_phase = phase::reply;
  std::optional<std::chrono::milliseconds> timeout;  // overrides the phase default
  std::vector<std::string> listeners;   // connect: the first one the target declares is used
  byte_template bytes;                  // send / send_raw
  tls_params tls;                       // tls_handshake
  std::size_t count = 1;                // read_reply: how many replies make the observation
  std::string token = "${case_token}";  // await_delivery
  fuzz_params fuzz;                     // fuzz
  std::vector<outcome> expect;          // tried in order
  std::optional<outcome> otherwise;     // when no outcome in `expect` applies
};

// variant is a named set of overrides that expands a scenario into one more case.
struct variant {
  std::string name;  // appended to the id: "<id>/<name>"
  tls_params tls;
  // vars: server-role scenarios, ${name} values for this case only (e.g. the byte sequence a
  // smuggling case sends). They take precedence over the target's values of the same name.
  bindings vars;
  // server: client-role scenarios, the fake server of this case (the scenario's "server" with
  // the variant's "server" merged over it).
  std::optional<fake_server_config> server;
};

struct scenario {
  std::string id;
  std::string title;
  std::string description;
  sut_role role = sut_role::server;
  level lvl = level::must;
  std::vector<std::string> references;
  std::vector<std::string> tags;
  // requires_traits are target traits the scenario needs (e.g. "sink"); SKIP when missing.
  std::vector<std::string> requires_traits;
  std::vector<variant> variants;
  std::vector<step> steps;

  // Client-role scenarios (role == client; steps is empty): the fake server, and the rules
  // that judge what the client did (client_judge.hpp).
  fake_server_config server;
  std::vector<client_rule> rules;
  client_rule otherwise{{}, {}, verdict::pass, "no rule applied", "/otherwise"};
  std::vector<std::string> policies;  // client policies the check is for; empty: every policy
  std::optional<bool> wrapper;        // for wrapper-mode clients (true), STARTTLS ones (false)
  std::vector<std::string> requires_capabilities;  // e.g. "auth", "client_cert"
  std::string file;  // scenario file path, relative to the scenarios folder

  // listeners returns, for each connect step, the listener names it accepts.
  std::vector<std::vector<std::string>> listener_choices() const;
  // variables returns every ${name} used by the steps.
  std::vector<std::string> variables() const;
};

// scenario_case is one runnable case: a scenario, possibly with a variant.
struct scenario_case {
  const scenario* sc = nullptr;
  const variant* var = nullptr;  // nullptr: the scenario has no variants
  std::string case_id;
};

// expand_cases returns one case per variant (or one case when there are none), named
// deterministically "<id>" or "<id>/<variant>".
std::vector<scenario_case> expand_cases(const scenario& s);

}  // namespace smtpsim::script
