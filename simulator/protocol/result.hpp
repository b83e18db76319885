#pragma once
// result<T>: a value or a protocol error code. Parsers of peer bytes return it instead of throwing.

#include <cassert>
#include <utility>
#include <variant>

#include "simulator/protocol/errc.hpp"

namespace smtpsim::protocol {

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  result(errc e) : v_(e) {}                  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // error returns the error code; errc::ok when a value is held.
  errc error() const { return has_value() ? errc::ok : std::get<1>(v_); }

 private:
  std::variant<T, errc> v_;
};

}  // namespace smtpsim::protocol
