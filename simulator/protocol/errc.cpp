#include "simulator/protocol/errc.hpp"

#include <string>

namespace smtpsim::protocol {

std::string_view to_string(errc e) {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::incomplete:
      return "incomplete";
    case errc::line_too_long:
      return "line too long";
    case errc::reply_bad_code:
      return "bad reply code";
    case errc::reply_bad_separator:
      return "bad reply separator";
    case errc::reply_too_many_lines:
      return "too many reply lines";
    case errc::reply_too_large:
      return "reply too large";
    case errc::command_empty:
      return "empty command";
    case errc::command_syntax:
      return "command syntax error";
    case errc::path_syntax:
      return "path syntax error";
    case errc::path_not_null:
      return "null path not allowed";
    case errc::esc_syntax:
      return "enhanced status code syntax error";
    case errc::data_too_large:
      return "message too large";
  }
  return "unknown protocol error";
}

namespace {

// protocol_category_impl names errc values for std::error_code.
class protocol_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smtpsim.protocol"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<errc>(value)));
  }
};

}  // namespace

const std::error_category& protocol_category() {
  static const protocol_category_impl category;
  return category;
}

std::error_code make_error_code(errc e) { return {static_cast<int>(e), protocol_category()}; }

}  // namespace smtpsim::protocol
