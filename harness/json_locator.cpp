#include "harness/json_locator.hpp"

#include <set>

namespace smtpsim::harness {

std::size_t overflow_offset(std::string_view what, std::string_view text) {
  const std::size_t open = what.find('\'');
  const std::size_t close = what.rfind('\'');
  if (open == std::string_view::npos || close <= open + 1) {
    return 0;
  }
  const std::size_t at = text.find(what.substr(open + 1, close - open - 1));
  return at == std::string_view::npos ? 0 : at;
}

text_position position_of_offset(std::string_view text, std::size_t offset) {
  text_position p;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

json_locator::json_locator(std::string_view text) : text_(text) {
  skip_ws();
  if (pos_ < text_.size()) {
    scan_value("");
  }
}

void json_locator::skip_ws() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                 text_[pos_] == '\r')) {
    ++pos_;
  }
}

std::string json_locator::scan_string() {
  // The text is known to be valid JSON: decode only what a member name needs (escapes of '"'
  // and '\'); other escapes are kept verbatim, which is enough to build pointers.
  std::string out;
  ++pos_;  // opening quote
  while (pos_ < text_.size() && text_[pos_] != '"') {
    if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
      const char e = text_[pos_ + 1];
      if (e == '"' || e == '\\' || e == '/') {
        out += e;
      } else {
        out += text_.substr(pos_, 2);
      }
      pos_ += 2;
      continue;
    }
    out += text_[pos_++];
  }
  ++pos_;  // closing quote
  return out;
}

void json_locator::scan_value(const std::string& pointer) {
  skip_ws();
  if (pos_ >= text_.size()) {
    return;
  }
  if (depth_ >= max_depth) {
    // Deeper values fall back to their ancestor's position; recursion stays bounded.
    pos_ = text_.size();
    return;
  }
  const struct depth_guard {
    int& d;
    explicit depth_guard(int& depth) : d(++depth) {}
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
    ~depth_guard() { --d; }
  } guard{depth_};
  values_.emplace(pointer, pos_);
  const char c = text_[pos_];
  if (c == '{') {
    scan_object(pointer);
  } else if (c == '[') {
    scan_array(pointer);
  } else if (c == '"') {
    scan_string();
  } else {
    // A scalar, or a stray character of invalid text: always move on by at least one byte, or
    // the enclosing object/array loop would spin on it forever.
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']' &&
           text_[pos_] != ' ' && text_[pos_] != '\n' && text_[pos_] != '\r' &&
           text_[pos_] != '\t') {
      ++pos_;
    }
  }
}

void json_locator::scan_object(const std::string& pointer) {
  ++pos_;  // '{'
  std::set<std::string> seen;
  while (true) {
    skip_ws();
    if (pos_ >= text_.size()) {
      return;
    }
    if (text_[pos_] == '}') {
      ++pos_;
      return;
    }
    if (text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    const std::size_t key_at = pos_;
    const std::string key = scan_string();
    const std::string child = pointer + "/" + escape_pointer_token(key);
    if (!seen.insert(key).second) {
      duplicates_.push_back(duplicate{child, position_of_offset(text_, key_at)});
    } else {
      keys_.emplace(child, key_at);
    }
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
    }
    scan_value(child);
  }
}

void json_locator::scan_array(const std::string& pointer) {
  ++pos_;  // '['
  std::size_t index = 0;
  while (true) {
    skip_ws();
    if (pos_ >= text_.size()) {
      return;
    }
    if (text_[pos_] == ']') {
      ++pos_;
      return;
    }
    if (text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    scan_value(pointer + "/" + std::to_string(index++));
  }
}

text_position json_locator::value_position(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    auto it = values_.find(p);
    if (it != values_.end()) {
      return position_of_offset(text_, it->second);
    }
    const std::size_t slash = p.rfind('/');
    if (slash == std::string::npos) {
      return text_position{};
    }
    p.resize(slash);
  }
}

text_position json_locator::key_position(const std::string& pointer) const {
  auto it = keys_.find(pointer);
  if (it != keys_.end()) {
    return position_of_offset(text_, it->second);
  }
  return value_position(pointer);
}

}  // namespace smtpsim::harness
