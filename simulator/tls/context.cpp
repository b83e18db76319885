#include "simulator/tls/context.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "simulator/tls/fingerprint.hpp"
#include "simulator/tls/openssl_util.hpp"

namespace smtpsim::tls {

namespace {

// session_record is what the callbacks learn during one handshake. It lives in the SSL's ex_data
// (see record_index), so it survives a failed handshake and is freed with the SSL.
struct session_record {
  std::string sni;  // client: the name we sent; server: the name in the ClientHello
  bool verify_ran = false;
  int first_verify_error = X509_V_OK;  // the first error, not OpenSSL's last one
  bool cert_request_received = false;
  bool client_cert_sent = false;
  std::string alert_received;
  bool alert_received_fatal = false;
  std::string alert_sent;
  bool alert_sent_fatal = false;
};

void free_record(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                 void* /*argp*/) {
  delete static_cast<session_record*>(ptr);
}

// dup_record gives an SSL_dup copy its own record; without it both SSLs would free one pointer.
int dup_record(CRYPTO_EX_DATA* /*to*/, const CRYPTO_EX_DATA* /*from*/, void** from_d, int /*idx*/,
               long /*argl*/, void* /*argp*/) {
  auto** slot = reinterpret_cast<session_record**>(from_d);
  if (*slot != nullptr) {
    *slot = new session_record(**slot);
  }
  return 1;
}

int record_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, dup_record, free_record);
  if (index < 0) {
    throw_openssl_error("SSL_get_ex_new_index");
  }
  return index;
}

session_record* record_of(const SSL* ssl) {
  return static_cast<session_record*>(SSL_get_ex_data(ssl, record_index()));
}

struct alert_entry {
  int description;
  std::string_view name;
};
// alert_names maps alert descriptions to their RFC 8446 §6 / RFC 5246 §7.2 names, the names
// scenarios match on (OpenSSL's SSL_alert_desc_string_long differs, e.g. "unknown CA").
constexpr std::array<alert_entry, 34> alert_names = {{
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
}};

// alert_name returns the RFC name of an alert description, or "alert_<number>".
std::string alert_name(int description) {
  for (const alert_entry& e : alert_names) {
    if (e.description == description) {
      return std::string(e.name);
    }
  }
  return "alert_" + std::to_string(description);
}

// keep_alert stores the first alert of a direction, but lets a fatal alert replace a stored
// warning: the fatal one explains a failure, a close_notify before it does not.
void keep_alert(std::string& slot, bool& slot_fatal, int description, bool fatal) {
  if (slot.empty() || (fatal && !slot_fatal)) {
    slot = alert_name(description);
    slot_fatal = fatal;
  }
}

// on_info records alerts (SSL_CB_ALERT): `ret` holds the level in its high byte and the
// description in its low byte.
void on_info(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0) {
    return;
  }
  session_record* rec = record_of(ssl);
  if (rec == nullptr) {
    return;
  }
  const bool fatal = ((ret >> 8) & 0xFF) == SSL3_AL_FATAL;
  const int description = ret & 0xFF;
  if ((where & SSL_CB_READ) != 0) {
    keep_alert(rec->alert_received, rec->alert_received_fatal, description, fatal);
  } else {
    keep_alert(rec->alert_sent, rec->alert_sent_fatal, description, fatal);
  }
}

// certificate_list_empty says whether a Certificate handshake message (with its 4-octet header)
// carries no certificate: what a client sends when asked for one it does not have.
// TLS 1.3 puts a certificate_request_context before the list (RFC 8446 §4.4.2).
bool certificate_list_empty(const unsigned char* msg, std::size_t len, int version) {
  std::size_t pos = 4;
  if (version == TLS1_3_VERSION) {
    if (len < pos + 1) {
      return true;
    }
    pos += 1 + msg[pos];
  }
  if (len < pos + 3) {
    return true;
  }
  return msg[pos] == 0 && msg[pos + 1] == 0 && msg[pos + 2] == 0;
}

// on_message sees every handshake message in the clear (also TLS 1.3's encrypted ones), so it
// tells whether a CertificateRequest arrived and whether our Certificate carried one.
void on_message(int write_p, int version, int content_type, const void* buf, std::size_t len,
                SSL* ssl, void* /*arg*/) {
  if (content_type != SSL3_RT_HANDSHAKE || len < 4) {
    return;
  }
  session_record* rec = record_of(ssl);
  if (rec == nullptr) {
    return;
  }
  const auto* msg = static_cast<const unsigned char*>(buf);
  if (write_p == 0 && msg[0] == SSL3_MT_CERTIFICATE_REQUEST) {
    rec->cert_request_received = true;
  } else if (write_p != 0 && msg[0] == SSL3_MT_CERTIFICATE && SSL_is_server(ssl) == 0) {
    rec->client_cert_sent = !certificate_list_empty(msg, len, version);
  }
}

// first_host_name extracts the host_name entry of a server_name extension body (RFC 6066 §3).
std::string first_host_name(const unsigned char* data, std::size_t len) {
  if (len < 2) {
    return {};
  }
  const std::size_t list_len = (std::size_t{data[0]} << 8) | data[1];
  const std::size_t end = std::min(len, 2 + list_len);
  std::size_t pos = 2;
  while (pos + 3 <= end) {
    const unsigned type = data[pos];
    const std::size_t name_len = (std::size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    if (pos + name_len > end) {
      return {};
    }
    if (type == TLSEXT_NAMETYPE_host_name) {
      return {reinterpret_cast<const char*>(data + pos), name_len};
    }
    pos += name_len;
  }
  return {};
}

// on_client_hello records the SNI the client sent. It runs before version negotiation, so the
// name is known even when the handshake then fails (SSL_get_servername would be empty then).
int on_client_hello(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  if (session_record* rec = record_of(ssl)) {
    const unsigned char* data = nullptr;
    std::size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &len) == 1) {
      rec->sni = first_host_name(data, len);
    }
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

void note_verify(int preverify_ok, X509_STORE_CTX* store) {
  const auto* ssl = static_cast<const SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  session_record* rec = ssl != nullptr ? record_of(ssl) : nullptr;
  if (rec == nullptr) {
    return;
  }
  rec->verify_ran = true;
  if (preverify_ok == 0 && rec->first_verify_error == X509_V_OK) {
    rec->first_verify_error = X509_STORE_CTX_get_error(store);
  }
}

// verify_enforcing fails the handshake on a chain that does not verify (verify_peer).
int verify_enforcing(int preverify_ok, X509_STORE_CTX* store) {
  note_verify(preverify_ok, store);
  return preverify_ok;
}

// verify_recording accepts any chain but keeps the verdict, so that a scenario can judge a bad
// certificate instead of the handshake aborting before it is seen.
int verify_recording(int preverify_ok, X509_STORE_CTX* store) {
  note_verify(preverify_ok, store);
  return 1;
}

int openssl_version(tls_version v) {
  switch (v) {
    case tls_version::tls1_0:
      return TLS1_VERSION;
    case tls_version::tls1_1:
      return TLS1_1_VERSION;
    case tls_version::tls1_2:
      return TLS1_2_VERSION;
    case tls_version::tls1_3:
      return TLS1_3_VERSION;
  }
  throw std::invalid_argument("unknown tls_version");
}

void set_versions(SSL_CTX* ctx, const tls_config& config) {
  if (config.min_version && config.max_version && *config.min_version > *config.max_version) {
    throw std::runtime_error(
        "TLS configuration: min_version " + std::string(to_string(*config.min_version)) +
        " is above max_version " + std::string(to_string(*config.max_version)));
  }
  if (config.min_version &&
      SSL_CTX_set_min_proto_version(ctx, openssl_version(*config.min_version)) != 1) {
    throw_openssl_error("SSL_CTX_set_min_proto_version");
  }
  if (config.max_version &&
      SSL_CTX_set_max_proto_version(ctx, openssl_version(*config.max_version)) != 1) {
    throw_openssl_error("SSL_CTX_set_max_proto_version");
  }
  // OpenSSL 3 refuses TLS 1.0 and 1.1 at security level 1 and above (their handshake signatures
  // use SHA-1). A scenario that asks for them (tls.min-version-submission) needs level 0.
  if (config.min_version && *config.min_version < tls_version::tls1_2) {
    SSL_CTX_set_security_level(ctx, 0);
  }
}

void set_ciphers(SSL_CTX* ctx, const tls_config& config) {
  if (!config.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(ctx, config.cipher_list.c_str()) != 1) {
    throw_openssl_error("cipher_list \"" + config.cipher_list + "\"");
  }
  if (!config.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, config.ciphersuites.c_str()) != 1) {
    throw_openssl_error("ciphersuites \"" + config.ciphersuites + "\"");
  }
}

void set_identity(SSL_CTX* ctx, const tls_config& config) {
  if (config.cert_chain_pem.empty() && config.key_pem.empty()) {
    return;
  }
  if (config.cert_chain_pem.empty() || config.key_pem.empty()) {
    throw std::runtime_error("TLS configuration: a certificate needs its key and vice versa");
  }
  std::vector<x509_ptr> certs = read_certs_pem(config.cert_chain_pem);
  if (certs.empty()) {
    throw std::runtime_error("TLS configuration: cert_chain_pem holds no certificate");
  }
  const evp_pkey_ptr key = read_key_pem(config.key_pem);
  const x509_stack_ptr chain(sk_X509_new_null());
  if (!chain) {
    throw_openssl_error("sk_X509_new_null");
  }
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (sk_X509_push(chain.get(), certs[i].get()) == 0) {
      throw_openssl_error("sk_X509_push");
    }
    static_cast<void>(certs[i].release());  // now owned by `chain`
  }
  // SSL_CTX_use_cert_and_key takes its own references and checks that the key matches.
  if (SSL_CTX_use_cert_and_key(ctx, certs.front().get(), key.get(), chain.get(), 1) != 1) {
    throw_openssl_error("SSL_CTX_use_cert_and_key");
  }
}

// set_trust loads the trust store. For a server it also becomes the CA hint list of the
// CertificateRequest, as Postfix sends the names from smtpd_tls_CAfile
// (ccert.ask-controls-request).
void set_trust(SSL_CTX* ctx, const tls_config& config, bool server) {
  if (config.trust_pem.empty()) {
    return;
  }
  const std::vector<x509_ptr> certs = read_certs_pem(config.trust_pem);
  if (certs.empty()) {
    throw std::runtime_error("TLS configuration: trust_pem holds no certificate");
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const x509_ptr& cert : certs) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) {  // takes its own reference
      throw_openssl_error("X509_STORE_add_cert");
    }
    if (server && config.request_client_cert && SSL_CTX_add_client_CA(ctx, cert.get()) != 1) {
      throw_openssl_error("SSL_CTX_add_client_CA");
    }
  }
}

boost::asio::ssl::context make_context(const tls_config& config, bool server) {
  boost::asio::ssl::context context(server ? boost::asio::ssl::context::tls_server
                                           : boost::asio::ssl::context::tls_client);
  SSL_CTX* ctx = context.native_handle();
  set_versions(ctx, config);
  set_ciphers(ctx, config);
  set_identity(ctx, config);
  set_trust(ctx, config, server);
  const SSL_verify_cb callback = config.verify_peer ? verify_enforcing : verify_recording;
  if (server) {
    int mode = SSL_VERIFY_NONE;
    if (config.request_client_cert || config.require_client_cert) {
      mode = SSL_VERIFY_PEER;
    }
    if (config.require_client_cert) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, callback);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, nullptr);
    // A server that asks for client certificates must name its session cache, or a resumption
    // attempt fails the handshake (SSL_CTX_set_session_id_context(3)).
    static constexpr std::string_view session_id_context = "smtpsim";
    if (SSL_CTX_set_session_id_context(
            ctx, reinterpret_cast<const unsigned char*>(session_id_context.data()),
            static_cast<unsigned int>(session_id_context.size())) != 1) {
      throw_openssl_error("SSL_CTX_set_session_id_context");
    }
  } else {
    // Always SSL_VERIFY_PEER on the client, so that the callback sees the server's chain; the
    // callback alone decides whether a bad chain aborts.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, callback);
  }
  return context;
}

void append_stack(std::vector<X509*>& out, const STACK_OF(X509) * stack) {
  for (int i = 0; i < sk_X509_num(stack); ++i) {
    out.push_back(sk_X509_value(stack, i));
  }
}

// peer_chain lists the peer's certificates leaf first. On a server, SSL_get_peer_cert_chain
// leaves the client's leaf out (SSL_get_peer_cert_chain(3)).
std::vector<X509*> peer_chain(const SSL* ssl) {
  std::vector<X509*> chain;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  const STACK_OF(X509)* stack = SSL_get_peer_cert_chain(ssl);
  if (SSL_is_server(ssl) != 0 || stack == nullptr) {
    if (leaf != nullptr) {
      chain.push_back(leaf);
    }
    if (stack != nullptr && SSL_is_server(ssl) != 0) {
      append_stack(chain, stack);
    }
  } else {
    append_stack(chain, stack);
  }
  return chain;
}

script::cert_info describe_cert(X509* cert) {
  script::cert_info info;
  info.subject = name_to_rfc2253(X509_get_subject_name(cert));
  info.issuer = name_to_rfc2253(X509_get_issuer_name(cert));
  info.serial = serial_hex(cert);
  info.not_before = time_to_iso8601(X509_get0_notBefore(cert));
  info.not_after = time_to_iso8601(X509_get0_notAfter(cert));
  alt_names names = subject_alt_names(cert);
  info.dns_names = std::move(names.dns_names);
  info.ip_addresses = std::move(names.ip_addresses);
  // With the signature checked: a certificate that only claims to be its own issuer is not
  // self-signed.
  info.self_signed = X509_self_signed(cert, 1) == 1;
  ERR_clear_error();  // a failed self-signature check queues errors nobody asked about
  info.sha256 = cert_fingerprint(cert, digest_kind::sha256);
  info.pubkey_sha256 = pubkey_fingerprint(cert, digest_kind::sha256);
  return info;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<tls_version> parse_tls_version(std::string_view text) {
  std::string v = lower(text);
  if (v.starts_with("tlsv")) {
    v.erase(0, 4);
  } else if (v.starts_with("tls")) {
    v.erase(0, 3);
  }
  if (v == "1" || v == "1.0") {
    return tls_version::tls1_0;
  }
  if (v == "1.1") {
    return tls_version::tls1_1;
  }
  if (v == "1.2") {
    return tls_version::tls1_2;
  }
  if (v == "1.3") {
    return tls_version::tls1_3;
  }
  return std::nullopt;
}

std::string_view to_string(tls_version v) {
  switch (v) {
    case tls_version::tls1_0:
      return "TLSv1";
    case tls_version::tls1_1:
      return "TLSv1.1";
    case tls_version::tls1_2:
      return "TLSv1.2";
    case tls_version::tls1_3:
      return "TLSv1.3";
  }
  return "unknown";
}

boost::asio::ssl::context make_client_context(const tls_config& config) {
  return make_context(config, false);
}

boost::asio::ssl::context make_server_context(const tls_config& config) {
  return make_context(config, true);
}

void prepare_session(SSL* ssl, const std::string& sni) {
  if (ssl == nullptr) {
    throw std::invalid_argument("prepare_session: null SSL");
  }
  auto fresh = std::make_unique<session_record>();
  if (SSL_is_server(ssl) == 0 && !sni.empty()) {
    // SSL_set_tlsext_host_name, spelled out: the macro's C cast trips -Wold-style-cast.
    if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(sni.c_str())) != 1) {
      throw_openssl_error("SSL_set_tlsext_host_name(\"" + sni + "\")");
    }
    fresh->sni = sni;
  }
  session_record* old = record_of(ssl);
  if (SSL_set_ex_data(ssl, record_index(), fresh.get()) != 1) {
    throw_openssl_error("SSL_set_ex_data");
  }
  static_cast<void>(fresh.release());  // owned by the SSL: free_record deletes it
  delete old;                          // prepare_session called again: start over
  SSL_set_info_callback(ssl, on_info);
  SSL_set_msg_callback(ssl, on_message);
}

std::string alert_received(const SSL* ssl) {
  const session_record* rec = record_of(ssl);
  return rec != nullptr ? rec->alert_received : std::string();
}

script::tls_facts session_facts(SSL* ssl) {
  script::tls_facts facts;
  if (ssl == nullptr) {
    return facts;
  }
  const session_record* rec = record_of(ssl);
  const bool server = SSL_is_server(ssl) != 0;
  facts.established = SSL_is_init_finished(ssl) == 1;
  // Version and cipher are known once a ServerHello was processed, even if the handshake then
  // failed (e.g. on the certificate).
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    facts.version = SSL_get_version(ssl);
    facts.cipher = SSL_CIPHER_get_name(cipher);
  }
  if (rec != nullptr && !rec->sni.empty()) {
    facts.sni = rec->sni;
  } else if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    facts.sni = name;
  }

  for (X509* cert : peer_chain(ssl)) {
    facts.peer_chain.push_back(describe_cert(cert));
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len > 0) {
      const openssl_bytes_ptr owned(der);
      facts.certs.emplace_back(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    }
  }
  if (!facts.peer_chain.empty()) {
    // Prefer the first error seen by our callback: OpenSSL's verify result is the last one,
    // which after an accepted failure may describe a later, less telling problem.
    const long result = SSL_get_verify_result(ssl);
    const long error =
        rec != nullptr && rec->first_verify_error != X509_V_OK ? rec->first_verify_error : result;
    const bool ran = rec == nullptr || rec->verify_ran;
    facts.peer_verified = ran && error == X509_V_OK;
    if (error != X509_V_OK) {
      facts.verify_error = X509_verify_cert_error_string(error);
    } else if (!ran) {
      facts.verify_error = "the peer certificate was not verified";
    }
  }

  if (rec != nullptr) {
    if (!server) {
      facts.client_cert_requested = rec->cert_request_received;
      facts.client_cert_sent = rec->client_cert_sent;
    }
    facts.alert_received = rec->alert_received;
    facts.alert_sent = rec->alert_sent;
  }
  return facts;
}

}  // namespace smtpsim::tls
