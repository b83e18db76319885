#pragma once
// The named faults of the reference SMTP client. Each one breaks exactly one client-side
// behaviour of checks.md Part B, so that a faulty variant proves a client scenario can fail
// (style.md §7.3, §7.5). The empty set is the conformant client.

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace smtpsim::reference::client {

// client_fault names one deliberate misbehaviour of the reference client.
enum class client_fault : std::uint8_t {
  reads_forged_replies,
  no_ehlo_after_tls,
  auth_before_tls,
  plaintext_fallback,
  accepts_any_cert,
  nested_starttls,
  starttls_ehlo_one_segment,
  starttls_argument,
  no_close_notify,
  pipelines_without_advert,
  plain_on_unverified_cert,
};

// client_fault_count is the number of enumerators of client_fault.
inline constexpr std::size_t client_fault_count =
    static_cast<std::size_t>(client_fault::plain_on_unverified_cert) + 1;

// client_fault_info is one row of the catalogue: the fault, its kebab-case name and the
// sentence "<name>, if set, causes the client to ...".
struct client_fault_info {
  client_fault id;
  std::string_view name;
  std::string_view sentence;
  std::string_view checks;  // the catalogue rows (checks.md Part B) it is meant to fail
};

// all_client_faults lists every fault in declaration order (`smtpsim send --list-faults`).
std::span<const client_fault_info> all_client_faults();

// to_string returns the kebab-case name of `f`, e.g. "reads-forged-replies".
std::string_view to_string(client_fault f);

// describe returns the one-sentence description of `f`.
std::string_view describe(client_fault f);

// parse_client_fault accepts a name in kebab-case or snake_case, case-insensitively
// ("no-close-notify", "NO_CLOSE_NOTIFY"). Returns nullopt for an unknown name.
std::optional<client_fault> parse_client_fault(std::string_view name);

// client_fault_set is a set of faults; the empty set is the conformant client.
class client_fault_set {
 public:
  client_fault_set() = default;
  client_fault_set(
      std::initializer_list<client_fault> faults);  // NOLINT(google-explicit-constructor)

  bool has(client_fault f) const { return bits_.test(static_cast<std::size_t>(f)); }
  client_fault_set& set(client_fault f, bool on = true) {
    bits_.set(static_cast<std::size_t>(f), on);
    return *this;
  }
  bool empty() const { return bits_.none(); }
  std::size_t size() const { return bits_.count(); }
  std::vector<client_fault> list() const;
  friend bool operator==(const client_fault_set&, const client_fault_set&) = default;

 private:
  std::bitset<client_fault_count> bits_;
};

}  // namespace smtpsim::reference::client
