#include "harness/client_run.hpp"

#include <algorithm>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "simulator/engine/fake_server_engine.hpp"
#include "simulator/script/client_judge.hpp"
#include "simulator/tls/pki.hpp"

#include "harness/process.hpp"

#include <fnmatch.h>

namespace smtpsim::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string safe_name(std::string_view id) {
  std::string out;
  for (char c : id) {
    out += (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-') ? c : '_';
  }
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) {
      out += ' ';
    }
    const bool plain = !w.empty() && w.find_first_of(" \t'\"\\$`") == std::string::npos;
    out += plain ? w : "'" + w + "'";
  }
  return out;
}

script::case_outcome skipped(std::string reason) {
  script::case_outcome out;
  out.final_verdict = script::verdict::skip;
  out.reason = reason;
  script::judgment j;
  j.v = script::verdict::skip;
  j.reason = std::move(reason);
  out.judgments.push_back(std::move(j));
  return out;
}

}  // namespace

std::string applicability(const script::scenario& sc, const client_target& t) {
  const std::string policy(to_string(t.policy));
  if (!sc.policies.empty() &&
      std::find(sc.policies.begin(), sc.policies.end(), policy) == sc.policies.end()) {
    std::string list;
    for (const auto& p : sc.policies) {
      list += (list.empty() ? "" : ", ") + p;
    }
    return fmt::format("this check is for clients configured with policy {}; the target's is {}",
                       list, policy);
  }
  if (sc.wrapper && *sc.wrapper != t.wrapper) {
    return *sc.wrapper ? "this check is for wrapper-mode (implicit TLS) clients"
                       : "this check is for STARTTLS clients; the target uses wrapper mode";
  }
  for (const auto& cap : sc.requires_capabilities) {
    if (t.capabilities.count(cap) == 0) {
      return fmt::format("the target does not declare the capability \"{}\" this check needs", cap);
    }
  }
  return std::string();
}

script::case_outcome run_client_case(const script::scenario_case& c, const client_target& t,
                                     const client_run_env& env, const std::string& token) {
  const auto started = std::chrono::steady_clock::now();
  if (std::string why = applicability(*c.sc, t); !why.empty()) {
    return skipped(std::move(why));
  }
  if (const auto missing = missing_programs(t); !missing.empty()) {
    return skipped(fmt::format("the target needs {}, which is not installed (not in PATH)",
                               fmt::join(missing, ", ")));
  }
  engine::fake_server_options fo;
  fo.config = c.var != nullptr && c.var->server ? *c.var->server : c.sc->server;
  if (t.wrapper) {
    fo.config.wrapper = true;
  }
  fo.pki = env.pki;

  const fs::path case_dir = env.run_dir / "cases" / safe_name(t.name) / safe_name(c.case_id);
  std::error_code ec;
  fs::create_directories(case_dir, ec);
  const fs::path pki_dir = env.run_dir / "pki";

  script::case_outcome out;
  std::optional<engine::fake_server_listener> listener;
  try {
    listener.emplace(fo);
  } catch (const std::exception& e) {
    out.final_verdict = script::verdict::error;
    out.reason = fmt::format("cannot start the fake server: {}", e.what());
    return out;
  }

  placeholder_values values{.host = "127.0.0.1",
                            .port = std::to_string(listener->port()),
                            .server_name = "localhost",
                            .ca_file = (pki_dir / "ca.pem").string(),
                            .cert_file = (pki_dir / "client1-chain.pem").string(),
                            .key_file = (pki_dir / "client1.key").string(),
                            .auth_user = env.auth_user,
                            .auth_password = env.auth_password,
                            .from = env.from,
                            .to = env.to,
                            .token = token,
                            .case_dir = case_dir.string(),
                            .run_dir = env.run_dir.string(),
                            .source_dir = env.source_dir.string()};
  std::vector<std::string> argv;
  std::string start_error;
  child_process child;
  try {
    argv = fill_placeholders(t.command, values);
    child = child_process::spawn(process_spec{.argv = argv,
                                              .cwd = case_dir,
                                              .env_extra = {{"SMTPSIM_TOKEN", token}},
                                              .stdout_file = case_dir / "client.out",
                                              .stderr_file = case_dir / "client.out"});
  } catch (const std::exception& e) {
    start_error = e.what();
  }

  bool overstayed = false;
  bool interrupted = false;
  if (start_error.empty()) {
    const auto deadline = started + t.timeout;
    std::optional<std::chrono::steady_clock::time_point> exited;
    for (;;) {
      std::this_thread::sleep_for(10ms);
      const auto now = std::chrono::steady_clock::now();
      if (env.stop != nullptr && env.stop->load()) {
        interrupted = true;
        break;
      }
      if (!exited && child.poll()) {
        exited = now;
      }
      if (exited && (listener->connections_open() == 0 || now - *exited > env.exit_grace)) {
        break;
      }
      if (now > deadline) {
        overstayed = !exited;
        break;
      }
    }
    if (child.running()) {
      child.kill_group();
    }
  }
  engine::fake_server_result seen = listener->stop();
  listener.reset();

  script::client_facts facts;
  facts.connections = std::move(seen.connections);
  facts.policy = std::string(to_string(t.policy));
  facts.wrapper = t.wrapper;
  facts.exit_status = child.status();
  facts.killed = child.killed();
  facts.exited = facts.exit_status.has_value() && !facts.killed;

  script::judgment j = script::judge_client(c.sc->rules, c.sc->otherwise, facts);
  const bool by_rule = j.step < c.sc->rules.size();
  std::string process_note;
  if (!start_error.empty()) {
    process_note = "the client could not be started: " + start_error;
  } else if (facts.killed) {
    process_note =
        fmt::format("the client did not finish within {} ms and was killed", t.timeout.count());
  } else if (facts.exit_status) {
    process_note = fmt::format("the client exited with status {}", *facts.exit_status);
  }
  if (by_rule && facts.killed && !c.sc->rules[j.step].when.observes_action()) {
    // "It never did X" means nothing for a client that was stopped before it finished.
    j.v = script::verdict::error;
    j.reason = process_note + ": it may not have finished what the check looks at";
  }
  if (!by_rule) {
    // Nothing the rules look for happened: that is only a verdict when the client really took
    // part in the case.
    if (!start_error.empty()) {
      j.v = script::verdict::error;
      j.reason = process_note;
    } else if (facts.connections.empty()) {
      j.v = script::verdict::error;
      j.reason = fmt::format("the client never connected to the fake server ({})",
                             interrupted ? "the run was interrupted" : process_note);
    } else if (overstayed) {
      j.v = script::verdict::error;
      j.reason = process_note + ": no verdict can be given from what it sent";
    } else if (interrupted) {
      j.v = script::verdict::error;
      j.reason = "the run was interrupted before the client finished";
    }
  }
  if (!argv.empty()) {
    j.observed += fmt::format("\ncommand: {}\n{}", join(argv), process_note);
    const std::string tail = tail_of_file(case_dir / "client.out", 1500);
    if (!tail.empty()) {
      j.observed += "\nclient output (tail):\n" + tail;
    }
  }

  // Expected failures: a FAIL listed by the target is XFAIL (with its reason); a listed case
  // that passes is XPASS.
  for (const auto& [glob, reason] : t.expected_failures) {
    if (fnmatch(glob.c_str(), c.case_id.c_str(), 0) == 0 ||
        fnmatch(glob.c_str(), c.sc->id.c_str(), 0) == 0) {
      if (j.v == script::verdict::fail) {
        j.v = script::verdict::xfail;
        j.reason = fmt::format("{} (expected failure: {})", j.reason, reason);
      } else if (j.v == script::verdict::pass) {
        j.v = script::verdict::xpass;
        j.reason = fmt::format("listed as an expected failure ({}), but passed", reason);
      }
      break;
    }
  }

  out.final_verdict = j.v;
  out.reason = j.reason;
  out.judgments.push_back(std::move(j));
  out.log = std::move(seen.log);
  out.tls = std::move(seen.tls);
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

std::string run_target_command(const client_target& t, const std::vector<std::string>& argv,
                               const client_run_env& env, const char* what,
                               std::chrono::milliseconds limit) {
  if (argv.empty()) {
    return std::string();
  }
  const fs::path log = env.run_dir / fmt::format("{}-{}.out", safe_name(t.name), what);
  placeholder_values values{.host = "127.0.0.1",
                            .server_name = "localhost",
                            .ca_file = (env.run_dir / "pki" / "ca.pem").string(),
                            .cert_file = (env.run_dir / "pki" / "client1-chain.pem").string(),
                            .key_file = (env.run_dir / "pki" / "client1.key").string(),
                            .auth_user = env.auth_user,
                            .auth_password = env.auth_password,
                            .run_dir = env.run_dir.string(),
                            .source_dir = env.source_dir.string()};
  try {
    child_process child = child_process::spawn(process_spec{.argv = fill_placeholders(argv, values),
                                                            .cwd = env.run_dir,
                                                            .stdout_file = log,
                                                            .stderr_file = log});
    const auto status = child.wait_for(limit);
    if (!status) {
      child.kill_group();
      return fmt::format("{} did not finish within {} ms (log: {})", what, limit.count(),
                         log.string());
    }
    if (*status != 0) {
      return fmt::format("{} exited with status {}: {}", what, *status, tail_of_file(log, 600));
    }
  } catch (const std::exception& e) {
    return fmt::format("{} could not run: {}", what, e.what());
  }
  return std::string();
}

std::vector<client_target> reference_client_targets(const fs::path& self_exe,
                                                    const std::vector<std::string>& faults) {
  std::vector<client_target> out;
  auto make = [&](client_policy policy, bool wrapper) {
    client_target t;
    t.name = fmt::format("reference-client-{}{}", wrapper ? "wrapper-" : "", to_string(policy));
    t.description = fmt::format("the built-in reference client (smtpsim send), policy {}{}",
                                to_string(policy), wrapper ? ", wrapper mode" : ", STARTTLS");
    t.policy = policy;
    t.wrapper = wrapper;
    t.command = {self_exe.string(),
                 "send",
                 "--host",
                 "{host}",
                 "--port",
                 "{port}",
                 "--policy",
                 std::string(to_string(policy)),
                 "--ca-file",
                 "{ca_file}",
                 "--server-name",
                 "{server_name}",
                 "--cert",
                 "{cert_file}",
                 "--key",
                 "{key_file}",
                 "--auth-user",
                 "{auth_user}",
                 "--auth-password",
                 "{auth_password}",
                 "--from",
                 "{from}",
                 "--to",
                 "{to}",
                 "--timeout",
                 "10"};
    if (wrapper) {
      t.command.emplace_back("--wrapper");
    }
    for (const auto& f : faults) {
      t.command.emplace_back("--fault");
      t.command.push_back(f);
    }
    t.timeout = 20s;
    t.capabilities = {"auth", "client_cert"};
    out.push_back(std::move(t));
  };
  for (auto p : {client_policy::none, client_policy::may, client_policy::encrypt,
                 client_policy::verify, client_policy::secure}) {
    make(p, false);
  }
  make(client_policy::verify, true);
  return out;
}

}  // namespace smtpsim::harness
