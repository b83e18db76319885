#include "tests/support/loopback.hpp"

#include <memory>
#include <string>
#include <variant>

#include "simulator/reference/reference_server.hpp"
#include "simulator/reference/server_tls.hpp"
#include "simulator/tls/cert_check.hpp"
#include "simulator/tls/pki.hpp"

namespace smtpsim::testing {

using script::action;
using script::io_result;

namespace {

constexpr const char* password = "loopback-password";

// shared_pki is one test PKI for every loopback (generating it costs more than a whole case): the
// server's chains and the client certificates the scenarios name.
const tls::test_pki& shared_pki() {
  static const tls::test_pki pki = tls::make_test_pki();
  return pki;
}

// verifies_against_ca says whether `cert` (with its chain) verifies against the test CA, as the
// reference server's verify callback records it: the same X509_verify_cert the tls.chain-complete
// check runs (validity is not part of it; the client certificates here are all current).
bool verifies_against_ca(const tls::issued_cert& cert) {
  const auto checks = tls::check_server_certs(
      tls::der_chain(cert.chain_pem.empty() ? cert.cert_pem : cert.chain_pem),
      shared_pki().ca_pem(), "");
  return checks.chain_complete.value_or(false);
}

// minor_version maps "1.0".."1.3" to 0..3 (the scenario loader accepts no other value).
int minor_version(const std::string& v) { return v.size() == 3 ? v[2] - '0' : 3; }

// server_end is the server side of one simulated connection.
class server_end {
 public:
  server_end(const reference::session_config& cfg, std::vector<std::string>& delivered)
      : session_(cfg), faults_(cfg.faults), delivered_(delivered) {}

  void connect() { apply(session_.on_connect()); }

  // client_sends delivers the client's bytes (plaintext or TLS application data).
  void client_sends(const std::string& bytes) {
    if (closed_) {
      return;
    }
    if (window_open_) {
      window_ += bytes;
      return;
    }
    if (awaiting_tls_) {
      // Bytes where a ClientHello should be: the handshake fails (or, with sniffing, the session
      // gets them as plaintext).
      awaiting_tls_ = false;
      apply(session_.on_tls_failed("the client sent plaintext instead of a ClientHello", bytes));
      if (!sniff_) {
        closed_ = true;
      }
      return;
    }
    apply(session_.on_data(bytes));
  }

  // client_waits is called when the client reads: a pending read window closes.
  void client_waits() {
    if (window_open_) {
      window_open_ = false;
      std::string w;
      w.swap(window_);
      apply(session_.on_window_closed(w));
    }
  }

  // handshake is how a simulated handshake ended: `facts` (established or not), and on failure
  // the reason and what the server queued for the client.
  struct handshake {
    bool ok = false;
    std::string error;
    script::tls_facts facts;
  };

  // client_handshake: the client starts TLS with `p`, presenting `cert` if it is set and the
  // server asks for one. It completes if the server was expecting it and its TLS plan
  // (server_tls.hpp: protocol floor, SNI policy) accepts the ClientHello; the server's
  // certificates then come from the shared test PKI, checked as the client engine checks them.
  handshake client_handshake(const script::tls_params& p, const tls::issued_cert* cert) {
    client_waits();
    handshake out;
    // Plaintext still queued towards the client would be read as the ServerHello: the handshake
    // fails, as it does on a socket.
    if (!awaiting_tls_ || closed_ || !outbox_.empty()) {
      out.error = "the server did not start TLS";
      return out;
    }
    awaiting_tls_ = false;
    const reference::server_tls_plan plan = reference::plan_server_tls(faults_);
    const int version = minor_version(p.max_version.value_or("1.3"));
    std::string refusal;
    if (version < (plan.legacy_tls ? 0 : 2)) {
      out.facts.alert_received = "protocol_version";
      refusal =
          "the server's protocol floor is above the client's TLS 1." + std::to_string(version);
    } else if (auto why = reference::sni_refusal(plan, p.sni.value_or(""),
                                                 {"mx.test", "localhost", "alt.mx.test"})) {
      out.facts.alert_received = "unrecognized_name";
      refusal = *why;
    }
    if (!refusal.empty()) {
      out.error = refusal + " (alert sent: " + out.facts.alert_received + ")";
      apply(session_.on_tls_failed(refusal, {}));
      closed_ = true;
      return out;
    }
    reference::tls_peer_info info;
    info.version = "TLSv1." + std::to_string(version);
    cert_requested_ =
        reference::requests_client_cert(session_.config().policy, session_.config().faults);
    cert_sent_ = cert != nullptr && cert_requested_;
    info.client_cert_presented = cert_sent_;
    if (cert_sent_) {
      info.client_cert_sha256 = cert->fingerprints.cert_sha256;
      info.client_pubkey_sha256 = cert->fingerprints.pubkey_sha256;
      info.client_cert_md5 = cert->fingerprints.cert_md5;
      info.client_pubkey_md5 = cert->fingerprints.pubkey_md5;
      info.client_cert_trusted = verifies_against_ca(*cert);
    }
    tls_ = true;
    apply(session_.on_tls_established(info));
    const tls::test_pki& pki = shared_pki();
    out.ok = true;
    out.facts.established = true;
    out.facts.client_cert_requested = cert_requested_;
    out.facts.client_cert_sent = cert_sent_;
    out.facts.version = version == 0 ? "TLSv1" : info.version;
    out.facts.cipher = "TLS_AES_128_GCM_SHA256";
    const std::string sni = p.sni.value_or("");
    const std::string_view server_cert =
        reference::selects_alt_chain(plan, sni) ? reference::sni_alt_cert : std::string_view();
    out.facts.certs = tls::der_chain(reference::identity_for(plan, pki, server_cert).chain_pem);
    out.facts.checks =
        tls::check_server_certs(out.facts.certs, pki.ca_pem(), p.cert_name.value_or(""), sni);
    return out;
  }

  void client_closes() { closed_ = true; }

  std::string take_output() {
    std::string out;
    out.swap(outbox_);
    return out;
  }
  bool closed() const { return closed_; }
  bool clean_close() const { return clean_close_; }
  bool tls() const { return tls_; }
  bool awaiting_tls() const { return awaiting_tls_; }
  bool cert_requested() const { return cert_requested_; }
  bool cert_sent() const { return cert_sent_; }

 private:
  void apply(const reference::effects& fx) {
    for (const auto& e : fx) {
      if (const auto* w = std::get_if<reference::write_bytes>(&e)) {
        if (!closed_) {
          outbox_ += w->bytes;
        }
      } else if (const auto* s = std::get_if<reference::start_tls>(&e)) {
        awaiting_tls_ = true;
        sniff_ = s->sniff_plaintext;
      } else if (const auto* c = std::get_if<reference::close_connection>(&e)) {
        closed_ = true;
        clean_close_ = c->send_close_notify || !tls_;
      } else if (const auto* d = std::get_if<reference::deliver>(&e)) {
        delivered_.push_back(d->message.content);
      } else if (std::get_if<reference::read_window>(&e) != nullptr) {
        window_open_ = true;
      }
    }
  }

  reference::server_session session_;
  reference::fault_set faults_;
  std::vector<std::string>& delivered_;
  std::string outbox_;
  std::string window_;
  bool window_open_ = false;
  bool awaiting_tls_ = false;
  bool sniff_ = false;
  bool tls_ = false;
  bool closed_ = false;
  bool clean_close_ = false;
  bool cert_requested_ = false;
  bool cert_sent_ = false;
};

}  // namespace

loopback::loopback(reference::fault_set faults) {
  std::uint64_t id = 0;
  // One memory for the whole loopback, as one reference_server shares it between listeners.
  const auto memory = std::make_shared<reference::relay_memory>();
  for (const auto& l : reference::default_listeners()) {
    reference::session_config cfg;
    cfg.listener_name = l.name;
    cfg.kind = l.kind;
    cfg.policy = l.policy;
    cfg.faults = faults | l.faults;
    cfg.login = reference::credentials{"alice@mx.test", password};
    cfg.connection_id = ++id;
    cfg.relay_client_certs = reference::relay_client_certs_of(shared_pki());
    cfg.memory = memory;
    listeners_[l.name] = cfg;
  }
}

script::target_view loopback::target_view(const std::string& case_token) const {
  script::target_view v;
  for (const auto& [name, cfg] : listeners_) {
    v.listeners.insert(name);
  }
  v.traits = {"public_mx", "sink", "ccert_asked", "relay_restricted", "ccert_pubkey_listed"};
  v.vars = {{"local_rcpt", "postmaster@mx.test"},
            {"local_domain", "mx.test"},
            {"foreign_rcpt", "victim@foreign.test"},
            {"auth_user", "alice@mx.test"},
            {"auth_password", password},
            // base64("\0alice@mx.test\0loopback-password")
            {"auth_plain", "AGFsaWNlQG14LnRlc3QAbG9vcGJhY2stcGFzc3dvcmQ="},
            {"ccert_listed", "client1"},
            {"ccert_unlisted", "client2"},
            {"ccert_untrusted_listed", "self-signed"},
            {"sni_alt_name", std::string(reference::sni_alt_name)},
            {"case_token", case_token}};
  v.tls_defaults.sni = "mx.test";
  v.fuzz_corpus = corpus_;
  return v;
}

script::case_outcome loopback::run(const script::scenario_case& c,
                                   std::optional<injected_failure> inject, std::size_t* actions) {
  script::client_runner runner(c, target_view("loopback-token-" + std::to_string(++runs_)));
  auto now = script::clock::time_point{} + std::chrono::hours(1);
  std::unique_ptr<server_end> server;
  std::size_t n = 0;
  action a = runner.start(now);
  // Every case ends: the runner bounds its steps; the loop guard only protects the test.
  while (a.k != action::kind::done && n < 20000) {
    io_result r;
    switch (a.k) {
      case action::kind::connect: {
        server = std::make_unique<server_end>(listeners_.at(a.listener), delivered_);
        server->connect();
        r.note = "loopback";
        break;
      }
      case action::kind::write:
        // As on TCP, a write after the peer closed still succeeds; the next read sees the end.
        if (!server) {
          r.k = io_result::kind::error;
          r.error = "not connected";
        } else {
          server->client_sends(a.bytes);
        }
        break;
      case action::kind::read: {
        if (server) {
          server->client_waits();
        }
        std::string out = server ? server->take_output() : std::string();
        if (!out.empty()) {
          r.k = io_result::kind::data;
          r.data = std::move(out);
        } else if (!server || server->closed()) {
          r.k = io_result::kind::eof;
          r.clean_eof = server && server->clean_close();
        } else {
          r.k = io_result::kind::timeout;
          now += a.timeout;
        }
        break;
      }
      case action::kind::tls_handshake: {
        const tls::issued_cert* cert = nullptr;
        if (a.tls.client_cert) {
          const auto& certs = shared_pki().certs;
          const auto it = certs.find(*a.tls.client_cert);
          if (it == certs.end()) {
            r.k = io_result::kind::error;
            r.error = "no client certificate named " + *a.tls.client_cert;
            break;
          }
          cert = &it->second;
        }
        if (server) {
          auto h = server->client_handshake(a.tls, cert);
          r.tls = h.facts;
          if (!h.ok) {
            r.k = io_result::kind::error;
            r.error = h.error;
            r.peer_bytes = server->take_output();
            server->client_closes();
          }
        } else {
          r.k = io_result::kind::error;
          r.error = "the server did not start TLS";
          r.tls = script::tls_facts{};
        }
        break;
      }
      case action::kind::tls_shutdown:
        break;
      case action::kind::close:
        if (server) {
          server->client_closes();
        }
        server.reset();
        break;
      case action::kind::sleep:
        now += a.timeout;
        break;
      case action::kind::await_delivery:
        for (const auto& m : delivered_) {
          if (m.find(a.bytes) != std::string::npos) {
            r.messages.push_back(m);
          }
        }
        if (r.messages.empty()) {
          now += a.timeout;
        }
        break;
      case action::kind::done:
        break;
    }
    if (inject && inject->action_index == n) {
      r = io_result{};
      r.k = inject->k;
      r.error = "injected failure";
      if (a.k == action::kind::read && inject->k == io_result::kind::timeout) {
        now += a.timeout;
      }
    }
    now += std::chrono::microseconds(50);
    r.at = now;
    ++n;
    a = runner.resume(r);
  }
  if (actions != nullptr) {
    *actions = n;
  }
  return runner.take_result();
}

}  // namespace smtpsim::testing
