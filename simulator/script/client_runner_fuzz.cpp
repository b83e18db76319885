// The fuzz step of client_runner (checks.md A11, line.fuzz-grammar): generated command lines,
// one at a time, each of which must get exactly one reply.
//
// How the judgment stays fair to real servers:
// - One line per write, and its reply is read before the next line goes out, so each reply is
//   tied to one line. A second reply shows up either in the same read (judged at once) or as a
//   surplus reply to the QUIT that ends every session the fuzzer ends itself.
// - Servers end sessions on purpose after errors (Exim: 3 unknown commands; Postfix: 421 after
//   20 errors, and a second of delay per error after 10). The fuzzer ends a session after
//   `errors_per_session` error replies or `lines_per_session` lines (with QUIT every
//   `quit_every`-th time, and after the last line), and treats a close right after a reply as
//   deliberate.
// - A line whose session closes without a reply is resent once in a fresh session. Only a line
//   that loses two sessions in a row is a FAIL (the server drops, or crashes on, that line);
//   whether the server still greets afterwards goes into the evidence.
// - No reply within the reply timeout is a FAIL: the server hangs.
// - After the last line the server must still greet with 220.

#include <utility>

#include <fmt/format.h>

#include "simulator/protocol/text.hpp"

#include "simulator/script/client_runner.hpp"

namespace smtpsim::script {

using protocol::printable;
using std::chrono::milliseconds;

action client_runner::fuzz_begin() {
  const step& s = steps_[index_];
  if (!connected_ || tls_active_) {
    obs_.kind = match_kind::closed;
    obs_.error = connected_ ? "the fuzz step runs on a plaintext connection"
                            : "no connection: a fuzz step follows a connect and a greeting";
    record_judgment(verdict::error, obs_.error, nullptr, obs_);
    final_ = verdict::error;
    final_reason_ = obs_.error;
    return action{};
  }
  const std::uint64_t seed = target_.fuzz_seed.value_or(s.fuzz.seed);
  std::vector<std::string> corpus;
  if (target_.fuzz_corpus) {
    corpus = *target_.fuzz_corpus;
  }
  fuzz_.emplace(protocol::grammar_fuzzer(seed, std::move(corpus)));
  fuzz_->params = s.fuzz;
  fuzz_->params.seed = seed;
  fuzz_->listener = last_listener_;
  fuzz_->session_start = out_.log.entries().size();
  log_event(fmt::format("fuzzing: {} generated lines, seed {}, {} seed lines from the catalogue",
                        s.fuzz.lines, seed, fuzz_->gen.corpus_size()));
  // Bytes still buffered belong to replies the script read before; they are not ours to judge.
  reader_.reset();
  return fuzz_next_line();
}

std::string client_runner::fuzz_where() const {
  const fuzz_state& f = *fuzz_;
  return fuzz_->index < f.params.lines
             ? fmt::format("line {} of {} (seed {}, session {}, line {} of the session)",
                           f.index + 1, f.params.lines, f.params.seed, f.sessions,
                           f.session_lines + 1)
             : fmt::format("the QUIT after line {} (seed {}, session {})", f.params.lines,
                           f.params.seed, f.sessions);
}

action client_runner::fuzz_write(std::string bytes) {
  pending_write_ = std::move(bytes);
  return action{action::kind::write, {}, pending_write_, limits_.reply, {}};
}

action client_runner::fuzz_read(milliseconds timeout) {
  step_deadline_ = now_ + timeout;
  return action{action::kind::read, {}, {}, timeout, {}};
}

action client_runner::fuzz_next_line() {
  fuzz_state& f = *fuzz_;
  if (now_ - start_ > limits_.case_limit) {
    return fuzz_stop(verdict::error,
                     fmt::format("the case exceeded its time limit of {} ms after {} of {} lines",
                                 limits_.case_limit.count(), f.index, f.params.lines),
                     fuzz_where());
  }
  if (f.index >= f.params.lines) {
    return fuzz_quit();
  }
  if (f.session_lines >= f.params.lines_per_session ||
      f.session_errors >= f.params.errors_per_session) {
    // Every quit_every-th session the fuzzer ends gets a QUIT (and the surplus-reply check);
    // the others are closed, because some servers take long to answer QUIT (Exim 4.96: 200 ms).
    ++f.sessions_ended;
    if (f.sessions_ended % f.params.quit_every == 0) {
      return fuzz_quit();
    }
    log_event("ending the session without QUIT");
    return fuzz_reconnect();
  }
  if (!f.have_line) {
    f.line = f.gen.next();
    f.have_line = true;
  }
  f.ph = fuzz_phase::line;
  f.session_sent.push_back(f.line);
  return fuzz_write(f.line + "\r\n");
}

action client_runner::fuzz_quit() {
  fuzz_state& f = *fuzz_;
  f.ph = fuzz_phase::quit;
  f.quit_replies = 0;
  f.last_round = f.index >= f.params.lines;
  f.session_sent.emplace_back("QUIT");
  return fuzz_write("QUIT\r\n");
}

action client_runner::fuzz_reconnect() {
  fuzz_state& f = *fuzz_;
  if (connected_) {
    f.ph = fuzz_phase::closing;
    return action{action::kind::close, {}, {}, {}, {}};
  }
  f.ph = fuzz_phase::connecting;
  return action{action::kind::connect, f.listener, {}, limits_.connect, {}};
}

action client_runner::fuzz_stop(verdict v, const std::string& reason, const std::string& observed) {
  fuzz_state& f = *fuzz_;
  observation o;
  o.kind = match_kind::any;
  // The judgment's transcript excerpt is the session that failed: with the seed, a reproducer.
  step_transcript_start_ = f.session_start;
  auto join = [](const std::vector<std::string>& sent) {
    std::string lines;
    for (const auto& l : sent) {
      lines += (lines.empty() ? "" : " | ") + printable(l, 160);
    }
    return lines;
  };
  o.error = fmt::format(
      "{}; {} lines answered, {} replies, {} sessions, {} lines resent; the session's lines: "
      "{}{}; replay with --fuzz-seed {}",
      observed, f.index, f.replies, f.sessions, f.retries, join(f.session_sent),
      f.retried ? "; the session that lost the line first: " + join(f.lost_session) : "",
      f.params.seed);
  record_judgment(v, reason, nullptr, o);
  final_ = v;
  final_reason_ = reason;
  fuzz_.reset();
  return advance();
}

action client_runner::fuzz_lost_line(const std::string& how) {
  fuzz_state& f = *fuzz_;
  peer_closed_ = true;
  if (f.ph == fuzz_phase::quit) {
    // The server had already ended the session (a close right after its last reply).
    return fuzz_reconnect();
  }
  if (!f.retried) {
    log_event(fmt::format("{} without replying to {}; resending the line in a new session", how,
                          fuzz_where()));
    f.retried = true;
    ++f.retries;
    f.lost_session = f.session_sent;
    return fuzz_reconnect();
  }
  return fuzz_stop(verdict::fail,
                   fmt::format("the server ended two sessions in a row without replying to the "
                               "same line: every CRLF-terminated line must get exactly one "
                               "reply (RFC 5321 §4.2): \"{}\"",
                               printable(f.line, 200)),
                   fmt::format("{}: {}", fuzz_where(), how));
}

action client_runner::fuzz_on_reply(const protocol::reply& rep) {
  fuzz_state& f = *fuzz_;
  ++f.replies;
  // A second complete reply in the same read answers nothing we sent.
  auto extra = reader_.next();
  if (extra) {
    if (extra.value().code != 421) {
      return fuzz_stop(verdict::fail,
                       fmt::format("one line got two replies ({} and then {}); every line must "
                                   "get exactly one (RFC 5321 §4.2): \"{}\"",
                                   rep.code, extra.value().code, printable(f.line, 200)),
                       fuzz_where());
    }
    // A 421 after a reply: the server ends the session (RFC 5321 §3.8 allows it any time).
    log_event("the server sent 421 after its reply: it ends the session");
    ++f.index;
    f.have_line = false;
    f.retried = false;
    return fuzz_reconnect();
  }
  if (f.ph == fuzz_phase::end_data) {
    return fuzz_next_line();
  }
  ++f.index;
  ++f.session_lines;
  f.have_line = false;
  f.retried = false;
  if (rep.code == 354) {
    // A generated line opened a message (e.g. a mangled DATA the server still took): end it.
    f.ph = fuzz_phase::end_data;
    f.session_sent.emplace_back(".");
    return fuzz_write(".\r\n");
  }
  if (rep.code == 221 || rep.code == 421 || rep.code == 220) {
    // The server ends the session (QUIT, too many errors, a header-like line) or expects TLS.
    return fuzz_reconnect();
  }
  if (rep.code >= 400) {
    ++f.session_errors;
  }
  return fuzz_next_line();
}

action client_runner::fuzz_resume(const io_result& r) {
  fuzz_state& f = *fuzz_;
  switch (f.ph) {
    case fuzz_phase::closing:
      if (connected_) {
        log_event("closed the connection");
      }
      connected_ = false;
      tls_active_ = false;
      f.ph = fuzz_phase::connecting;
      return action{action::kind::connect, f.listener, {}, limits_.connect, {}};
    case fuzz_phase::connecting:
      if (r.k != io_result::kind::ok) {
        const std::string why = r.error.empty() ? "timed out" : r.error;
        log_event("connection failed: " + why);
        // It accepted connections before the fuzzing began.
        return fuzz_stop(verdict::fail,
                         f.retried ? fmt::format("the server accepts no more connections after a "
                                                 "line ended a session without a reply (did it "
                                                 "crash?): \"{}\"",
                                                 printable(f.line, 200))
                                   : "the server stopped accepting connections during the "
                                     "fuzzing (did it crash?)",
                         fuzz_where() + ": " + why);
      }
      connection_ = static_cast<std::uint32_t>(connections_opened_++);
      connected_ = true;
      tls_active_ = false;
      peer_closed_ = false;
      reader_.reset();
      log_event(fmt::format("connected to {} {}", f.listener, r.note));
      ++f.sessions;
      f.session_start = out_.log.entries().size() - 1;
      f.session_lines = 0;
      f.session_errors = 0;
      f.session_sent.clear();
      f.ph = fuzz_phase::greeting;
      return fuzz_read(limits_.greeting);
    case fuzz_phase::line:
    case fuzz_phase::end_data:
    case fuzz_phase::quit:
    case fuzz_phase::greeting:
      break;
  }
  // Writes.
  if (!pending_write_.empty() && f.ph != fuzz_phase::greeting) {
    std::string written = std::exchange(pending_write_, {});
    if (r.k != io_result::kind::ok) {
      log_event("write failed: " + r.error);
      return fuzz_lost_line("the connection was closed (the write failed: " + r.error + ")");
    }
    out_.log.add_bytes(since_start(now_), direction::sent, false, connection_, written);
    return fuzz_read(limits_.reply);
  }
  // Reads.
  if (r.k == io_result::kind::data) {
    out_.log.add_bytes(since_start(now_), direction::received, false, connection_, r.data);
    reader_.feed(r.data);
  }
  auto got = reader_.next();
  if (!got && got.error() != protocol::errc::incomplete) {
    std::string bad = reader_.last_error().line;
    return fuzz_stop(
        verdict::fail,
        "the server sent a malformed reply (RFC 5321 §4.2): \"" + printable(bad, 200) + "\"",
        fuzz_where());
  }
  if (got) {
    const protocol::reply rep = std::move(got).value();
    if (f.ph == fuzz_phase::greeting) {
      if (rep.code != 220) {
        if (f.retried) {
          return fuzz_stop(verdict::fail,
                           fmt::format("after a line ended a session without a reply, the "
                                       "server greets with {} instead of 220: \"{}\"",
                                       rep.code, printable(f.line, 200)),
                           fuzz_where());
        }
        return fuzz_stop(verdict::error,
                         fmt::format("the server refused a new session with {} \"{}\"; the "
                                     "fuzzing could not go on",
                                     rep.code, printable(rep.text(), 120)),
                         fuzz_where());
      }
      if (f.last_round) {
        // The survival check after the last line.
        step_transcript_start_ = f.session_start;
        observation o;
        o.kind = match_kind::any;
        o.error = fmt::format("{} lines, {} replies, {} sessions, {} lines resent once", f.index,
                              f.replies, f.sessions - 1, f.retries);
        final_ = verdict::pass;
        final_reason_ = fmt::format(
            "each of {} generated lines (seed {}) got exactly one reply, and the server still "
            "greets",
            f.params.lines, f.params.seed);
        record_judgment(verdict::pass, final_reason_, nullptr, o);
        fuzz_.reset();
        return advance();
      }
      return fuzz_next_line();
    }
    if (f.ph == fuzz_phase::quit) {
      ++f.quit_replies;
      ++f.replies;
      if (rep.code != 221 || f.quit_replies > 1) {
        if (f.quit_replies > 1) {
          return fuzz_stop(verdict::fail,
                           fmt::format("QUIT got {} replies: a line of this session got more "
                                       "than one reply (RFC 5321 §4.2)",
                                       f.quit_replies),
                           fuzz_where());
        }
        // Not 221 yet: either a surplus reply to an earlier line (then 221 follows) or an
        // odd answer to QUIT (then the close or the silence follows).
        return fuzz_read(limits_.silence);
      }
      return fuzz_reconnect();
    }
    return fuzz_on_reply(rep);
  }
  // No complete reply: keep reading, or judge the close / the silence.
  if (r.k == io_result::kind::data && remaining(now_).count() > 0) {
    return action{action::kind::read, {}, {}, remaining(now_), {}};
  }
  if (r.k == io_result::kind::eof || r.k == io_result::kind::error) {
    log_event("connection closed by the peer" + (r.error.empty() ? "" : ": " + r.error));
    connected_ = false;
    if (f.ph == fuzz_phase::greeting) {
      return fuzz_stop(verdict::fail,
                       f.retried ? fmt::format("after a line ended a session without a reply, the "
                                               "server closes new connections without a greeting "
                                               "(did it crash?): \"{}\"",
                                               printable(f.line, 200))
                                 : "during the fuzzing the server began to close new connections "
                                   "without a greeting (did it crash?)",
                       fuzz_where());
    }
    if (f.ph == fuzz_phase::quit && f.quit_replies > 0) {
      return fuzz_reconnect();  // an odd reply to QUIT, then the close
    }
    return fuzz_lost_line("the server closed the connection");
  }
  // The time is up.
  if (f.ph == fuzz_phase::quit && f.quit_replies > 0) {
    return fuzz_reconnect();
  }
  if (f.ph == fuzz_phase::greeting) {
    return fuzz_stop(verdict::fail,
                     fmt::format("no greeting within {} ms on a new session{}: the server hangs",
                                 limits_.greeting.count(),
                                 f.retried ? " after a line ended a session without a reply" : ""),
                     fuzz_where());
  }
  return fuzz_stop(
      verdict::fail,
      fmt::format("no reply within {} ms: the server hangs on \"{}\"", limits_.reply.count(),
                  printable(f.ph == fuzz_phase::quit ? std::string("QUIT") : f.line, 200)),
      fuzz_where());
}

}  // namespace smtpsim::script
