#pragma once
// client_runner plays one scenario case as the SMTP client against a server under test, without
// doing any I/O itself: it returns the next action (connect, write, read, TLS handshake...) and
// consumes the result. The engine (simulator/engine) executes the actions on real sockets; tests
// execute them with byte vectors. The runner owns the judgment: it matches what the server did
// against the scenario's allowed reactions and records the transcript and the evidence.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "simulator/protocol/ehlo.hpp"
#include "simulator/protocol/grammar_fuzz.hpp"
#include "simulator/protocol/reply.hpp"

#include "simulator/script/outcome.hpp"
#include "simulator/script/scenario.hpp"

namespace smtpsim::script {

using clock = std::chrono::steady_clock;

// timeouts are the per-phase defaults (architecture: connect, greeting, reply, handshake, data)
// plus the silence window and the limit of a whole case.
struct timeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds greeting{10000};
  std::chrono::milliseconds reply{10000};
  std::chrono::milliseconds handshake{10000};
  std::chrono::milliseconds data{30000};
  std::chrono::milliseconds silence{2000};  // checks.md §0: EAST's DEFAULT_TIMEOUT = 2 s
  std::chrono::milliseconds case_limit{120000};

  std::chrono::milliseconds of(phase p) const;
};

// target_view is what the runner needs to know about the target.
struct target_view {
  std::set<std::string, std::less<>> listeners;  // declared listener names
  std::set<std::string, std::less<>> traits;     // declared traits, e.g. "sink", "public_mx"
  bindings vars;                                 // ${name} values
  tls_params tls_defaults;                       // e.g. the SNI to send
  // fuzz steps: seed lines (every line the catalogue's scenarios send, placeholders expanded),
  // and the run's --fuzz-seed, which replaces each fuzz step's own seed.
  std::shared_ptr<const std::vector<std::string>> fuzz_corpus;
  std::optional<std::uint64_t> fuzz_seed;
};

// action is what the engine must do next.
struct action {
  enum class kind : std::uint8_t {
    connect,         // open a TCP connection to `listener` within `timeout`
    write,           // write `bytes` in one write (one segment with TCP_NODELAY)
    read,            // wait up to `timeout` for bytes; return what one read delivers
    tls_handshake,   // do a client TLS handshake with `tls` within `timeout`
    tls_shutdown,    // send a TLS close_notify (do not wait for the peer's)
    close,           // close the connection
    sleep,           // wait `timeout`
    await_delivery,  // wait up to `timeout` for sink messages containing `bytes` (the token)
    done,            // the case is over; result() holds the outcome
  };
  kind k = kind::done;
  std::string listener;
  std::string bytes;
  std::chrono::milliseconds timeout{0};
  tls_params tls;
};
std::string_view to_string(action::kind k);

// io_result is what happened when the engine executed the last action.
struct io_result {
  enum class kind : std::uint8_t {
    ok,       // connect / write / handshake / shutdown / close / sleep succeeded
    data,     // read: `data` holds the octets (never empty)
    timeout,  // the action's timeout passed first
    eof,      // read: the peer closed; clean_eof tells whether TLS close_notify came first
    error,    // failed: `error` says why (connection refused, reset, handshake failure...)
  };
  kind k = kind::ok;
  std::string data;
  bool clean_eof = false;
  std::string error;
  std::optional<tls_facts> tls;       // tls_handshake: what is known, on success and on failure
  std::string peer_bytes;             // tls_handshake failure: raw octets the peer sent (bounded)
  std::string note;                   // connect: the address connected to
  std::string alert;                  // read under TLS that ended: the alert received, if any
  std::vector<std::string> messages;  // await_delivery: the messages that carry the token
  clock::time_point at;               // when the action completed
};

// observation is what a step saw; outcomes are matched against it.
struct observation {
  match_kind kind = match_kind::any;  // reply, silence, timeout, closed, malformed,
                                      // handshake_ok, handshake_failed, connected, connect_failed
  std::vector<protocol::reply> replies;  // read_reply: `count`; wait_silence: all that arrived
  std::size_t stray_bytes = 0;           // octets that did not form a complete reply
  std::string malformed_line;            // the offending line when malformed
  bool clean_close = false;
  bool tls = false;             // the step ran inside TLS
  bool peer_plaintext = false;  // handshake_failed: the peer sent SMTP text instead of TLS
  bool cert_requested = false;  // handshake_ok / handshake_failed: a CertificateRequest came
  std::string alert;            // handshake_failed: the alert received ("" if none)
  cert_checks certs;            // handshake_ok: the server certificate checks
  std::string error;
  std::chrono::milliseconds elapsed{0};
  std::vector<std::string> answered;  // parallel to replies: the command each one answered
  std::vector<std::string> messages;  // await_delivery: delivered messages with the token

  std::string describe() const;
};

// matches tells whether an outcome's matcher applies to an observation.
bool matches(const matcher& m, const observation& o);

class client_runner {
 public:
  client_runner(const scenario_case& c, target_view target, timeouts limits = {});

  // start returns the first action; `now` is the start of the case.
  action start(clock::time_point now);
  // resume consumes the result of the last action and returns the next one.
  action resume(const io_result& r);

  bool done() const { return done_; }
  // result is complete once done() is true.
  const case_outcome& result() const { return out_; }
  case_outcome take_result() { return std::move(out_); }

 private:
  enum class wait : std::uint8_t {
    none,
    connect,
    write,
    read,
    handshake,
    shutdown,
    close,
    sleep,
    delivery,
  };

  action advance();  // run steps until one needs I/O or the case ends
  action begin_step();
  action continue_read();
  action finish(verdict v, std::string reason);
  action close_then_done();
  void conclude(const observation& o);  // judge the current step's observation, move on
  // record_judgment adds a judgment; at_step = false for judgments not tied to a step
  // (preconditions, the case time limit).
  void record_judgment(verdict v, const std::string& reason, const outcome* taken,
                       const observation& o, bool at_step = true);
  std::string expected_text(const step& s) const;
  outcome default_outcome(const step& s, const observation& o) const;
  void note_sent(const std::string& bytes);
  // drain_replies moves the complete replies the reader holds into `o`, stopping once `o`
  // holds `want` of them or at a malformed line (want 0: take everything). True if any came.
  bool drain_replies(observation& o, std::size_t want);
  // read_complete: a read_reply that wants `want` replies has its observation.
  static bool read_complete(const observation& o, std::size_t want);
  std::chrono::microseconds since_start(clock::time_point t) const;
  std::chrono::milliseconds remaining(clock::time_point now) const;
  void log_event(std::string note);

  // The fuzz step (client_runner_fuzz.cpp): its own loop of writes, reads and reconnects
  // inside one step. While it runs, resume() hands every result to fuzz_resume().
  enum class fuzz_phase : std::uint8_t {
    line,        // wrote a generated line; reading its one reply
    end_data,    // a line got 354: wrote "." and reading its reply
    quit,        // wrote QUIT to end a session; reading until 221 and the close
    closing,     // closing our side before a reconnect
    connecting,  // reconnecting to the listener
    greeting,    // reading the new session's greeting
  };
  struct fuzz_state {
    explicit fuzz_state(protocol::grammar_fuzzer g) : gen(std::move(g)) {}
    protocol::grammar_fuzzer gen;
    fuzz_params params;
    std::string listener;
    fuzz_phase ph = fuzz_phase::line;
    std::size_t index = 0;  // the line being sent (0-based); == params.lines when all are sent
    std::string line;
    bool have_line = false;
    bool retried = false;     // the current line lost its session once and is being resent
    bool last_round = false;  // all lines sent: the next greeting is the final survival check
    std::size_t session_lines = 0;
    std::size_t session_errors = 0;
    std::size_t sessions = 1;
    std::size_t session_start = 0;  // transcript entry where the session began
    std::vector<std::string> session_sent;
    std::vector<std::string> lost_session;  // the lines of the session that lost the line
    std::size_t sessions_ended = 0;         // sessions the fuzzer ended itself
    std::size_t quit_replies = 0;
    std::size_t replies = 0;
    std::size_t retries = 0;
  };
  action fuzz_begin();
  action fuzz_resume(const io_result& r);
  action fuzz_next_line();
  action fuzz_read(std::chrono::milliseconds timeout);
  action fuzz_write(std::string bytes);
  action fuzz_quit();
  action fuzz_reconnect();
  action fuzz_on_reply(const protocol::reply& rep);
  action fuzz_lost_line(const std::string& how);
  action fuzz_stop(verdict v, const std::string& reason, const std::string& observed);
  std::string fuzz_where() const;

  const scenario_case& case_;
  target_view target_;
  timeouts limits_;
  std::vector<step> steps_;
  std::size_t index_ = 0;
  wait waiting_ = wait::none;

  clock::time_point start_{};
  clock::time_point now_{};
  clock::time_point step_start_{};
  clock::time_point step_deadline_{};
  std::size_t step_transcript_start_ = 0;

  bool connected_ = false;
  bool tls_active_ = false;
  bool peer_closed_ = false;
  std::uint32_t connection_ = 0;
  int connections_opened_ = 0;
  protocol::reply_reader reader_;
  std::deque<std::string> pending_verbs_;  // upper-case verbs sent and not yet answered
  bool in_data_ = false;                   // after a 354: lines sent are message content
  bool sasl_pending_ = false;              // after a 334: the next line sent is a SASL response
  bool greeted_ = false;                   // a reply was read on this connection
  bool reconnecting_ = false;              // closing the old connection before a connect step
  std::vector<protocol::ehlo_info> ehlo_history_;
  std::vector<bool> ehlo_history_tls_;
  observation obs_;  // the observation being built by the current step
  std::size_t bytes_this_step_ = 0;
  std::string pending_write_;
  std::string last_listener_;  // the listener the last connect step chose
  std::optional<fuzz_state> fuzz_;

  bool done_ = false;
  bool finishing_ = false;        // closing the connection before done
  std::optional<verdict> final_;  // a stopping verdict
  std::string final_reason_;
  case_outcome out_;
};

}  // namespace smtpsim::script
