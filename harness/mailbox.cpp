#include "harness/mailbox.hpp"

namespace smtpsim::harness {

void mailbox::add(std::string message) {
  const std::lock_guard<std::mutex> lock(mu_);
  messages_.push_back(std::move(message));
  while (messages_.size() > max_messages_) {
    messages_.pop_front();
  }
}

std::vector<std::string> mailbox::messages_with(std::string_view token) {
  const std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& m : messages_) {
    if (m.find(token) != std::string::npos) {
      out.push_back(m);
    }
  }
  return out;
}

std::size_t mailbox::size() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return messages_.size();
}

}  // namespace smtpsim::harness
