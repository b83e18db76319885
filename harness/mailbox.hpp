#pragma once
// mailbox is the harness's delivery sink: messages a target delivered, searchable by the token
// a scenario put in them. Thread-safe (the reference server delivers on its own thread).
// Bounded: past max_messages the oldest are dropped.

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/engine/client_engine.hpp"

namespace smtpsim::harness {

class mailbox : public engine::delivery_source {
 public:
  explicit mailbox(std::size_t max_messages = 10000) : max_messages_(max_messages) {}

  void add(std::string message);
  std::vector<std::string> messages_with(std::string_view token) override;
  std::size_t size() const;

 private:
  std::size_t max_messages_;
  mutable std::mutex mu_;
  std::deque<std::string> messages_;
};

}  // namespace smtpsim::harness
