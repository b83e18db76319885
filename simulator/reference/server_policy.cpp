#include "simulator/reference/server_policy.hpp"

namespace smtpsim::reference {

std::string_view to_string(listener_kind k) {
  switch (k) {
    case listener_kind::starttls:
      return "starttls";
    case listener_kind::wrapper:
      return "wrapper";
    case listener_kind::plaintext:
      return "plaintext";
  }
  return "unknown";
}

}  // namespace smtpsim::reference
