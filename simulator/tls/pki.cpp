#include "simulator/tls/pki.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "simulator/tls/openssl_util.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace smtpsim::tls {

namespace {

enum class cert_role { root_ca, intermediate_ca, server, client };

// cert_spec is one row of the PKI table. Rows are generated in table order, so an issuer or a key
// donor must appear above the rows that name it. The setters keep each row one readable
// expression (g++ 12 warns on designated initializers that skip defaulted members).
struct cert_spec {
  std::string_view name;
  std::string_view purpose;
  cert_role role = cert_role::server;
  std::string_view issuer;       // an earlier row; "" for a self-signed certificate
  std::string_view key_of;       // reuse an earlier row's key; "" for a fresh key
  std::string_view common_name;  // "" for the first DNS name
  // dns_names and ip_addresses are the subjectAltName. A server row with neither gets
  // pki_options' server names and addresses.
  std::vector<std::string_view> dns_names;
  std::vector<std::string_view> ip_addresses;
  std::string_view extended_key_usage;  // x509v3_config(5) value; "" for the role's usual one
  bool expired = false;                 // validity entirely in the past

  cert_spec(std::string_view n, cert_role r, std::string_view p) : name(n), purpose(p), role(r) {}
  cert_spec issued_by(std::string_view v) && {
    issuer = v;
    return std::move(*this);
  }
  cert_spec key_from(std::string_view v) && {
    key_of = v;
    return std::move(*this);
  }
  cert_spec cn(std::string_view v) && {
    common_name = v;
    return std::move(*this);
  }
  cert_spec dns(std::vector<std::string_view> v) && {
    dns_names = std::move(v);
    return std::move(*this);
  }
  cert_spec ips(std::vector<std::string_view> v) && {
    ip_addresses = std::move(v);
    return std::move(*this);
  }
  cert_spec eku(std::string_view v) && {
    extended_key_usage = v;
    return std::move(*this);
  }
  cert_spec expired_in_the_past() && {
    expired = true;
    return std::move(*this);
  }
};

// pki_table lists every certificate of the test PKI. Adding a certificate is one row here.
const std::vector<cert_spec>& pki_table() {
  using enum cert_role;
  static const std::vector<cert_spec> table = {
      cert_spec("ca", root_ca,
                "root CA: the trust anchor to give peers (smtpd_tls_CAfile, smtp_tls_CAfile)")
          .cn("smtpsim test root CA"),
      cert_spec("intermediate", intermediate_ca,
                "intermediate CA (pathlen 0) issuing the server leaves; leave it out of a chain "
                "for an incomplete chain (tls.chain-complete, c.tls.incomplete-chain)")
          .issued_by("ca")
          .cn("smtpsim test intermediate CA"),
      cert_spec("server", server,
                "valid server leaf for the server names, issued by the intermediate")
          .issued_by("intermediate"),
      cert_spec("client1", client,
                "client certificate listed in relay_clientcerts (ccert.fingerprint-permits-relay)")
          .issued_by("ca")
          .dns({"client1.test"}),
      cert_spec("client2", client,
                "client certificate left out of relay_clientcerts (ccert.unlisted-denied)")
          .issued_by("ca")
          .dns({"client2.test"}),
      cert_spec("client1-reissued", client,
                "new certificate for client1's key: same public-key fingerprint, new certificate "
                "fingerprint (ccert.pubkey-fingerprint)")
          .issued_by("ca")
          .key_from("client1")
          .dns({"client1.test"}),
      cert_spec("expired", server,
                "server leaf whose validity ended in the past (c.wrapper.cert-validated, "
                "tls.cert-validity)")
          .issued_by("intermediate")
          .expired_in_the_past(),
      cert_spec("wrong-name", server,
                "server leaf for wrong-name.test only (c.wrapper.cert-validated, tls.cert-name)")
          .issued_by("intermediate")
          .dns({"wrong-name.test"}),
      cert_spec("self-signed", server,
                "self-signed server leaf for the server names (c.wrapper.cert-validated); also a "
                "client certificate from no CA (ccert.untrusted-ca-still-matches)"),
      cert_spec("other-ca", root_ca,
                "a second root CA that peers are never given: what it issues is untrusted")
          .cn("smtpsim untrusted root CA"),
      cert_spec("untrusted", server,
                "server leaf for the server names from a CA the client does not trust "
                "(c.broken.cert-invalid/untrusted)")
          .issued_by("other-ca"),
      cert_spec("client-auth-only", server,
                "server leaf for the server names whose extendedKeyUsage allows clientAuth only "
                "(c.tls.eku)")
          .issued_by("intermediate")
          .eku("clientAuth"),
      cert_spec("sni-alt", server,
                "server leaf for alt.mx.test only: the second chain a server selects by SNI "
                "(tls.sni-selects-chain; Postfix tls_server_sni_maps)")
          .issued_by("intermediate")
          .dns({"alt.mx.test"}),
      cert_spec("san-mismatch", server,
                "server leaf whose CN is localhost but whose DNS subjectAltName is san-only.test "
                "(c.tls.san-before-cn: the SAN wins, so it does not match localhost)")
          .issued_by("intermediate")
          .cn("localhost")
          .dns({"san-only.test"}),
  };
  return table;
}

const cert_spec* find_spec(std::string_view name) {
  const auto& table = pki_table();
  const auto it = std::find_if(table.begin(), table.end(),
                               [name](const cert_spec& s) { return s.name == name; });
  return it == table.end() ? nullptr : &*it;
}

// pki_organization is the O= of every subject, so that a test certificate is recognisable in
// any log.
constexpr std::string_view pki_organization = "smtpsim test PKI";

constexpr std::time_t hour = 3600;
constexpr std::time_t day = 24 * hour;
// backdate covers clock skew between the generating host and a peer in a container.
constexpr std::time_t backdate = hour;
constexpr std::time_t expired_not_before_age = 90 * day;
constexpr std::time_t expired_not_after_age = 30 * day;

// generated is one certificate while the table is being built.
struct generated {
  x509_ptr cert;
  evp_pkey_ptr key;
};

evp_pkey_ptr new_p256_key() {
  // EVP_PKEY_Q_keygen is variadic: the curve name is passed as char*.
  evp_pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256")));
  if (!key) {
    throw_openssl_error("EVP_PKEY_Q_keygen(EC P-256)");
  }
  return key;
}

// set_random_serial sets a positive, non-zero 128-bit random serial (CA/B Forum asks for at
// least 64 random bits; RFC 5280 §4.1.2.2 allows at most 20 octets).
void set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw_openssl_error("RAND_bytes");
  }
  bytes[0] &= 0x7F;  // positive once DER-encoded
  bytes[0] |= 0x40;  // always 16 octets, never zero
  const bignum_ptr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    throw_openssl_error("set serial number");
  }
}

void set_validity(X509* cert, std::time_t not_before, std::time_t not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr) {
    throw_openssl_error("ASN1_TIME_set");
  }
}

void set_subject(X509* cert, std::string_view common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string organization(pki_organization);
  const std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(organization.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    throw_openssl_error("X509_NAME_add_entry_by_txt");
  }
}

// add_conf_ext adds one extension written in openssl x509v3_config(5) syntax.
void add_conf_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  const x509_extension_ptr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) {
    throw_openssl_error(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  if (X509_add_ext(cert, ext.get(), -1) != 1) {  // adds a copy
    throw_openssl_error("X509_add_ext");
  }
}

// push_general_name appends one name to `names`, taking ownership of `value`.
void push_general_name(GENERAL_NAMES* names, int type, asn1_string_ptr value) {
  general_name_ptr gn(GENERAL_NAME_new());
  if (!gn) {
    throw_openssl_error("GENERAL_NAME_new");
  }
  GENERAL_NAME_set0_value(gn.get(), type, value.release());
  if (sk_GENERAL_NAME_push(names, gn.get()) == 0) {
    throw_openssl_error("sk_GENERAL_NAME_push");
  }
  static_cast<void>(gn.release());  // now owned by `names`
}

// add_subject_alt_name builds the extension directly rather than through a config string, so that
// names from pki_options cannot inject further entries through ',' or ':'.
void add_subject_alt_name(X509* cert, const std::vector<std::string>& dns_names,
                          const std::vector<std::string>& ip_addresses) {
  const general_names_ptr names(sk_GENERAL_NAME_new_null());
  if (!names) {
    throw_openssl_error("sk_GENERAL_NAME_new_null");
  }
  for (const std::string& dns : dns_names) {
    asn1_string_ptr s(ASN1_IA5STRING_new());
    if (!s || ASN1_STRING_set(s.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      throw_openssl_error("ASN1_STRING_set");
    }
    push_general_name(names.get(), GEN_DNS, std::move(s));
  }
  for (const std::string& ip : ip_addresses) {
    asn1_string_ptr octets(a2i_IPADDRESS(ip.c_str()));
    if (!octets) {
      ERR_clear_error();
      throw std::invalid_argument("test PKI: not an IP address: \"" + ip + "\"");
    }
    push_general_name(names.get(), GEN_IPADD, std::move(octets));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    throw_openssl_error("X509_add1_ext_i2d(subjectAltName)");
  }
}

void add_extensions(X509* cert, const X509* issuer, const cert_spec& spec,
                    const std::vector<std::string>& dns_names,
                    const std::vector<std::string>& ip_addresses) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  // X509V3_set_ctx takes non-const pointers but only reads the certificates.
  X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), cert, nullptr, nullptr, 0);
  switch (spec.role) {
    case cert_role::root_ca:
      add_conf_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE");
      add_conf_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case cert_role::intermediate_ca:
      add_conf_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
      add_conf_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case cert_role::server:
    case cert_role::client:
      add_conf_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
      // A self-signed leaf gets no keyUsage: with one, RFC 5280 §4.2.1.3 would want keyCertSign
      // (and so CA:TRUE) for it to sign itself.
      if (!spec.issuer.empty()) {
        add_conf_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature");
      }
      if (spec.extended_key_usage.empty()) {
        add_conf_ext(cert, &ctx, NID_ext_key_usage,
                     spec.role == cert_role::server ? "serverAuth" : "clientAuth");
      }
      break;
  }
  if (!spec.extended_key_usage.empty()) {
    add_conf_ext(cert, &ctx, NID_ext_key_usage, std::string(spec.extended_key_usage).c_str());
  }
  if (!dns_names.empty() || !ip_addresses.empty()) {
    add_subject_alt_name(cert, dns_names, ip_addresses);
  }
  // subjectKeyIdentifier first: for a self-signed certificate the authorityKeyIdentifier copies
  // it from the certificate itself.
  add_conf_ext(cert, &ctx, NID_subject_key_identifier, "hash");
  add_conf_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
}

generated make_cert(const cert_spec& spec, const std::map<std::string, generated>& done,
                    const pki_options& options, std::time_t now) {
  const generated* issuer = nullptr;
  if (!spec.issuer.empty()) {
    const auto it = done.find(std::string(spec.issuer));
    if (it == done.end()) {
      throw std::logic_error("test PKI table: issuer of " + std::string(spec.name) +
                             " is not above it");
    }
    issuer = &it->second;
  }

  generated out;
  if (spec.key_of.empty()) {
    out.key = new_p256_key();
  } else {
    const auto it = done.find(std::string(spec.key_of));
    if (it == done.end()) {
      throw std::logic_error("test PKI table: key donor of " + std::string(spec.name) +
                             " is not above it");
    }
    if (EVP_PKEY_up_ref(it->second.key.get()) != 1) {
      throw_openssl_error("EVP_PKEY_up_ref");
    }
    out.key.reset(it->second.key.get());
  }

  std::vector<std::string> dns_names(spec.dns_names.begin(), spec.dns_names.end());
  std::vector<std::string> ip_addresses(spec.ip_addresses.begin(), spec.ip_addresses.end());
  if (spec.role == cert_role::server && dns_names.empty() && ip_addresses.empty()) {
    dns_names = options.server_names;
    ip_addresses = options.server_ips;
  }
  std::string_view common_name = spec.common_name;
  if (common_name.empty() && !dns_names.empty()) {
    common_name = dns_names.front();
  }
  if (common_name.empty()) {
    common_name = spec.name;
  }

  out.cert.reset(X509_new());
  if (!out.cert) {
    throw_openssl_error("X509_new");
  }
  X509* cert = out.cert.get();
  if (X509_set_version(cert, X509_VERSION_3) != 1) {
    throw_openssl_error("X509_set_version");
  }
  set_random_serial(cert);
  const auto validity = static_cast<std::time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(options.validity).count());
  if (spec.expired) {
    set_validity(cert, now - expired_not_before_age, now - expired_not_after_age);
  } else {
    set_validity(cert, now - backdate, now + validity);
  }
  set_subject(cert, common_name);
  const X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  if (X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) != 1 ||
      X509_set_pubkey(cert, out.key.get()) != 1) {
    throw_openssl_error("X509_set_issuer_name / X509_set_pubkey");
  }
  add_extensions(cert, issuer_cert, spec, dns_names, ip_addresses);
  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) {
    throw_openssl_error("X509_sign");
  }
  return out;
}

// write_file writes `content` to a new file created with `mode`. An existing file is removed
// first: opening it with O_CREAT would keep its old, possibly wider, permissions.
void write_file(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  const auto fail = [&path](const char* op) {
    throw std::system_error(errno, std::generic_category(), std::string(op) + " " + path.string());
  };
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    fail("unlink");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    fail("open");
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      fail("write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    fail("close");
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::system_error(errno, std::generic_category(), "open " + path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw std::system_error(errno, std::generic_category(), "read " + path.string());
  }
  return std::move(text).str();
}

x509_ptr first_cert(const issued_cert& ic) {
  std::vector<x509_ptr> certs = read_certs_pem(ic.cert_pem);
  if (certs.empty()) {
    throw std::runtime_error("test PKI: \"" + ic.name + "\" holds no certificate");
  }
  return std::move(certs.front());
}

bool is_leaf(const issued_cert& ic) { return X509_check_ca(first_cert(ic).get()) == 0; }

// ordered_names lists the certificates in table order, then any others by name.
std::vector<std::string> ordered_names(const test_pki& pki) {
  std::vector<std::string> names;
  for (const cert_spec& spec : pki_table()) {
    if (pki.certs.contains(std::string(spec.name))) {
      names.emplace_back(spec.name);
    }
  }
  for (const auto& [name, ic] : pki.certs) {
    if (find_spec(name) == nullptr) {
      names.push_back(name);
    }
  }
  return names;
}

}  // namespace

const issued_cert& test_pki::at(const std::string& name) const {
  const auto it = certs.find(name);
  if (it == certs.end()) {
    throw std::out_of_range("test PKI has no certificate \"" + name + "\"");
  }
  return it->second;
}

test_pki make_test_pki(const pki_options& options) {
  const std::time_t now = std::time(nullptr);
  std::map<std::string, generated> done;
  test_pki pki;
  for (const cert_spec& spec : pki_table()) {
    generated g = make_cert(spec, done, options, now);
    issued_cert ic;
    ic.name = spec.name;
    ic.purpose = spec.purpose;
    ic.cert_pem = cert_to_pem(g.cert.get());
    ic.key_pem = key_to_pem(g.key.get());
    ic.fingerprints = fingerprints_of(g.cert.get());
    // The chain is the certificate and its issuers, up to (not including) the self-signed root.
    ic.chain_pem = ic.cert_pem;
    for (const cert_spec* up = find_spec(spec.issuer); up != nullptr && !up->issuer.empty();
         up = find_spec(up->issuer)) {
      ic.chain_pem += pki.at(std::string(up->name)).cert_pem;
    }
    pki.certs.emplace(ic.name, std::move(ic));
    done.emplace(std::string(spec.name), std::move(g));
  }
  return pki;
}

void write_pki(const test_pki& pki, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, ic] : pki.certs) {
    write_file(dir / (name + ".pem"), ic.cert_pem, 0644);
    if (is_leaf(ic)) {
      write_file(dir / (name + "-chain.pem"), ic.chain_pem, 0644);
    }
    if (!ic.key_pem.empty()) {
      write_file(dir / (name + ".key"), ic.key_pem, 0600);
    }
  }
  write_file(dir / "fingerprints.txt", describe_pki(pki), 0644);
}

test_pki load_pki(const std::filesystem::path& dir) {
  test_pki pki;
  constexpr std::string_view chain_suffix = "-chain";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::filesystem::path& path = entry.path();
    const std::string stem = path.stem().string();
    if (!entry.is_regular_file() || path.extension() != ".pem" || stem.ends_with(chain_suffix)) {
      continue;
    }
    issued_cert ic;
    ic.name = stem;
    if (const cert_spec* spec = find_spec(stem)) {
      ic.purpose = spec->purpose;
    }
    ic.cert_pem = read_file(path);
    const std::filesystem::path chain = dir / (stem + "-chain.pem");
    ic.chain_pem = std::filesystem::exists(chain) ? read_file(chain) : ic.cert_pem;
    const std::filesystem::path key = dir / (stem + ".key");
    if (std::filesystem::exists(key)) {
      ic.key_pem = read_file(key);
    }
    ic.fingerprints = fingerprints_of(first_cert(ic).get());
    pki.certs.emplace(stem, std::move(ic));
  }
  if (pki.certs.empty()) {
    throw std::runtime_error("no certificates (*.pem) in " + dir.string());
  }
  return pki;
}

std::string describe_pki(const test_pki& pki) {
  std::ostringstream out;
  out << "# smtpsim test PKI: certificates and their fingerprints\n"
         "#\n"
         "# Postfix matches a client certificate by fingerprint (relay_clientcerts with\n"
         "# permit_tls_clientcerts, check_ccert_access), digested with\n"
         "# smtpd_tls_fingerprint_digest: sha256 by default at compatibility_level >= 3.6,\n"
         "# md5 before. The public-key fingerprint (Postfix >= 2.9) still matches after the\n"
         "# certificate is re-issued for the same key.\n"
         "#\n"
         "# Every line that does not start with '#' is a ready relay_clientcerts entry\n"
         "# (lookup key = fingerprint, value = a note). For example, to permit client1:\n"
         "#   smtpd_tls_ask_ccert = yes\n"
         "#   smtpd_tls_fingerprint_digest = sha256\n"
         "#   relay_clientcerts = hash:/etc/postfix/relay_clientcerts\n"
         "#   smtpd_relay_restrictions = permit_mynetworks, permit_tls_clientcerts,\n"
         "#       defer_unauth_destination\n"
         "# then copy client1's \"sha256 cert\" line into /etc/postfix/relay_clientcerts and\n"
         "# run postmap on it.\n";
  struct digest_row {
    digest_kind kind;
    std::string fingerprint_set::*cert;
    std::string fingerprint_set::*pubkey;
    std::string_view note;
  };
  static constexpr std::array<digest_row, 3> rows = {{
      {digest_kind::sha256, &fingerprint_set::cert_sha256, &fingerprint_set::pubkey_sha256,
       "Postfix default at compatibility_level >= 3.6"},
      {digest_kind::sha1, &fingerprint_set::cert_sha1, &fingerprint_set::pubkey_sha1, ""},
      {digest_kind::md5, &fingerprint_set::cert_md5, &fingerprint_set::pubkey_md5,
       "Postfix default before compatibility_level 3.6"},
  }};
  for (const std::string& name : ordered_names(pki)) {
    const issued_cert& ic = pki.at(name);
    const x509_ptr cert = first_cert(ic);
    out << "\n# " << name << "\n";
    if (!ic.purpose.empty()) {
      out << "#   purpose   " << ic.purpose << "\n";
    }
    out << "#   subject   " << name_to_rfc2253(X509_get_subject_name(cert.get())) << "\n"
        << "#   issuer    " << name_to_rfc2253(X509_get_issuer_name(cert.get())) << "\n"
        << "#   validity  " << time_to_iso8601(X509_get0_notBefore(cert.get())) << " to "
        << time_to_iso8601(X509_get0_notAfter(cert.get())) << "\n";
    for (const digest_row& row : rows) {
      out << "#   " << to_string(row.kind);
      if (!row.note.empty()) {
        out << " (" << row.note << ")";
      }
      out << "\n"
          << ic.fingerprints.*row.cert << "  " << name << " " << to_string(row.kind) << " cert\n"
          << ic.fingerprints.*row.pubkey << "  " << name << " " << to_string(row.kind)
          << " pubkey\n";
    }
  }
  return std::move(out).str();
}

}  // namespace smtpsim::tls
