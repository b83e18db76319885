#pragma once
// json_locator maps JSON pointers to line:column positions in a JSON text, so configuration
// errors can name the exact place (nlohmann/json 3.11 keeps no positions). It also finds
// duplicate object keys, which nlohmann silently collapses.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace smtpsim::harness {

struct text_position {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in octets
};

// position_of_offset converts a byte offset into line:column.
text_position position_of_offset(std::string_view text, std::size_t offset);

// overflow_offset: nlohmann's parser rejects a number too large for a double with out_of_range
// 406 ("number overflow parsing '1e999'"), which carries no position. This is the offset of
// that number in `text` (the first occurrence of the quoted part of `what`), else 0.
std::size_t overflow_offset(std::string_view what, std::string_view text);

class json_locator {
 public:
  // json_locator scans `text`, which must be valid JSON (parse it with nlohmann first).
  explicit json_locator(std::string_view text);

  // value_position is where the value at `pointer` starts; for a pointer that does not exist,
  // the nearest existing ancestor's position.
  text_position value_position(const std::string& pointer) const;
  // key_position is where the member name of `pointer` starts (objects); else value_position.
  text_position key_position(const std::string& pointer) const;

  // duplicate is a member name that appears again in the same object: its pointer and where
  // the repeated occurrence starts.
  struct duplicate {
    std::string pointer;
    text_position where;
  };
  const std::vector<duplicate>& duplicate_keys() const { return duplicates_; }

 private:
  void scan_value(const std::string& pointer);
  void scan_object(const std::string& pointer);
  void scan_array(const std::string& pointer);
  std::string scan_string();
  void skip_ws();

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  static constexpr int max_depth = 256;
  std::map<std::string, std::size_t> values_;
  std::map<std::string, std::size_t> keys_;
  std::vector<duplicate> duplicates_;
};

// escape_pointer_token escapes '~' and '/' in a member name (RFC 6901).
std::string escape_pointer_token(std::string_view token);

}  // namespace smtpsim::harness
