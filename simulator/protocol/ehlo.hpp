#pragma once
// The EHLO reply as a list of service extensions (RFC 5321 §4.1.1.1, ehlo-ok-rsp).

#include <string>
#include <string_view>
#include <vector>

#include "simulator/protocol/reply.hpp"

namespace smtpsim::protocol {

struct ehlo_extension {
  std::string keyword;              // upper-cased
  std::vector<std::string> params;  // space-separated parameters as sent
  std::string line;                 // the whole line text as sent
  friend bool operator==(const ehlo_extension&, const ehlo_extension&) = default;
};

struct ehlo_info {
  std::string domain;    // the first word of the first line
  std::string greeting;  // the rest of the first line
  std::vector<ehlo_extension> extensions;

  // first_line_is_keyword is set when the first line looks like an extension keyword rather
  // than a domain (e.g. "250-STARTTLS" first; Cisco doc 212587, check broken.srv-ehlo-grammar).
  bool first_line_is_keyword = false;
  bool duplicate_keywords = false;

  // has returns true if `keyword` (case-insensitive) is listed.
  bool has(std::string_view keyword) const;
  // find returns the extension or nullptr.
  const ehlo_extension* find(std::string_view keyword) const;
  // keywords returns the upper-cased keywords in order.
  std::vector<std::string> keywords() const;
  friend bool operator==(const ehlo_info&, const ehlo_info&) = default;
};

// parse_ehlo reads the extension list from a 250 EHLO reply. It never fails: anomalies are
// flagged. A single-line reply has no extensions. The first line is always taken as
// "domain greeting" (ehlo-ok-rsp, RFC 5321 §4.1.1.1), even when first_line_is_keyword is set: a
// keyword there is not listed in `extensions` (clients that follow the grammar miss it too).
// Lines with no text are skipped. Never throws on peer input (only std::bad_alloc); allocates at
// most a few times the size of the reply, itself bounded by reply_limits.
ehlo_info parse_ehlo(const reply& r);

// format_ehlo builds an EHLO reply: first line "domain greeting" (or "domain" when the greeting
// is empty), then one line per extension, code 250, CRLF line ends.
std::string format_ehlo(std::string_view domain, std::string_view greeting,
                        const std::vector<std::string>& extension_lines);

}  // namespace smtpsim::protocol
