// Checked access to fields of a message header. Every message comes from the
// network and may lie about anything: these return nothing unless the field
// exists, has the right type, and is within bounds.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2pnet::fields {

inline std::optional<std::string> string(const nlohmann::json& object, std::string_view key,
                                         size_t max_length) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  const auto& value = it->get_ref<const std::string&>();
  if (value.size() > max_length) return std::nullopt;
  return value;
}

inline std::optional<int64_t> integer(const nlohmann::json& object, std::string_view key, int64_t min,
                                      int64_t max) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  int64_t value = 0;
  if (it->is_number_integer())
    value = it->get<int64_t>();
  else if (it->is_number_unsigned() && it->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))
    value = static_cast<int64_t>(it->get<uint64_t>());
  else
    return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

// An array field with at most max_items elements (elements are unchecked).
inline const nlohmann::json* array(const nlohmann::json& object, std::string_view key, size_t max_items) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array() || it->size() > max_items) return nullptr;
  return &*it;
}

}  // namespace p2pnet::fields
