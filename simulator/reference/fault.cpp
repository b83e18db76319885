#include "simulator/reference/fault.hpp"

#include <array>
#include <string>

namespace smtpsim::reference {
namespace {

constexpr std::array<fault_info, fault_count> catalogue{{
    {fault::execute_pipelined_after_starttls, "execute_pipelined_after_starttls",
     "execute_pipelined_after_starttls, if set, causes the server to keep the plaintext commands "
     "pipelined after STARTTLS (also those arriving within 50 ms of its 220) and execute them "
     "inside TLS (CVE-2011-0411)."},
    {fault::readvertise_starttls, "readvertise_starttls",
     "readvertise_starttls, if set, causes the server to list STARTTLS in its EHLO reply while "
     "TLS is already active, also inside the wrapper (RFC 3207 §4.2)."},
    {fault::accept_nested_starttls, "accept_nested_starttls",
     "accept_nested_starttls, if set, causes the server to answer 220 to a STARTTLS sent inside "
     "TLS and then, expecting a nested handshake, fail and close on whatever follows."},
    {fault::keep_ehlo_across_tls, "keep_ehlo_across_tls",
     "keep_ehlo_across_tls, if set, causes the server to remember the EHLO/HELO across the TLS "
     "handshake, so MAIL is accepted without a new EHLO (RFC 3207 §4.2)."},
    {fault::remember_auth_across_tls, "remember_auth_across_tls",
     "remember_auth_across_tls, if set, causes the server to keep a SASL login made in plaintext "
     "across the TLS handshake (on a listener that allows plaintext AUTH)."},
    {fault::accept_starttls_argument, "accept_starttls_argument",
     "accept_starttls_argument, if set, causes the server to answer 220 to a STARTTLS with an "
     "argument (e.g. `STARTTLS x`) and start TLS, instead of 501 (RFC 3207 §4)."},
    {fault::starttls_keyword_with_params, "starttls_keyword_with_params",
     "starttls_keyword_with_params, if set, causes the server to advertise the STARTTLS keyword "
     "with a parameter (`STARTTLS REQUIRED`), which RFC 3207 §3 forbids."},
    {fault::helo_returns_extensions, "helo_returns_extensions",
     "helo_returns_extensions, if set, causes the server to answer HELO with the multi-line EHLO "
     "extension list (RFC 5321 §3.2)."},
    {fault::starttls_502, "starttls_502",
     "starttls_502, if set, causes the server to advertise STARTTLS but answer the command with "
     "502 5.5.1 Command not implemented."},
    {fault::starttls_220_then_drop, "starttls_220_then_drop",
     "starttls_220_then_drop, if set, causes the server to answer 220 to STARTTLS and then close "
     "the TCP connection without a handshake."},
    {fault::plaintext_after_failed_handshake, "plaintext_after_failed_handshake",
     "plaintext_after_failed_handshake, if set, causes the server to go back to plaintext SMTP "
     "and execute the client's bytes when they are plaintext instead of a ClientHello after the "
     "220 to STARTTLS (RFC 3207 §4.1)."},
    {fault::tls_required_accepts_mail, "tls_required_accepts_mail",
     "tls_required_accepts_mail, if set, causes the server to accept MAIL before TLS on a "
     "listener that requires TLS."},
    {fault::require_tls_on_mx, "require_tls_on_mx",
     "require_tls_on_mx, if set, causes the server to answer MAIL before TLS with 530 5.7.0 on a "
     "publicly referenced MX listener (RFC 3207 §4 forbids requiring STARTTLS there)."},
    {fault::tls_unavailable_554, "tls_unavailable_554",
     "tls_unavailable_554, if set, causes the server to answer STARTTLS on a listener whose TLS "
     "is unavailable with the permanent 554 5.7.0 TLS not available instead of 454."},
    {fault::accept_without_client_cert, "accept_without_client_cert",
     "accept_without_client_cert, if set, causes the server to carry on normally on a listener "
     "that requires a client certificate when none was presented."},
    {fault::starttls_keeps_envelope, "starttls_keeps_envelope",
     "starttls_keeps_envelope, if set, causes the server to keep a mail transaction begun before "
     "STARTTLS across the handshake and the next EHLO, so a RCPT sent inside TLS joins it."},
    {fault::received_uses_first_ehlo, "received_uses_first_ehlo",
     "received_uses_first_ehlo, if set, causes the server to name the first (pre-TLS) EHLO "
     "argument in the Received header instead of the current one."},
    {fault::received_without_tls, "received_without_tls",
     "received_without_tls, if set, causes the server to write `with ESMTP` (or ESMTPA) in the "
     "Received header even when the message came over TLS (RFC 3848)."},
    {fault::greet_plaintext_on_wrapper, "greet_plaintext_on_wrapper",
     "greet_plaintext_on_wrapper, if set, causes the server to send its 220 greeting in plaintext "
     "before the TLS handshake on a wrapper listener (RFC 8314 §3.3)."},
    {fault::wrapper_answers_plaintext, "wrapper_answers_plaintext",
     "wrapper_answers_plaintext, if set, causes the server to serve plaintext SMTP (greeting and "
     "replies) on a wrapper listener when the client's first bytes are not a TLS record."},
    {fault::omit_close_notify, "omit_close_notify",
     "omit_close_notify, if set, causes the server to close TCP after its 221 to QUIT inside TLS "
     "without sending a TLS close_notify (RFC 8314 §3.4)."},
    {fault::hang_on_starttls_before_ehlo, "hang_on_starttls_before_ehlo",
     "hang_on_starttls_before_ehlo, if set, causes the server to never answer a STARTTLS sent "
     "before any EHLO/HELO, leaving the connection open and silent."},
    {fault::reply_before_greeting, "reply_before_greeting",
     "reply_before_greeting, if set, causes the server to hold its greeting for 200 ms and answer "
     "the commands received meanwhile before the 220 greeting (replies out of order)."},
    {fault::auth_in_plaintext, "auth_in_plaintext",
     "auth_in_plaintext, if set, causes the server to advertise and accept AUTH before TLS on "
     "every listener, checking credentials sent in the clear (smtpd_tls_auth_only = no; "
     "RFC 4954 §4)."},
    {fault::auth_failure_wrong_status, "auth_failure_wrong_status",
     "auth_failure_wrong_status, if set, causes the server to answer bad credentials with "
     "535 5.7.1 instead of 535 5.7.8 (RFC 4954 §6)."},
    {fault::auth_cancel_535, "auth_cancel_535",
     "auth_cancel_535, if set, causes the server to take a client's `*` (cancel) as failed "
     "credentials and answer 535 instead of 501 (RFC 4954 §4)."},
    {fault::decode_auth_leniently, "decode_auth_leniently",
     "decode_auth_leniently, if set, causes the server to decode AUTH responses leniently, "
     "skipping characters outside the base64 alphabet and misplaced padding, so that `=AAA`, "
     "`AAA=BBB` and `!!!!` are checked as credentials (535) instead of refused with 501 "
     "(RFC 4954 §4)."},
    {fault::cram_md5_takes_initial_response, "cram_md5_takes_initial_response",
     "cram_md5_takes_initial_response, if set, causes the server to take an initial response "
     "given with CRAM-MD5 (a server-first mechanism) as the answer to a challenge it never sent, "
     "answering 535 instead of 501 (RFC 4954 §4)."},
    {fault::allow_second_auth, "allow_second_auth",
     "allow_second_auth, if set, causes the server to accept an AUTH after a successful AUTH "
     "and authenticate again instead of answering 503 (RFC 4954 §4)."},
    {fault::allow_auth_in_transaction, "allow_auth_in_transaction",
     "allow_auth_in_transaction, if set, causes the server to accept AUTH during a mail "
     "transaction instead of answering 503 (RFC 4954 §4)."},
    {fault::unbounded_auth_line, "unbounded_auth_line",
     "unbounded_auth_line, if set, causes the server to accept AUTH lines of any length (up to "
     "1 MiB) and check their content as credentials (535) instead of answering 500 5.5.6 "
     "(RFC 4954 §4)."},
    {fault::auth_required_accepts_mail, "auth_required_accepts_mail",
     "auth_required_accepts_mail, if set, causes the server to accept MAIL from a client that "
     "has not authenticated on a listener that requires AUTH, instead of 530 5.7.0 "
     "(RFC 4954 §6)."},
    {fault::drop_after_first_auth_failure, "drop_after_first_auth_failure",
     "drop_after_first_auth_failure, if set, causes the server to answer the first failed AUTH "
     "with 535 and then 421 and close the connection (RFC 4954 §9 asks for at least three "
     "attempts)."},
    {fault::open_relay, "open_relay",
     "open_relay, if set, causes the server to accept and deliver RCPT to any domain, routing "
     "forms (%, !, quoted @, source routes, address literals) included, from any client "
     "(RFC 2505 §2.1)."},
    {fault::refuse_null_sender, "refuse_null_sender",
     "refuse_null_sender, if set, causes the server to refuse the null reverse-path "
     "`MAIL FROM:<>` with 553 5.1.7 (RFC 5321 §4.5.5, RFC 2505 §2.6.1)."},
    {fault::lf_dot_lf_ends_data, "lf_dot_lf_ends_data",
     "lf_dot_lf_ends_data, if set, causes the server to take `<LF>.<LF>` and `<LF>.<CR><LF>` "
     "(the LF not preceded by CR) as the end of DATA and execute what follows as commands "
     "(CVE-2023-51764/5/6; RFC 5321 §2.3.8)."},
    {fault::cr_dot_ends_data, "cr_dot_ends_data",
     "cr_dot_ends_data, if set, causes the server to take `<CR>.<CR>`, `<CR>.<LF>`, `<LF>.<CR>` "
     "and `<CR>.<CR><LF>` (each CR and LF not part of a CRLF) as the end of DATA and execute "
     "what follows as commands (RFC 5321 §2.3.8)."},
    {fault::nul_dot_ends_data, "nul_dot_ends_data",
     "nul_dot_ends_data, if set, causes the server to drop a NUL before looking for the end of "
     "DATA, so `<CR><LF><NUL>.<CR><LF>` ends it and what follows is executed as commands."},
    {fault::extra_cr_ends_data, "extra_cr_ends_data",
     "extra_cr_ends_data, if set, causes the server to take `<CR><LF>.<CR><CR><LF>` as the end "
     "of DATA and execute what follows as commands (checks.md smuggle.extra-cr)."},
    {fault::short_command_limit, "short_command_limit",
     "short_command_limit, if set, causes the server to refuse command lines of 512 octets and "
     "more (CRLF included) with 500 5.5.2 Error: command too long, as if its buffer held 510 "
     "octets (RFC 5321 §4.5.3.1.4 asks for at least 512)."},
    {fault::short_local_part_limit, "short_local_part_limit",
     "short_local_part_limit, if set, causes the server to refuse a MAIL FROM local part longer "
     "than 63 octets with 501 5.1.7 (RFC 5321 §4.5.3.1.1 allows 64)."},
    {fault::execute_overlong_tail, "execute_overlong_tail",
     "execute_overlong_tail, if set, causes the server to read commands into a 510-octet buffer "
     "and, when it fills before the CRLF, execute the buffer as one command and the rest of the "
     "line as new commands (RFC 5321 §4.2; checks.md line.cmd-overlong-resync)."},
    {fault::two_replies_to_one_command, "two_replies_to_one_command",
     "two_replies_to_one_command, if set, causes the server to answer a command line that is too "
     "long twice: 500 for its length, then 500 again as if its text were an unknown command (RFC "
     "5321 §4.2: one reply per command)."},
    {fault::split_long_text_lines, "split_long_text_lines",
     "split_long_text_lines, if set, causes the server to split DATA text lines longer than 990 "
     "octets (CRLF not included) with an inserted CRLF, as a 992-octet line buffer would (RFC 5321 "
     "§4.5.3.1.6 asks for 1000 with the CRLF)."},
    {fault::refuse_recipients_past_50, "refuse_recipients_past_50",
     "refuse_recipients_past_50, if set, causes the server to refuse the 51st and later RCPT of a "
     "transaction with 550 5.5.3 Error: too many recipients (RFC 5321 §4.5.3.1.8 asks for 100, and "
     "§4.5.3.1.10 for 452 past the limit)."},
    {fault::bare_lf_ends_command, "bare_lf_ends_command",
     "bare_lf_ends_command, if set, causes the server to take a bare LF as the end of a command "
     "line (RFC 5321 §2.3.8; Postfix smtpd_forbid_bare_newline = normalize)."},
    {fault::strip_nul_in_command, "strip_nul_in_command",
     "strip_nul_in_command, if set, causes the server to drop NUL octets from a command line and "
     "execute what remains, so that `MAIL FROM:<a\\0b@x.test>` is accepted as <ab@x.test> (RFC "
     "5321 §4.1.2)."},
    {fault::drop_on_lone_cr_in_command, "drop_on_lone_cr_in_command",
     "drop_on_lone_cr_in_command, if set, causes the server to close the connection without a "
     "reply when a command line holds a CR that is not part of its CRLF, as a session process "
     "that crashes on it would (RFC 5321 §4.2: every command gets a reply; found by "
     "line.fuzz-grammar)."},
    {fault::accept_8bit_envelope, "accept_8bit_envelope",
     "accept_8bit_envelope, if set, causes the server to accept 8-bit octets in MAIL and RCPT "
     "addresses without SMTPUTF8 instead of 500 5.5.2 (RFC 5321 §2.4)."},
    {fault::case_sensitive_verbs, "case_sensitive_verbs",
     "case_sensitive_verbs, if set, causes the server to recognise command verbs in upper case "
     "only, answering 500 to `ehlo` or `StartTls` (RFC 5321 §2.4: verbs are case-insensitive)."},
    {fault::drop_at_error_limit, "drop_at_error_limit",
     "drop_at_error_limit, if set, causes the server to close the connection without the 421 reply "
     "when the client reaches the error limit (RFC 5321 §3.8: close only after 421 or QUIT)."},
    {fault::rset_closes, "rset_closes",
     "rset_closes, if set, causes the server to answer RSET outside a mail transaction with 250 "
     "and then close the connection (RFC 5321 §4.1.1.5)."},
    {fault::quit_keeps_connection, "quit_keeps_connection",
     "quit_keeps_connection, if set, causes the server to answer QUIT with 221 and leave the "
     "connection open (RFC 5321 §4.1.1.10: it then closes)."},
    {fault::noop_refuses_argument, "noop_refuses_argument",
     "noop_refuses_argument, if set, causes the server to answer NOOP with an argument with 501 "
     "instead of ignoring the argument (RFC 5321 §4.1.1.9)."},
    {fault::hang_on_http_request, "hang_on_http_request",
     "hang_on_http_request, if set, causes the server to stop answering, and leave the connection "
     "open, when a command line looks like an HTTP request (`GET `, `POST `, `HEAD `)."},
    {fault::reorder_pipelined_replies, "reorder_pipelined_replies",
     "reorder_pipelined_replies, if set, causes the server to write the replies to the commands "
     "that arrived in one read in reverse order (RFC 2920 §3.2: replies go out in the order of "
     "the commands)."},
    {fault::answer_first_pipelined_command_only, "answer_first_pipelined_command_only",
     "answer_first_pipelined_command_only, if set, causes the server to execute and answer only "
     "the first command of each read and throw away the rest of that read's input (RFC 2920 "
     "§3.2: the input buffer is never flushed or lost)."},
    {fault::hold_replies_after_pipelining, "hold_replies_after_pipelining",
     "hold_replies_after_pipelining, if set, causes the server to hold the replies to a read "
     "that ends with MAIL, RCPT or RSET until more input arrives, once the client has sent two or "
     "more commands in one read (RFC 2920 §3.2: pending replies go out when the input buffer is "
     "empty)."},
    {fault::sync_error_on_auth_initial_response, "sync_error_on_auth_initial_response",
     "sync_error_on_auth_initial_response, if set, causes the server to answer an AUTH with an "
     "initial response that has more commands pipelined behind it with 554 5.5.0 Error: SMTP "
     "protocol synchronization and close (RFC 4954 §4 allows that pipelining)."},
    {fault::middlebox_masks_starttls, "middlebox_masks_starttls",
     "middlebox_masks_starttls, if set, causes the server to list STARTTLS as `XXXXXXXA` in its "
     "EHLO reply and answer STARTTLS as an unknown command (500 5.5.2), as a server behind "
     "Cisco ASA/PIX ESMTP inspection does: the middlebox rewrites the verb to X's."},
    {fault::ehlo_keyword_first, "ehlo_keyword_first",
     "ehlo_keyword_first, if set, causes the server to put its first extension keyword "
     "(`250-PIPELINING`) on the first line of its EHLO reply, before the line with its domain "
     "(RFC 5321 §4.1.1.1 ehlo-ok-rsp)."},
    {fault::bdat_chunk_as_data, "bdat_chunk_as_data",
     "bdat_chunk_as_data, if set, causes the server to read a BDAT chunk as DATA content instead "
     "of counting its octets: `<CRLF>.<CRLF>` inside the chunk ends the message and what follows "
     "is executed as commands (RFC 3030 §2; the CHUNKING smuggling of CVE-2023-51766)."},
    {fault::relay_any_client_cert, "relay_any_client_cert",
     "relay_any_client_cert, if set, causes the server to let any client certificate presented "
     "in the handshake relay, listed in relay_clientcerts or not (as Postfix "
     "permit_tls_all_clientcerts would; checks.md ccert.unlisted-denied)."},
    {fault::ignore_pubkey_fingerprint, "ignore_pubkey_fingerprint",
     "ignore_pubkey_fingerprint, if set, causes the server to match relay_clientcerts against the "
     "certificate fingerprint only, so a listed public-key fingerprint never permits relay "
     "(Postfix smtpd_check.c checks the public-key fingerprint first)."},
    {fault::ccert_relay_requires_trusted_ca, "ccert_relay_requires_trusted_ca",
     "ccert_relay_requires_trusted_ca, if set, causes the server to refuse relay to a listed "
     "client certificate that does not verify against its CA file (a self-signed one), although "
     "a fingerprint match needs no trusted CA (Postfix smtpd_check.c)."},
    {fault::accept_untrusted_client_cert, "accept_untrusted_client_cert",
     "accept_untrusted_client_cert, if set, causes the server to carry on normally on a listener "
     "that requires a client certificate when the one presented does not verify against its CA "
     "file (Postfix smtpd_tls_req_ccert: 421 4.7.1 Client certificate not trusted)."},
    {fault::ccert_relay_remembers_sender, "ccert_relay_remembers_sender",
     "ccert_relay_remembers_sender, if set, causes the server to remember the reverse-path of a "
     "transaction that relayed under a listed client certificate and let that sender relay again "
     "later from any connection, plaintext included (permit_tls_clientcerts only applies inside "
     "TLS)."},
    {fault::ccert_relay_keeps_injected_commands, "ccert_relay_keeps_injected_commands",
     "ccert_relay_keeps_injected_commands, if set, causes the server to keep the plaintext "
     "commands pipelined behind STARTTLS when the handshake then presents a client certificate, "
     "and execute them inside TLS under that certificate's relay permission (RFC 3207 §4.2; "
     "CVE-2011-0411)."},
    {fault::skip_client_cert_request, "skip_client_cert_request",
     "skip_client_cert_request, if set, causes the server to send no CertificateRequest on a "
     "listener configured to ask for client certificates (Postfix smtpd_tls_ask_ccert = yes), so "
     "clients present none."},
    {fault::md5_client_cert_fingerprints, "md5_client_cert_fingerprints",
     "md5_client_cert_fingerprints, if set, causes the server to compute client-certificate "
     "fingerprints with md5 while relay_clientcerts lists sha256 ones, so no listed certificate "
     "matches (Postfix smtpd_tls_fingerprint_digest left at md5 below compatibility_level 3.6)."},
    {fault::accept_legacy_tls, "accept_legacy_tls",
     "accept_legacy_tls, if set, causes the server to negotiate TLS 1.0 and TLS 1.1 on every "
     "listener, submission included (RFC 8996, RFC 8997: TLS 1.2 is the floor)."},
    {fault::send_leaf_without_chain, "send_leaf_without_chain",
     "send_leaf_without_chain, if set, causes the server to send its leaf certificate without "
     "the intermediate CA that issued it, so a client with only the roots cannot build the "
     "chain (Postfix TLS_README: leaf first, then the issuing CAs)."},
    {fault::serve_expired_cert, "serve_expired_cert",
     "serve_expired_cert, if set, causes the server to present the test PKI's `expired` "
     "certificate, whose validity ended in the past (RFC 8461 §4.2)."},
    {fault::serve_wrong_name_cert, "serve_wrong_name_cert",
     "serve_wrong_name_cert, if set, causes the server to present the test PKI's `wrong-name` "
     "certificate, issued for wrong-name.test only (RFC 7817, RFC 3207 §4.1)."},
    {fault::serve_client_auth_only_cert, "serve_client_auth_only_cert",
     "serve_client_auth_only_cert, if set, causes the server to present the test PKI's "
     "`client-auth-only` certificate, whose extended key usage is clientAuth only, so it fails "
     "`openssl verify -purpose sslserver`."},
    {fault::abort_on_unknown_sni, "abort_on_unknown_sni",
     "abort_on_unknown_sni, if set, causes the server to abort the handshake with a fatal "
     "unrecognized_name alert when the client's SNI is not one of its names, instead of "
     "continuing with the default chain (postconf smtp_tls_servername)."},
    {fault::abort_without_sni, "abort_without_sni",
     "abort_without_sni, if set, causes the server to abort the handshake with a fatal "
     "unrecognized_name alert when the ClientHello carries no SNI, which Postfix's own client "
     "omits by default."},
    {fault::ignore_sni_chain, "ignore_sni_chain",
     "ignore_sni_chain, if set, causes the server to present its default chain also to a client "
     "that asks for alt.mx.test, the name it holds a chain of its own for (Postfix "
     "tls_server_sni_maps)."},
}};

// The catalogue is indexed by the enumerator's value.
constexpr bool catalogue_in_order() {
  for (std::size_t i = 0; i < catalogue.size(); ++i) {
    if (static_cast<std::size_t>(catalogue[i].id) != i) {
      return false;
    }
  }
  return true;
}
static_assert(catalogue_in_order(), "fault catalogue out of declaration order");

char normalize(char c) {
  if (c == '-') {
    return '_';
  }
  if (c >= 'A' && c <= 'Z') {
    return static_cast<char>(c - 'A' + 'a');
  }
  return c;
}

}  // namespace

std::span<const fault_info> all_faults() { return catalogue; }

std::string_view to_string(fault f) { return catalogue.at(static_cast<std::size_t>(f)).name; }

std::string_view describe(fault f) { return catalogue.at(static_cast<std::size_t>(f)).sentence; }

std::optional<fault> parse_fault(std::string_view name) {
  std::string key;
  key.reserve(name.size());
  for (char c : name) {
    key.push_back(normalize(c));
  }
  for (const fault_info& info : catalogue) {
    if (info.name == key) {
      return info.id;
    }
  }
  return std::nullopt;
}

fault_set::fault_set(std::initializer_list<fault> faults) {
  for (fault f : faults) {
    set(f);
  }
}

std::vector<fault> fault_set::list() const {
  std::vector<fault> out;
  for (const fault_info& info : catalogue) {
    if (has(info.id)) {
      out.push_back(info.id);
    }
  }
  return out;
}

}  // namespace smtpsim::reference
