#include "harness/run.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "simulator/engine/client_engine.hpp"
#include "simulator/reference/client_fault.hpp"
#include "simulator/reference/fault.hpp"
#include "simulator/script/validators.hpp"
#include "simulator/tls/pki.hpp"

#include "harness/client_run.hpp"
#include "harness/client_target.hpp"
#include "harness/process.hpp"
#include "harness/reference_target.hpp"
#include "harness/scenario_loader.hpp"
#include "harness/started_target.hpp"
#include "harness/target.hpp"
#include "reports/junit.hpp"
#include "reports/markdown.hpp"
#include "reports/run_json.hpp"
#include "reports/terminal.hpp"

#include <fnmatch.h>
#include <unistd.h>

namespace smtpsim::harness {

namespace fs = std::filesystem;

namespace {

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool selected(const script::scenario_case& c, const run_options& o) {
  auto hit = [&](const std::vector<std::string>& globs) {
    return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
      return glob_match(g, c.case_id) || glob_match(g, c.sc->id);
    });
  };
  if (!o.tests.empty() && !hit(o.tests)) {
    return false;
  }
  return !hit(o.skips);
}

std::string random_run_id() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

reference::fault_set parse_faults(const std::vector<std::string>& names) {
  reference::fault_set set;
  for (const auto& n : names) {
    auto f = reference::parse_fault(n);
    if (!f) {
      throw config_error(
          "--reference-fault", "", text_position{},
          fmt::format("unknown fault \"{}\" (smtpsim serve --list-faults lists them)", n));
    }
    set.set(*f);
  }
  return set;
}

// prepared_target is one target of the run, ready for the engine.
struct prepared_target {
  server_target desc;
  engine::client_target engine_target;
  std::unique_ptr<started_target> started;  // targets the harness starts (setup, sink)
  std::string setup_error;                  // every case is an ERROR with it
  std::string skip_reason;                  // every case is a SKIP with it (missing programs)
};

// apply_expected_failures turns a FAIL of a case the target lists into XFAIL (with the reason)
// and a PASS of a listed case into XPASS.
void apply_expected_failures(script::case_outcome& outcome,
                             const std::map<std::string, std::string>& expected,
                             const script::scenario_case& c) {
  for (const auto& [glob, reason] : expected) {
    if (!glob_match(glob, c.case_id) && !glob_match(glob, c.sc->id)) {
      continue;
    }
    if (outcome.final_verdict == script::verdict::fail) {
      outcome.final_verdict = script::verdict::xfail;
      outcome.reason = fmt::format("{} (expected failure: {})", outcome.reason, reason);
    } else if (outcome.final_verdict == script::verdict::pass) {
      outcome.final_verdict = script::verdict::xpass;
      outcome.reason = fmt::format("listed as an expected failure ({}), but passed", reason);
    }
    return;
  }
}

script::case_outcome verdict_only(script::verdict v, std::string reason) {
  script::case_outcome out;
  out.final_verdict = v;
  out.reason = reason;
  script::judgment j;
  j.v = v;
  j.reason = std::move(reason);
  out.judgments.push_back(std::move(j));
  return out;
}

// job is one case against one target; it lives until the run ends (the engine keeps
// references to its runner).
struct job {
  std::size_t target_index = 0;
  std::size_t case_index = 0;
  std::unique_ptr<script::client_runner> runner;
  std::string started_at;
  std::thread worker;  // client cases: the thread that runs the client and the fake server
};

// work is one (target, case) pair to run: a server case against a server target, or a client
// case against a client target.
struct work {
  bool client = false;
  std::size_t target_index = 0;
  std::size_t case_index = 0;
};

// is_client_target_file tells a client target file ("kind": "client") from a server one.
bool is_client_target_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) {
    return false;
  }
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  return doc.is_object() && doc.contains("kind") && doc["kind"] == "client";
}

reports::case_result make_result(const script::scenario_case& c, const std::string& target,
                                 std::string started_at, script::case_outcome outcome) {
  reports::case_result r;
  r.case_id = c.case_id;
  r.scenario_id = c.sc->id;
  r.variant = c.var != nullptr ? c.var->name : "";
  r.target = target;
  r.title = c.sc->title;
  r.level = std::string(script::to_string(c.sc->lvl));
  r.role = std::string(script::to_string(c.sc->role));
  r.file = c.sc->file;
  r.references = c.sc->references;
  r.tags = c.sc->tags;
  r.started_at = std::move(started_at);
  r.outcome = std::move(outcome);
  return r;
}

// validator_results makes one result per cross-cutting validator (checks.md §0, A14) from the
// findings of the server-role cases run against `target`: FAIL (WARN for a SHOULD such as
// esc.tls-codes) naming the offending cases, PASS
// when no case that could be checked has a finding, SKIP when no case could be checked. None at
// all when no case got a reply. The target's expected failures apply to the validator ids as to
// case ids.
std::vector<reports::case_result> validator_results(const std::vector<reports::case_result>& cases,
                                                    const server_target& target,
                                                    const run_options& o,
                                                    const std::string& started_at) {
  std::vector<reports::case_result> out;
  std::vector<const reports::case_result*> mine;
  for (const auto& r : cases) {
    if (!r.synthetic && r.target == target.name && r.role == "server") {
      mine.push_back(&r);
    }
  }
  // A target none of whose cases got a reply (unreachable, a failed setup, missing programs)
  // gives the validators nothing: no results rather than three SKIPs next to the cases' ERRORs.
  if (std::none_of(mine.begin(), mine.end(), [](const reports::case_result* c) {
        return !c->outcome.validated.checked.empty() || !c->outcome.validated.findings.empty();
      })) {
    return out;
  }
  for (const auto& info : script::server_validators()) {
    const std::string id(info.id);
    if (std::any_of(o.skips.begin(), o.skips.end(),
                    [&](const std::string& g) { return glob_match(g, id); })) {
      continue;
    }
    reports::case_result r;
    r.case_id = id;
    r.scenario_id = id;
    r.target = target.name;
    r.title = std::string(info.title);
    r.level = std::string(info.level);
    r.role = "server";
    r.references = {std::string(info.reference)};
    r.tags = {"validator", "cross-cutting"};
    r.started_at = started_at;
    r.synthetic = true;
    std::size_t checked = 0;
    std::vector<std::string> offending;
    for (const auto* c : mine) {
      const auto& v = c->outcome.validated;
      if (std::find(v.checked.begin(), v.checked.end(), id) != v.checked.end()) {
        ++checked;
      }
      std::size_t n = 0;
      const script::finding* first = nullptr;
      for (const auto& f : v.findings) {
        if (f.validator == id) {
          first = first != nullptr ? first : &f;
          ++n;
        }
      }
      if (first == nullptr) {
        continue;
      }
      offending.push_back(c->case_id);
      script::judgment j;
      j.v = first->v;
      j.reason = fmt::format("{}: {}", c->case_id, first->reason);
      j.expected = std::string(info.title);
      j.observed =
          fmt::format("{} (transcript entry {}, offset {}){}", first->line, first->entry,
                      first->offset, n > 1 ? fmt::format("; {} findings in this case", n) : "");
      r.outcome.judgments.push_back(std::move(j));
    }
    if (!offending.empty()) {
      constexpr std::size_t listed = 12;
      std::vector<std::string> names(
          offending.begin(),
          offending.begin() + static_cast<std::ptrdiff_t>(std::min(offending.size(), listed)));
      r.outcome.final_verdict = info.on_finding;  // FAIL, or WARN for a SHOULD
      r.outcome.reason =
          fmt::format("{} case{} violate{} it: {}{}", offending.size(),
                      offending.size() == 1 ? "" : "s", offending.size() == 1 ? "s" : "",
                      fmt::join(names, ", "), offending.size() > listed ? ", ..." : "");
    } else if (checked > 0) {
      r.outcome.final_verdict = script::verdict::pass;
      r.outcome.reason = fmt::format("no finding in the {} case{} it could check", checked,
                                     checked == 1 ? "" : "s");
    } else {
      r.outcome.final_verdict = script::verdict::skip;
      r.outcome.reason = std::string(info.skip_reason);
    }
    for (const auto& [glob, why] : target.expected_failures) {
      if (!glob_match(glob, id)) {
        continue;
      }
      if (r.outcome.final_verdict == script::verdict::fail) {
        r.outcome.final_verdict = script::verdict::xfail;
        r.outcome.reason = fmt::format("{} (expected failure: {})", r.outcome.reason, why);
      } else if (r.outcome.final_verdict == script::verdict::pass) {
        r.outcome.final_verdict = script::verdict::xpass;
        r.outcome.reason = fmt::format("listed as an expected failure ({}), but passed", why);
      }
      break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

struct selection {
  scenario_set scenarios;
  std::vector<script::scenario_case> cases;
};

selection select_cases(const run_options& o) {
  selection sel;
  const fs::path dir = o.scenario_dir.empty() ? default_scenario_dir() : o.scenario_dir;
  sel.scenarios = load_scenarios(dir);
  if (!sel.scenarios.errors.empty()) {
    // Report the first error as the exception; the caller prints it. `validate` lists them all.
    throw sel.scenarios.errors.front();
  }
  for (const auto& s : sel.scenarios.scenarios) {
    for (auto& c : script::expand_cases(*s)) {
      if (selected(c, o)) {
        sel.cases.push_back(std::move(c));
      }
    }
  }
  if (sel.cases.empty()) {
    throw config_error("--test", "", text_position{},
                       fmt::format("no scenario in {} matches the selection", dir.string()));
  }
  return sel;
}

}  // namespace

int exit_code_for(const reports::run_result& run) {
  const auto c = run.counts();
  if (c.fail > 0 || c.xpass > 0 || (run.strict && c.warn > 0)) {
    return 1;
  }
  // The validators' synthetic results judge transcripts the cases produced: they alone do not
  // make a run conclusive.
  const std::size_t judged = static_cast<std::size_t>(
      std::count_if(run.cases.begin(), run.cases.end(), [](const reports::case_result& r) {
        const auto v = r.outcome.final_verdict;
        return !r.synthetic && (v == script::verdict::pass || v == script::verdict::warn ||
                                v == script::verdict::info || v == script::verdict::xfail);
      }));
  if (c.error > 0 || judged == 0 || run.interrupted) {
    return 3;
  }
  return 0;
}

int run_suite(const run_options& o, std::ostream& out, reports::run_result* result_out) {
  if (o.jobs == 0) {
    throw config_error("--jobs", "", text_position{}, "must be at least 1");
  }
  selection sel = select_cases(o);

  // Targets: server targets run the server-role cases, client targets the client-role ones.
  std::vector<std::unique_ptr<prepared_target>> targets;
  std::map<std::string, std::shared_ptr<const std::vector<std::string>>> fuzz_corpora;
  std::vector<client_target> clients;
  std::unique_ptr<reference_target> reference;
  std::vector<std::string> urls;
  std::vector<fs::path> files;
  for (const auto& t : o.targets) {
    if (is_target_url(t)) {
      urls.push_back(t);
    } else if (is_client_target_file(t)) {
      clients.push_back(load_client_target_file(t));
    } else {
      files.emplace_back(t);
    }
  }
  const bool no_targets = o.targets.empty() && o.clients.empty();
  if (!o.reference_faults.empty() && !no_targets) {
    throw config_error("--reference-fault", "", text_position{},
                       "faults apply to the built-in reference target, which runs only when no "
                       "--target or --client is given");
  }
  if (!o.reference_client_faults.empty() && !no_targets) {
    throw config_error("--reference-client-fault", "", text_position{},
                       "faults apply to the built-in reference client, which runs only when no "
                       "--target or --client is given");
  }
  for (const auto& f : o.reference_client_faults) {
    if (!reference::client::parse_client_fault(f)) {
      throw config_error("--reference-client-fault", "", text_position{},
                         fmt::format("unknown client fault \"{}\" (smtpsim send --list-faults "
                                     "lists them)",
                                     f));
    }
  }
  auto add_target = [&](server_target t) {
    apply_overrides(t, o.vars, o.traits);
    add_derived_vars(t.vars);
    auto p = std::make_unique<prepared_target>();
    p->desc = std::move(t);
    for (const auto& [name, ep] : p->desc.listeners) {
      p->engine_target.listeners[name] = ep;
    }
    p->engine_target.trust_pem = p->desc.trust_pem;
    targets.push_back(std::move(p));
  };
  if (!urls.empty()) {
    add_target(target_from_urls(urls));
  }
  for (const auto& f : files) {
    add_target(load_target_file(f));
  }
  if (!o.clients.empty()) {
    const auto policy = parse_client_policy(o.client_policy);
    if (!policy) {
      throw config_error("--client-policy", "", text_position{},
                         "expected none, may, encrypt, verify or secure");
    }
    for (const auto& command : o.clients) {
      clients.push_back(client_target_from_cli(
          command, *policy, o.client_wrapper, o.client_timeout,
          std::set<std::string>(o.client_capabilities.begin(), o.client_capabilities.end())));
    }
  }
  if (no_targets) {
    reference = std::make_unique<reference_target>(parse_faults(o.reference_faults));
    reference->start();
    add_target(reference->target());
    targets.back()->engine_target.pki = &reference->pki();
    targets.back()->engine_target.sink = &reference->sink();
    if (!o.self_exe.empty()) {
      for (auto& t : reference_client_targets(o.self_exe, o.reference_client_faults)) {
        clients.push_back(std::move(t));
      }
    }
  }
  for (const auto& t : clients) {
    check_placeholders(t);
  }

  // Client cases need a folder with the test PKI (the client's CA file and certificate).
  std::optional<tls::test_pki> client_pki;
  client_run_env client_env;
  std::atomic<bool> stop_clients{false};
  bool remove_run_dir = false;
  if (!clients.empty()) {
    client_pki = reference ? reference->pki() : tls::make_test_pki();
    client_env.pki = &*client_pki;
    if (o.write_reports) {
      client_env.run_dir = fs::absolute(o.out_dir / "clients");
    } else {
      client_env.run_dir =
          fs::temp_directory_path() / fmt::format("smtpsim-run-{}-{}", ::getpid(), random_run_id());
      remove_run_dir = true;
    }
    fs::create_directories(client_env.run_dir);
    tls::write_pki(*client_pki, client_env.run_dir / "pki");
    client_env.source_dir = fs::path(SMTPSIM_SOURCE_SCENARIOS).parent_path();
    client_env.stop = &stop_clients;
  }

  // Signals are caught from here on (Asio's handler replaces the default, which would end the
  // harness without a teardown); they are seen while the targets start and while cases run.
  reports::run_result run;
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) {
      run.interrupted = true;
      stop_clients = true;
      io.stop();
    }
  });
  const auto t0 = std::chrono::steady_clock::now();

  // Server targets the harness starts: ports, PKI, sink, setup, readiness. A failed start makes
  // each of the target's cases an ERROR that says why; the teardown runs in any case.
  std::optional<tls::test_pki> started_pki;
  fs::path started_scratch;  // when no reports are written
  std::set<std::string> started_dirs;
  const std::function<bool()> interrupted = [&] {
    io.poll();
    return run.interrupted;
  };
  for (auto& pt : targets) {
    server_target& d = pt->desc;
    std::vector<std::string> missing;
    for (const auto& p : d.requires_programs) {
      if (!find_program(p)) {
        missing.push_back(p);
      }
    }
    if (!missing.empty()) {
      pt->skip_reason = fmt::format("the target needs {}, which is not installed (not in PATH)",
                                    fmt::join(missing, ", "));
      continue;
    }
    if (!d.started()) {
      continue;
    }
    if (!started_pki) {
      started_pki = tls::make_test_pki();
    }
    fs::path base;
    if (o.write_reports) {
      base = fs::absolute(o.out_dir) / "targets";
    } else {
      if (started_scratch.empty()) {
        started_scratch = fs::temp_directory_path() /
                          fmt::format("smtpsim-run-{}-{}", ::getpid(), random_run_id());
      }
      base = started_scratch / "targets";
    }
    std::string dir = started_target_dir_name(d);
    for (int n = 2; !started_dirs.insert(dir).second; ++n) {
      dir = fmt::format("{}-{}", started_target_dir_name(d), n);
    }
    pt->started = std::make_unique<started_target>(
        d, base / dir, fs::path(SMTPSIM_SOURCE_SCENARIOS).parent_path(), *started_pki);
    if (!run.interrupted) {
      out << fmt::format("starting target {} ...\n", d.name) << std::flush;
      pt->setup_error = pt->started->start(interrupted);
    } else {
      pt->setup_error = "the run was interrupted before the target was started";
    }
    if (!pt->setup_error.empty()) {
      out << fmt::format("error: target {}: {}\n", d.name, pt->setup_error);
    }
    for (const auto& [name, ep] : d.listeners) {
      pt->engine_target.listeners[name] = ep;
    }
    pt->engine_target.pki = &*started_pki;
    if (d.trust_pem.empty()) {
      d.trust_pem = started_pki->ca_pem();
    }
    pt->engine_target.trust_pem = d.trust_pem;
    if (pt->started->has_sink()) {
      pt->engine_target.sink = &pt->started->sink();
    }
  }

  run.tool_version = SMTPSIM_VERSION;
  run.command_line = o.command_line;
  run.started_at = iso_now();
  run.strict = o.strict;
  for (const auto& t : targets) {
    reports::target_info info;
    info.name = t->desc.name;
    info.kind = t->desc.kind;
    info.description = t->desc.description;
    info.listeners = t->desc.listener_urls;
    run.targets.push_back(std::move(info));
  }
  for (const auto& t : clients) {
    reports::target_info info;
    info.name = t.name;
    info.kind = "client";
    info.description = fmt::format(
        "{}{}policy {}, {}; command: {}", t.description, t.description.empty() ? "" : "; ",
        to_string(t.policy), t.wrapper ? "wrapper mode" : "STARTTLS", fmt::join(t.command, " "));
    run.targets.push_back(std::move(info));
  }

  // The work list: every server case against every server target, then every client case
  // against every client target.
  std::vector<work> todo;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    for (std::size_t c = 0; c < sel.cases.size(); ++c) {
      if (sel.cases[c].sc->role == script::sut_role::server) {
        todo.push_back(work{false, t, c});
      }
    }
  }
  for (std::size_t t = 0; t < clients.size(); ++t) {
    for (std::size_t c = 0; c < sel.cases.size(); ++c) {
      if (sel.cases[c].sc->role == script::sut_role::client) {
        todo.push_back(work{true, t, c});
      }
    }
  }
  if (todo.empty()) {
    throw config_error("--test", "", text_position{},
                       sel.cases.front().sc->role == script::sut_role::client
                           ? "the selected cases are client checks: give a --client (or a client "
                             "target file)"
                           : "the selected cases are server checks: give a --target");
  }

  // Client targets' setup runs once before their cases; a failed setup makes each of its
  // cases an ERROR that says why. Teardown runs after the run (also after an interrupt).
  std::vector<std::string> setup_error(clients.size());
  for (std::size_t t = 0; t < clients.size(); ++t) {
    const bool used = std::any_of(todo.begin(), todo.end(),
                                  [t](const work& w) { return w.client && w.target_index == t; });
    if (used && missing_programs(clients[t]).empty()) {
      setup_error[t] = run_target_command(clients[t], clients[t].setup, client_env, "setup");
    }
  }

  reports::progress_printer progress(out, o.live_progress, reports::terminal_columns());
  const std::size_t total = todo.size();
  progress.start(total, run.targets.size());

  // jobs outlive the event loop: abandoned coroutine frames (on a signal) die with `io`.
  std::list<job> jobs;
  std::vector<reports::case_result> results;
  std::size_t next = 0;
  std::size_t running = 0;
  std::vector<unsigned> client_running(clients.size(), 0);
  const std::string run_id = random_run_id();

  std::function<void()> launch;
  launch = [&]() {
    while (running < o.jobs && next < total) {
      const work w = todo[next];
      const std::size_t seq = next;
      const script::scenario_case& c = sel.cases[w.case_index];
      if (w.client) {
        const client_target& ct = clients[w.target_index];
        if (ct.jobs > 0 && client_running[w.target_index] >= ct.jobs) {
          // This target is at its limit; another of its cases finishing calls launch again.
          if (running > 0) {
            return;
          }
        }
        ++next;
        jobs.push_back(job{w.target_index, w.case_index, nullptr, iso_now(), {}});
        job& j = jobs.back();
        ++running;
        ++client_running[w.target_index];
        progress.case_started(c.case_id);
        const std::string token = fmt::format("smtpsim-{}-{:04}", run_id, seq);
        j.worker = std::thread([&, jp = &j, token] {
          script::case_outcome outcome;
          if (const std::string& why = setup_error[jp->target_index]; !why.empty()) {
            outcome.final_verdict = script::verdict::error;
            outcome.reason = "the target's setup failed: " + why;
          } else {
            outcome = run_client_case(sel.cases[jp->case_index], clients[jp->target_index],
                                      client_env, token);
          }
          boost::asio::post(io, [&, jp, outcome = std::move(outcome)]() mutable {
            --running;
            --client_running[jp->target_index];
            results.push_back(make_result(sel.cases[jp->case_index], clients[jp->target_index].name,
                                          jp->started_at, std::move(outcome)));
            progress.case_finished(results.back());
            launch();
          });
        });
        continue;
      }
      ++next;
      const prepared_target& pt = *targets[w.target_index];
      if (!pt.skip_reason.empty() || !pt.setup_error.empty()) {
        const bool skip = !pt.skip_reason.empty();
        results.push_back(make_result(
            c, pt.desc.name, iso_now(),
            verdict_only(skip ? script::verdict::skip : script::verdict::error,
                         skip ? pt.skip_reason : "the target's setup failed: " + pt.setup_error)));
        progress.case_started(c.case_id);
        progress.case_finished(results.back());
        continue;
      }
      script::target_view view;
      if (std::any_of(c.sc->steps.begin(), c.sc->steps.end(),
                      [](const script::step& st) { return st.kind == script::step_kind::fuzz; })) {
        auto& corpus = fuzz_corpora[pt.desc.name];
        if (!corpus) {
          corpus = fuzz_corpus(sel.scenarios, pt.desc.vars);
        }
        view.fuzz_corpus = corpus;
        view.fuzz_seed = o.fuzz_seed;
      }
      for (const auto& [name, ep] : pt.desc.listeners) {
        view.listeners.insert(name);
      }
      view.traits = pt.desc.traits;
      view.vars = pt.desc.vars;
      view.vars["case_token"] = fmt::format("smtpsim-{}-{:04}", run_id, seq);
      if (!pt.desc.server_name.empty()) {
        view.tls_defaults.sni = pt.desc.server_name;
      }
      jobs.push_back(job{w.target_index,
                         w.case_index,
                         std::make_unique<script::client_runner>(c, std::move(view), o.limits),
                         iso_now(),
                         {}});
      job& j = jobs.back();
      ++running;
      progress.case_started(c.case_id);
      engine::async_run_client_case(
          io, *j.runner, pt.engine_target, [&, jp = &j](script::case_outcome outcome) {
            --running;
            const auto& jc = sel.cases[jp->case_index];
            apply_expected_failures(outcome, targets[jp->target_index]->desc.expected_failures, jc);
            results.push_back(make_result(jc, targets[jp->target_index]->desc.name, jp->started_at,
                                          std::move(outcome)));
            progress.case_finished(results.back());
            launch();
          });
    }
  };

  launch();
  // The loop ends when every case is done (then the signal wait is the only work left) or on a
  // signal.
  while (!run.interrupted && (running > 0 || next < total)) {
    io.run_one();
  }
  signals.cancel();
  // Client workers see stop_clients (on a signal) and end their cases quickly; their posted
  // results are dropped with `io` when interrupted.
  stop_clients = true;
  for (auto& j : jobs) {
    if (j.worker.joinable()) {
      j.worker.join();
    }
  }
  for (std::size_t t = 0; t < clients.size(); ++t) {
    if (!clients[t].teardown.empty() && missing_programs(clients[t]).empty()) {
      if (std::string why =
              run_target_command(clients[t], clients[t].teardown, client_env, "teardown");
          !why.empty()) {
        out << fmt::format("warning: {}: {}\n", clients[t].name, why);
      }
    }
  }
  for (auto& pt : targets) {
    if (pt->started) {
      if (std::string why = pt->started->stop(); !why.empty()) {
        out << fmt::format("warning: target {}: {}\n", pt->desc.name, why);
      }
    }
  }
  if (!started_scratch.empty()) {
    std::error_code ignored;
    fs::remove_all(started_scratch, ignored);
  }
  if (reference) {
    reference->stop();
  }
  if (remove_run_dir) {
    std::error_code ignored;
    fs::remove_all(client_env.run_dir, ignored);
  }

  for (const auto& pt : targets) {
    auto extra = validator_results(results, pt->desc, o, run.started_at);
    std::move(extra.begin(), extra.end(), std::back_inserter(results));
  }

  // Deterministic order: targets as given, cases by id.
  std::stable_sort(results.begin(), results.end(), [&](const auto& a, const auto& b) {
    auto ta = std::find_if(run.targets.begin(), run.targets.end(),
                           [&](const auto& t) { return t.name == a.target; });
    auto tb = std::find_if(run.targets.begin(), run.targets.end(),
                           [&](const auto& t) { return t.name == b.target; });
    if (ta != tb) {
      return ta < tb;
    }
    return a.case_id < b.case_id;
  });
  run.cases = std::move(results);
  run.finished_at = iso_now();
  run.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.exit_code = exit_code_for(run);

  std::vector<fs::path> written;
  if (o.write_reports) {
    fs::create_directories(o.out_dir);
    reports::write_run_json(run, o.out_dir / "run.json");
    reports::write_junit(run, o.out_dir / "junit.xml");
    std::ofstream md(o.out_dir / "summary.md");
    reports::write_markdown(run, md);
    written = {o.out_dir / "run.json", o.out_dir / "junit.xml", o.out_dir / "summary.md"};
  }
  progress.finish(run, written);
  const int code = run.exit_code;
  if (result_out != nullptr) {
    *result_out = std::move(run);
  }
  return code;
}

int play_case(const play_options& p, std::ostream& out) {
  run_options o = p.run;
  o.tests = {p.case_id};
  o.jobs = 1;
  o.write_reports = false;
  o.live_progress = false;
  reports::run_result run;
  std::ostringstream progress_sink;
  const int code = run_suite(o, progress_sink, &run);
  for (const auto& c : run.cases) {
    out << fmt::format("== {} against {}\n", c.case_id, c.target);
    out << fmt::format("   {} [{}] {}\n", c.title, c.level, fmt::join(c.references, "; "));
    out << script::render_transcript(c.outcome.log, c.role == "server");
    for (const auto& f : c.outcome.validated.findings) {
      out << fmt::format("-- finding {} at transcript entry {} offset {}: {}\n   line: {}\n",
                         f.validator, f.entry, f.offset, f.reason, f.line);
    }
    for (const auto& j : c.outcome.judgments) {
      out << fmt::format("-- {} at {}: {}\n", script::to_string(j.v),
                         j.step_pointer.empty() ? "start" : j.step_pointer, j.reason);
      if (!j.expected.empty()) {
        out << "   expected: " << j.expected << "\n";
      }
      if (!j.observed.empty()) {
        out << "   observed: " << j.observed << "\n";
      }
    }
    out << fmt::format("== {}: {} ({} ms)\n\n", script::to_string(c.outcome.final_verdict),
                       c.outcome.reason, c.outcome.duration.count());
  }
  return code;
}

}  // namespace smtpsim::harness
