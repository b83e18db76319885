#include "harness/reference_target.hpp"

#include <fmt/format.h>

#include "simulator/reference/reference_server.hpp"
#include "simulator/reference/server_tls.hpp"

namespace smtpsim::harness {

namespace {
// The built-in target's account. A fixed test password: the server listens on loopback only.
constexpr const char* reference_user = "alice@mx.test";
constexpr const char* reference_password = "smtpsim-reference-password";
}  // namespace

std::string reference_target_name(const reference::fault_set& faults) {
  std::string name = "reference";
  std::string sep = "+";
  for (auto f : faults.list()) {
    name += sep + std::string(reference::to_string(f));
    sep = ",";
  }
  return name;
}

reference_target::reference_target(reference::fault_set faults) : faults_(faults) {}

reference_target::~reference_target() { stop(); }

void reference_target::start() {
  pki_ = tls::make_test_pki();
  reference::reference_options opts;
  opts.faults = faults_;
  opts.pki = pki_;
  opts.login = reference::credentials{reference_user, reference_password};
  opts.relay_client_certs = reference::relay_client_certs_of(pki_);
  opts.on_delivery = [this](const reference::delivered_message& m) { sink_.add(m.content); };
  server_ = std::make_unique<reference::reference_server>(std::move(opts));
  server_->start();

  target_ = server_target{};
  target_.name = reference_target_name(faults_);
  target_.kind = "reference";
  target_.description = faults_.empty() ? "the built-in conformant reference server"
                                        : "the built-in reference server with deliberate faults";
  for (const auto& [name, port] : server_->ports()) {
    const bool wrapper = name == "wrapper";
    target_.listeners[name] = engine::endpoint{"127.0.0.1", port};
    target_.listener_urls[name] =
        fmt::format("{}://127.0.0.1:{}", wrapper ? "smtps" : "smtp", port);
  }
  target_.traits = {"public_mx", "sink", "ccert_asked", "relay_restricted", "ccert_pubkey_listed"};
  target_.vars = {{"local_rcpt", "postmaster@mx.test"},
                  {"foreign_rcpt", "victim@foreign.test"},
                  {"auth_user", reference_user},
                  {"auth_password", reference_password},
                  {"ccert_listed", "client1"},
                  {"ccert_unlisted", "client2"},
                  {"ccert_untrusted_listed", "self-signed"},
                  {"sni_alt_name", std::string(reference::sni_alt_name)}};
  add_derived_vars(target_.vars);
  target_.server_name = "mx.test";
  target_.trust_pem = pki_.ca_pem();
}

void reference_target::stop() {
  if (server_) {
    server_->stop();
    server_.reset();
  }
}

}  // namespace smtpsim::harness
