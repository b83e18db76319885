#include "simulator/script/verdict.hpp"

#include <array>
#include <string>

#include "simulator/protocol/text.hpp"

namespace smtpsim::script {

namespace {
constexpr std::array<std::string_view, 8> names = {"PASS", "FAIL",  "WARN",  "INFO",
                                                   "SKIP", "ERROR", "XFAIL", "XPASS"};
}  // namespace

std::string_view to_string(verdict v) { return names.at(static_cast<std::size_t>(v)); }

std::optional<verdict> parse_verdict(std::string_view text) {
  const std::string upper = protocol::ascii_upper(text);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == upper) {
      return static_cast<verdict>(i);
    }
  }
  return std::nullopt;
}

int severity(verdict v) {
  switch (v) {
    case verdict::pass:
      return 0;
    case verdict::skip:
      return 1;
    case verdict::info:
      return 2;
    case verdict::xfail:
      return 3;
    case verdict::warn:
      return 4;
    case verdict::error:
      return 5;
    case verdict::fail:
    case verdict::xpass:
      return 6;
  }
  return 6;
}

verdict worst(verdict a, verdict b) { return severity(b) > severity(a) ? b : a; }

bool is_judged(verdict v) { return v != verdict::skip && v != verdict::error; }

}  // namespace smtpsim::script
