#pragma once
// The named faults of the reference server. Each one breaks exactly one behaviour, so that a
// faulty variant proves a scenario can fail (architecture.md, "reference peers"; style.md §7.3:
// "give each misbehaviour a name and a sentence", as BoringSSL's ProtocolBugs do).

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace smtpsim::reference {

// fault names one deliberate misbehaviour. describe() gives its sentence.
enum class fault : std::uint8_t {
  execute_pipelined_after_starttls,
  readvertise_starttls,
  accept_nested_starttls,
  keep_ehlo_across_tls,
  remember_auth_across_tls,
  accept_starttls_argument,
  starttls_keyword_with_params,
  helo_returns_extensions,
  starttls_502,
  starttls_220_then_drop,
  plaintext_after_failed_handshake,
  tls_required_accepts_mail,
  require_tls_on_mx,
  tls_unavailable_554,
  accept_without_client_cert,
  starttls_keeps_envelope,
  received_uses_first_ehlo,
  received_without_tls,
  greet_plaintext_on_wrapper,
  wrapper_answers_plaintext,
  omit_close_notify,
  hang_on_starttls_before_ehlo,
  reply_before_greeting,
  auth_in_plaintext,
  auth_failure_wrong_status,
  auth_cancel_535,
  decode_auth_leniently,
  cram_md5_takes_initial_response,
  allow_second_auth,
  allow_auth_in_transaction,
  unbounded_auth_line,
  auth_required_accepts_mail,
  drop_after_first_auth_failure,
  open_relay,
  refuse_null_sender,
  lf_dot_lf_ends_data,
  cr_dot_ends_data,
  nul_dot_ends_data,
  extra_cr_ends_data,
  short_command_limit,
  short_local_part_limit,
  execute_overlong_tail,
  two_replies_to_one_command,
  split_long_text_lines,
  refuse_recipients_past_50,
  bare_lf_ends_command,
  strip_nul_in_command,
  drop_on_lone_cr_in_command,
  accept_8bit_envelope,
  case_sensitive_verbs,
  drop_at_error_limit,
  rset_closes,
  quit_keeps_connection,
  noop_refuses_argument,
  hang_on_http_request,
  reorder_pipelined_replies,
  answer_first_pipelined_command_only,
  hold_replies_after_pipelining,
  sync_error_on_auth_initial_response,
  middlebox_masks_starttls,
  ehlo_keyword_first,
  bdat_chunk_as_data,
  relay_any_client_cert,
  ignore_pubkey_fingerprint,
  ccert_relay_requires_trusted_ca,
  accept_untrusted_client_cert,
  ccert_relay_remembers_sender,
  ccert_relay_keeps_injected_commands,
  skip_client_cert_request,
  md5_client_cert_fingerprints,
  accept_legacy_tls,
  send_leaf_without_chain,
  serve_expired_cert,
  serve_wrong_name_cert,
  serve_client_auth_only_cert,
  abort_on_unknown_sni,
  abort_without_sni,
  ignore_sni_chain,
};

// fault_count is the number of enumerators of `fault`.
inline constexpr std::size_t fault_count = static_cast<std::size_t>(fault::ignore_sni_chain) + 1;

// fault_info is one row of the fault catalogue: the fault, its snake_case name and the sentence
// "<name>, if set, causes the server to ...".
struct fault_info {
  fault id;
  std::string_view name;
  std::string_view sentence;
};

// all_faults lists every fault in declaration order (for `smtpsim serve --list-faults`).
std::span<const fault_info> all_faults();

// to_string returns the snake_case name of `f`, e.g. "omit_close_notify".
std::string_view to_string(fault f);

// describe returns the one-sentence description of `f`.
std::string_view describe(fault f);

// parse_fault accepts a fault name in snake_case or kebab-case, case-insensitively
// ("omit-close-notify" and "OMIT_CLOSE_NOTIFY" both work). Returns nullopt for an unknown name.
std::optional<fault> parse_fault(std::string_view name);

// fault_set is a set of faults; the empty set is the conformant server.
class fault_set {
 public:
  fault_set() = default;
  fault_set(std::initializer_list<fault> faults);  // NOLINT(google-explicit-constructor)

  bool has(fault f) const { return bits_.test(static_cast<std::size_t>(f)); }
  fault_set& set(fault f, bool on = true) {
    bits_.set(static_cast<std::size_t>(f), on);
    return *this;
  }
  bool empty() const { return bits_.none(); }
  std::size_t size() const { return bits_.count(); }
  // list returns the faults in the set in declaration order.
  std::vector<fault> list() const;

  fault_set& operator|=(const fault_set& other) {
    bits_ |= other.bits_;
    return *this;
  }
  friend fault_set operator|(fault_set a, const fault_set& b) { return a |= b; }
  friend bool operator==(const fault_set&, const fault_set&) = default;

 private:
  std::bitset<fault_count> bits_;
};

}  // namespace smtpsim::reference
