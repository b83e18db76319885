// smtpsim: the command line. One binary, subcommands (architecture.md "Command line").

#include <csignal>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "simulator/reference/fault.hpp"
#include "simulator/reference/reference_client.hpp"
#include "simulator/reference/reference_server.hpp"
#include "simulator/tls/pki.hpp"

#include "harness/run.hpp"
#include "harness/scenario_loader.hpp"
#include "harness/send_command.hpp"
#include "harness/target.hpp"
#include "reports/terminal.hpp"

#include <fnmatch.h>
#include <pthread.h>

namespace {

namespace fs = std::filesystem;
using smtpsim::harness::config_error;

constexpr int exit_usage = 2;

void add_timeout_options(CLI::App& cmd, smtpsim::script::timeouts& t) {
  auto ms = [&](const char* name, std::chrono::milliseconds& field, const char* what) {
    cmd.add_option_function<long>(
           name, [&field](long v) { field = std::chrono::milliseconds(v); }, what)
        ->check(CLI::Range(1L, 3600000L))
        ->type_name("MS");
  };
  ms("--timeout-connect", t.connect, "TCP connect timeout (default 5000)");
  ms("--timeout-greeting", t.greeting, "wait for the 220 greeting (default 10000)");
  ms("--timeout-reply", t.reply, "wait for a reply (default 10000)");
  ms("--timeout-handshake", t.handshake, "TLS handshake timeout (default 10000)");
  ms("--timeout-data", t.data, "wait after the end of DATA / for a delivery (default 30000)");
  ms("--silence", t.silence,
     "silence window: how long to wait to see that nothing arrives (default 2000)");
  ms("--case-timeout", t.case_limit, "upper bound for one whole case (default 120000)");
}

void add_target_options(CLI::App& cmd, smtpsim::harness::run_options& o) {
  cmd.add_option("--target", o.targets,
                 "smtp://HOST:PORT (STARTTLS listener), smtps://HOST:PORT (wrapper listener) or a "
                 "target file; repeatable. Default: the built-in reference server")
      ->type_name("URL|FILE");
  cmd.add_option("--scenarios", o.scenario_dir, "folder of scenario files")->type_name("DIR");
  cmd.add_option("--var", o.vars, "a value scenarios use, e.g. local_rcpt=postmaster@example.org")
      ->type_name("NAME=VALUE");
  cmd.add_option("--trait", o.traits, "declare a target trait, e.g. public_mx")->type_name("NAME");
  cmd.add_option("--reference-fault", o.reference_faults,
                 "run the built-in reference server with this fault (see serve --list-faults)")
      ->type_name("FAULT");
  add_timeout_options(cmd, o.limits);
  cmd.add_option_function<std::uint64_t>(
         "--fuzz-seed", [&o](std::uint64_t v) { o.fuzz_seed = v; },
         "seed of the generated lines of fuzz cases (line.fuzz-grammar); a seed in a report "
         "replays its lines")
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{1}, (std::uint64_t{1} << 53U) - 1));
  cmd.add_option("--client", o.clients,
                 "a client command to test (argv, run without a shell; placeholders {host} "
                 "{port} {ca_file} {server_name} ...); repeatable")
      ->type_name("'ARGV...'");
  cmd.add_option("--client-policy", o.client_policy,
                 "the TLS policy the --client is configured with: none, may, encrypt, verify, "
                 "secure (default may)")
      ->check(CLI::IsMember({"none", "may", "encrypt", "verify", "secure"}));
  cmd.add_flag("--client-wrapper", o.client_wrapper,
               "the --client speaks TLS from the first byte (wrapper mode, RFC 8314)");
  cmd.add_option_function<long>(
         "--client-timeout", [&o](long v) { o.client_timeout = std::chrono::milliseconds(v); },
         "per case: kill the --client after this long (default 20000)")
      ->check(CLI::Range(100L, 3600000L))
      ->type_name("MS");
  cmd.add_option("--client-capability", o.client_capabilities,
                 "the --client is set up for this, e.g. auth (credentials {auth_user} "
                 "{auth_password}) or client_cert; repeatable")
      ->type_name("NAME");
  cmd.add_option("--reference-client-fault", o.reference_client_faults,
                 "run the built-in reference client with this fault (see send --list-faults)")
      ->type_name("FAULT");
}

int cmd_list(const fs::path& dir, const std::vector<std::string>& tests) {
  auto set = smtpsim::harness::load_scenarios(dir.empty() ? smtpsim::harness::default_scenario_dir()
                                                          : dir);
  for (const auto& e : set.errors) {
    std::cerr << e.what() << "\n";
  }
  for (const auto& s : set.scenarios) {
    for (const auto& c : smtpsim::script::expand_cases(*s)) {
      bool hit = tests.empty();
      for (const auto& g : tests) {
        hit = hit || fnmatch(g.c_str(), c.case_id.c_str(), 0) == 0 ||
              fnmatch(g.c_str(), s->id.c_str(), 0) == 0;
      }
      if (hit) {
        std::cout << fmt::format("{:<45} {:<10} {}\n", c.case_id,
                                 smtpsim::script::to_string(s->lvl), s->title);
      }
    }
  }
  return set.errors.empty() ? 0 : exit_usage;
}

int cmd_validate(const std::vector<std::string>& paths) {
  std::vector<std::string> todo = paths;
  if (todo.empty()) {
    todo.push_back(smtpsim::harness::default_scenario_dir().string());
  }
  std::size_t ok = 0;
  std::size_t bad = 0;
  for (const auto& p : todo) {
    if (fs::is_directory(p)) {
      auto set = smtpsim::harness::load_scenarios(p);
      ok += set.scenarios.size();
      bad += set.errors.size();
      for (const auto& e : set.errors) {
        std::cerr << e.what() << "\n";
      }
    } else {
      try {
        smtpsim::harness::load_scenario_file(p);
        ++ok;
      } catch (const config_error& e) {
        std::cerr << e.what() << "\n";
        ++bad;
      }
    }
  }
  std::cout << fmt::format("{} scenario(s) valid, {} invalid\n", ok, bad);
  return bad == 0 ? 0 : exit_usage;
}

int cmd_pki(const fs::path& out) {
  const auto pki = smtpsim::tls::make_test_pki();
  smtpsim::tls::write_pki(pki, out);
  std::cout << smtpsim::tls::describe_pki(pki);
  std::cout << fmt::format("\nwritten to {}\n", out.string());
  return 0;
}

int cmd_serve(const std::vector<std::string>& fault_names, bool list_faults,
              const fs::path& pki_dir, const std::vector<std::string>& ports,
              const std::string& bind, int relay_port) {
  if (list_faults) {
    for (const auto& f : smtpsim::reference::all_faults()) {
      std::cout << fmt::format("{:<36} {}\n", f.name, f.sentence);
    }
    return 0;
  }
  smtpsim::reference::reference_options opts;
  for (const auto& n : fault_names) {
    auto f = smtpsim::reference::parse_fault(n);
    if (!f) {
      throw config_error("--fault", "", {}, fmt::format("unknown fault \"{}\"", n));
    }
    opts.faults.set(*f);
  }
  opts.pki = smtpsim::tls::make_test_pki();
  opts.relay_client_certs = smtpsim::reference::relay_client_certs_of(*opts.pki);
  opts.login = smtpsim::reference::credentials{"alice@mx.test", "smtpsim-reference-password"};
  opts.listeners = smtpsim::reference::default_listeners();
  for (auto& l : opts.listeners) {
    l.address = bind;
  }
  for (const auto& np : ports) {
    const auto eq = np.find('=');
    bool found = false;
    for (auto& l : opts.listeners) {
      if (eq != std::string::npos && l.name == np.substr(0, eq)) {
        l.port = static_cast<std::uint16_t>(std::stoul(np.substr(eq + 1)));
        found = true;
      }
    }
    if (!found) {
      throw config_error("--port", "", {},
                         fmt::format("\"{}\" is not LISTENER=PORT for a known listener", np));
    }
  }
  opts.on_log = [](std::string_view line) { std::cerr << line << "\n"; };
  if (relay_port > 0) {
    // Like an MTA's relayhost: each accepted message (our Received header on top) is passed on
    // in plaintext before the client gets its 250, e.g. to the capture sink of `smtpsim run`.
    opts.on_delivery = [relay_port](const smtpsim::reference::delivered_message& m) {
      smtpsim::reference::client::client_options co;
      co.port = static_cast<std::uint16_t>(relay_port);
      co.session.policy = smtpsim::reference::client::tls_policy::none;
      co.session.helo_name = "mx.test";
      co.session.mail_from = m.reverse_path;
      co.session.rcpt_to = m.recipients;
      co.session.message = m.content;
      const auto r = smtpsim::reference::client::run_reference_client(co);
      std::cerr << fmt::format("relay to 127.0.0.1:{}: {}\n", relay_port, r.message);
    };
  }
  if (!pki_dir.empty()) {
    smtpsim::tls::write_pki(*opts.pki, pki_dir);
  }
  // Block the signals in every thread, then wait for them here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  smtpsim::reference::reference_server server(opts);
  server.start();
  const std::string host = bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
  std::cout
      << "smtpsim reference server (user alice@mx.test, password smtpsim-reference-password)\n";
  for (const auto& [name, port] : server.ports()) {
    std::cout << fmt::format("  {:<16} {}://{}:{}\n", name, name == "wrapper" ? "smtps" : "smtp",
                             host, port);
  }
  if (!fault_names.empty()) {
    std::cout << "  faults: " << fmt::format("{}", fmt::join(fault_names, ", ")) << "\n";
  }
  if (!pki_dir.empty()) {
    std::cout << "  test PKI (CA: ca.pem) in " << pki_dir.string() << "\n";
  }
  std::cout << "Ctrl-C to stop." << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smtpsim: SMTP TLS conformance suite and fake-peer simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", SMTPSIM_VERSION);

  smtpsim::harness::run_options run_opts;
  std::string progress = "auto";
  auto* run = app.add_subcommand(
      "run", "run the suite against targets (default: the built-in reference server)");
  add_target_options(*run, run_opts);
  run->add_option("--test", run_opts.tests, "run only cases matching this glob (repeatable)")
      ->type_name("GLOB");
  run->add_option("--skip", run_opts.skips, "leave out cases matching this glob (repeatable)")
      ->type_name("GLOB");
  run->add_option("--jobs,-j", run_opts.jobs, "cases in flight at once")
      ->check(CLI::Range(1u, 1024u));
  run->add_option("--out", run_opts.out_dir, "folder for run.json, junit.xml and summary.md");
  run->add_flag("--strict", run_opts.strict, "count WARN as FAIL");
  run->add_option("--progress", progress, "auto, live or plain")
      ->check(CLI::IsMember({"auto", "live", "plain"}));

  smtpsim::harness::play_options play_opts;
  auto* play = app.add_subcommand("play", "run one case and print its transcript");
  play->add_option("case", play_opts.case_id, "scenario id (or id/variant)")->required();
  add_target_options(*play, play_opts.run);

  std::vector<std::string> serve_faults;
  bool list_faults = false;
  fs::path serve_pki;
  std::vector<std::string> serve_ports;
  std::string serve_bind = "127.0.0.1";
  int serve_relay_port = 0;
  auto* serve = app.add_subcommand("serve", "run the reference server on loopback until Ctrl-C");
  serve->add_option("--fault", serve_faults, "break one thing on purpose (repeatable)")
      ->type_name("FAULT");
  serve->add_flag("--list-faults", list_faults, "list the faults and exit");
  serve->add_option("--pki-dir", serve_pki, "also write the test PKI (ca.pem...) here")
      ->type_name("DIR");
  serve->add_option("--port", serve_ports, "fix a listener's port, e.g. starttls=2525")
      ->type_name("LISTENER=PORT");
  serve->add_option("--bind", serve_bind, "address to listen on (loopback only)")
      ->check(CLI::IsMember({"127.0.0.1", "::1"}));
  serve
      ->add_option("--relay-port", serve_relay_port,
                   "pass every accepted message on to 127.0.0.1:PORT in plaintext (e.g. the "
                   "capture sink of a started target)")
      ->check(CLI::Range(1, 65535))
      ->type_name("PORT");

  fs::path pki_out;
  auto* pki = app.add_subcommand("pki", "write the test CA and certificates to a folder");
  pki->add_option("--out", pki_out, "folder to write")->required();

  fs::path list_dir;
  std::vector<std::string> list_tests;
  auto* list = app.add_subcommand("list", "list the scenarios (cases)");
  list->add_option("--scenarios", list_dir, "folder of scenario files");
  list->add_option("--test", list_tests, "only cases matching this glob");

  std::vector<std::string> validate_paths;
  auto* validate =
      app.add_subcommand("validate", "check scenario files (default: the whole folder)");
  validate->add_option("paths", validate_paths, "files or folders");

  int send_exit = exit_usage;
  CLI::App* send = smtpsim::harness::add_send_command(app, send_exit);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }

  if (*send) {
    return send_exit;
  }
  // The reference client is this binary's `send` subcommand.
  std::error_code self_error;
  const fs::path self = fs::read_symlink("/proc/self/exe", self_error);
  if (!self_error) {
    run_opts.self_exe = self;
    play_opts.run.self_exe = self;
  }
  try {
    if (*run) {
      run_opts.command_line.assign(argv, argv + argc);
      run_opts.live_progress =
          progress == "live" || (progress == "auto" && smtpsim::reports::stdout_is_terminal() &&
                                 !smtpsim::reports::running_under_ci());
      return smtpsim::harness::run_suite(run_opts, std::cout);
    }
    if (*play) {
      return smtpsim::harness::play_case(play_opts, std::cout);
    }
    if (*serve) {
      return cmd_serve(serve_faults, list_faults, serve_pki, serve_ports, serve_bind,
                       serve_relay_port);
    }
    if (*pki) {
      return cmd_pki(pki_out);
    }
    if (*list) {
      return cmd_list(list_dir, list_tests);
    }
    if (*validate) {
      return cmd_validate(validate_paths);
    }
  } catch (const config_error& e) {
    std::cerr << "smtpsim: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "smtpsim: error: " << e.what() << "\n";
    return 3;
  }
  return exit_usage;
}
