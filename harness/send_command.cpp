#include "harness/send_command.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "simulator/reference/client_fault.hpp"
#include "simulator/reference/client_session.hpp"
#include "simulator/reference/reference_client.hpp"
#include "simulator/reference/server_session.hpp"

namespace smtpsim::harness {
namespace {

namespace rc = smtpsim::reference::client;

constexpr int exit_usage = 2;

// send_options holds what the flags say until the callback runs.
struct send_options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string policy = "may";
  bool wrapper = false;
  std::string ca_file;
  std::string server_name = "localhost";
  std::string cert_file;
  std::string key_file;
  std::string auth_user;
  std::string auth_password;
  std::string from = "sender@client.test";
  std::vector<std::string> to;
  std::string helo = "client.test";
  std::optional<std::string> body;
  std::string message_file;
  double timeout_seconds = 10;
  std::vector<std::string> faults;
  bool list_faults = false;
  bool verbose = false;
};

// usage_error is a problem with the flags or the files they name (exit 2).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw usage_error(fmt::format("cannot read {} \"{}\"", what, path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string message_id(const std::string& domain) {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32U) ^ rd());
  return fmt::format("<{:016x}.smtpsim@{}>", gen(), domain);
}

// default_message builds a small RFC 5322 message around `body`.
std::string default_message(const send_options& o, const std::vector<std::string>& to,
                            std::string_view body) {
  std::vector<std::string> bracketed;
  bracketed.reserve(to.size());
  for (const std::string& r : to) {
    bracketed.push_back("<" + r + ">");
  }
  return fmt::format(
      "From: <{}>\r\nTo: {}\r\nSubject: smtpsim reference client test\r\nDate: {}\r\n"
      "Message-ID: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
      "\r\n{}",
      o.from, fmt::join(bracketed, ", "),
      smtpsim::reference::format_rfc5322_date(std::chrono::system_clock::now()), message_id(o.helo),
      body);
}

void list_faults() {
  for (const rc::client_fault_info& f : rc::all_client_faults()) {
    std::cout << fmt::format("{:<26} {}\n{:<26} (checks: {})\n", f.name, f.sentence, "", f.checks);
  }
}

int run_send(const send_options& o) {
  if (o.list_faults) {
    list_faults();
    return 0;
  }
  if (o.port < 1 || o.port > 65535) {
    throw usage_error("--port is required (1-65535)");
  }
  const std::optional<rc::tls_policy> policy = rc::parse_tls_policy(o.policy);
  if (!policy) {
    throw usage_error(fmt::format("unknown --policy \"{}\"", o.policy));
  }
  if (!o.auth_password.empty() && o.auth_user.empty()) {
    throw usage_error("--auth-password needs --auth-user");
  }
  if (o.body && !o.message_file.empty()) {
    throw usage_error("give --body or --message-file, not both");
  }
  if (!o.key_file.empty() && o.cert_file.empty()) {
    throw usage_error("--key needs --cert");
  }
  if (!(o.timeout_seconds > 0) || o.timeout_seconds > 3600) {
    throw usage_error("--timeout must be between 0 and 3600 seconds");
  }

  rc::client_options opts;
  opts.host = o.host;
  opts.port = static_cast<std::uint16_t>(o.port);
  opts.server_name = o.server_name;
  opts.timeout = std::chrono::milliseconds(std::lround(o.timeout_seconds * 1000));
  if (!o.ca_file.empty()) {
    opts.ca_pem = read_file(o.ca_file, "--ca-file");
  }
  if (!o.cert_file.empty()) {
    opts.cert_pem = read_file(o.cert_file, "--cert");
    // A PEM file may hold the certificate and its key together.
    opts.key_pem = read_file(o.key_file.empty() ? o.cert_file : o.key_file, "--key");
  }

  rc::client_config& s = opts.session;
  s.policy = *policy;
  s.wrapper = o.wrapper;
  s.helo_name = o.helo;
  s.mail_from = o.from;
  s.rcpt_to = o.to.empty() ? std::vector<std::string>{"rcpt@mx.test"} : o.to;
  s.auth_user = o.auth_user;
  s.auth_password = o.auth_password;
  if (!o.message_file.empty()) {
    s.message = read_file(o.message_file, "--message-file");
  } else {
    s.message = default_message(
        o, s.rcpt_to,
        o.body.value_or("This is a test message from the smtpsim reference client.\r\n"));
  }
  for (const std::string& name : o.faults) {
    const std::optional<rc::client_fault> f = rc::parse_client_fault(name);
    if (!f) {
      throw usage_error(fmt::format("unknown --fault \"{}\" (see --list-faults)", name));
    }
    s.faults.set(*f);
  }
  if (o.verbose) {
    opts.on_log = [](std::string_view line) { std::cerr << line << "\n"; };
  }

  rc::client_result r;
  try {
    r = rc::run_reference_client(opts);
  } catch (const std::runtime_error& e) {
    throw usage_error(fmt::format("bad TLS configuration: {}", e.what()));
  }
  std::cerr << fmt::format("smtpsim send: {}: {}\n",
                           r.exit_status == rc::exit_delivered ? "delivered" : "not delivered",
                           r.message);
  return r.exit_status;
}

}  // namespace

CLI::App* add_send_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<send_options>();
  CLI::App* send = app.add_subcommand(
      "send",
      "deliver one message with the built-in reference SMTP client (a conformant client, "
      "or a faulty one with --fault)");
  send->add_option("--host", o->host, "server address (default 127.0.0.1)");
  send->add_option("--port", o->port, "server port (required)")->check(CLI::Range(1, 65535));
  send->add_option("--policy", o->policy, "TLS policy: none, may, encrypt, verify, secure")
      ->check(CLI::IsMember({"none", "may", "encrypt", "verify", "secure"}, CLI::ignore_case));
  send->add_flag("--wrapper", o->wrapper, "TLS from the first byte (RFC 8314, port 465 style)");
  send->add_option("--ca-file", o->ca_file, "trust anchors (PEM) for verify/secure")
      ->type_name("FILE");
  send->add_option("--server-name", o->server_name,
                   "SNI and the name the certificate must match (default localhost)");
  send->add_option("--cert", o->cert_file, "client certificate chain (PEM)")->type_name("FILE");
  send->add_option("--key", o->key_file, "client private key (PEM; default: --cert)")
      ->type_name("FILE");
  send->add_option("--auth-user", o->auth_user, "SASL user (AUTH only inside verified TLS)");
  send->add_option("--auth-password", o->auth_password, "SASL password");
  send->add_option("--from", o->from, "envelope sender (default sender@client.test)");
  send->add_option("--to", o->to, "envelope recipient, repeatable (default rcpt@mx.test)");
  send->add_option("--helo", o->helo, "EHLO name (default client.test)");
  send->add_option_function<std::string>(
      "--body", [o](const std::string& b) { o->body = b; }, "message body text");
  send->add_option("--message-file", o->message_file, "the whole message (headers and body)")
      ->type_name("FILE");
  send->add_option("--timeout", o->timeout_seconds,
                   "seconds to wait for each connect, reply and handshake (default 10)");
  send->add_option("--fault", o->faults, "misbehave on purpose (repeatable; see --list-faults)")
      ->type_name("FAULT");
  send->add_flag("--list-faults", o->list_faults, "list the faults and exit");
  send->add_flag("--verbose,-v", o->verbose, "print the transcript to stderr");
  send->callback([o, &exit_code] {
    try {
      exit_code = run_send(*o);
    } catch (const usage_error& e) {
      std::cerr << "smtpsim send: " << e.what() << "\n";
      exit_code = exit_usage;
    } catch (const std::exception& e) {
      std::cerr << "smtpsim send: error: " << e.what() << "\n";
      exit_code = rc::exit_not_delivered;
    }
  });
  return send;
}

}  // namespace smtpsim::harness
