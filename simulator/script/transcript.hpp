#pragma once
// The record of one case: every byte in and out with direction, time and TLS side, plus events
// (connect, TLS handshake, alerts, close). Plain data: no Asio, no OpenSSL.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpsim::script {

// cert_info describes one certificate of a peer's chain.
struct cert_info {
  std::string subject;  // RFC 2253 form, e.g. "CN=mx.test"
  std::string issuer;
  std::string serial;      // hex
  std::string not_before;  // ISO 8601 UTC, e.g. "2026-11-22T10:00:00Z"
  std::string not_after;
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;
  bool self_signed = false;
  std::string sha256;         // certificate fingerprint, colon hex upper case (Postfix form)
  std::string pubkey_sha256;  // SubjectPublicKeyInfo fingerprint, same form
};

// cert_checks is what the client learnt about the server's certificates after a completed
// handshake (simulator/tls/cert_check.hpp fills it with OpenSSL; checks.md A10). An unset member
// was not checked (no certificate, or no name to check against).
struct cert_checks {
  std::optional<bool> chain_complete;     // the chain as sent verifies against the roots alone
  std::optional<bool> name_matches;       // the leaf is for `name` (SAN dNSName, CN without one)
  std::optional<bool> cert_current;       // every certificate sent is inside its validity
  std::optional<bool> purpose_sslserver;  // the leaf is usable as a TLS server certificate
  std::optional<bool> sni_matches;        // the leaf is for the SNI name sent (when one was)
  std::string name;                       // the name checked
  std::vector<std::string> problems;      // one sentence per failed check, for evidence
};

// tls_facts describes a TLS session (or a failed attempt) as seen from our side.
struct tls_facts {
  bool established = false;
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  std::string sni;      // the server name sent (client) or received (server); "" if none
  std::vector<cert_info> peer_chain;   // leaf first
  bool peer_verified = false;          // the chain verified against our trust store
  std::string verify_error;            // OpenSSL's text when it did not
  bool client_cert_requested = false;  // the server sent a CertificateRequest
  bool client_cert_sent = false;
  std::string alert_received;  // e.g. "handshake_failure" (fatal) or ""
  std::string alert_sent;
  std::string error;  // why the handshake failed, if it did
  // certs: the peer's certificates as it sent them (DER), leaf first; the input of cert_checks.
  std::vector<std::string> certs;
  cert_checks checks;
};

enum class direction : std::uint8_t {
  sent,      // from us to the peer
  received,  // from the peer to us
  event,     // something that is not bytes: connect, handshake, alert, close, timeout
};

struct transcript_entry {
  std::chrono::microseconds at{0};  // since the start of the case
  direction dir = direction::event;
  bool tls = false;              // the bytes were (to be) protected by TLS
  std::uint32_t connection = 0;  // 0 for the first connection of the case, then 1, 2...
  std::string bytes;             // sent/received octets, exactly (application data for TLS)
  std::string note;              // events: a short sentence, e.g. "TLS established: TLSv1.3 ..."
};

// transcript keeps entries up to a byte bound; past it, bytes are counted, not stored.
class transcript {
 public:
  static constexpr std::size_t default_max_bytes = 1024 * 1024;

  explicit transcript(std::size_t max_bytes = default_max_bytes) : max_bytes_(max_bytes) {}

  void add_bytes(std::chrono::microseconds at, direction dir, bool tls, std::uint32_t conn,
                 std::string_view bytes);
  void add_event(std::chrono::microseconds at, bool tls, std::uint32_t conn, std::string note);

  const std::vector<transcript_entry>& entries() const { return entries_; }
  std::size_t stored_bytes() const { return stored_bytes_; }
  std::size_t dropped_bytes() const { return dropped_bytes_; }
  bool truncated() const { return dropped_bytes_ > 0; }

 private:
  std::size_t max_bytes_;
  std::size_t stored_bytes_ = 0;
  std::size_t dropped_bytes_ = 0;
  std::vector<transcript_entry> entries_;
};

// render_transcript formats entries as text lines for terminals and reports, one SMTP line per
// text line, e.g. "   0.012s C> [tls] EHLO probe.test\r\n", "   0.013s S> 250-mx.test\r\n",
// "   0.020s ** TLS established ...". "C>" marks bytes from the client, "S>" bytes from the server;
// `we_are_client` says which side smtpsim played. Control characters are escaped (\r \n \0
// \xHH). `first`/`count` select a range of entries.
std::string render_transcript(const transcript& t, bool we_are_client = true, std::size_t first = 0,
                              std::size_t count = static_cast<std::size_t>(-1));

}  // namespace smtpsim::script
