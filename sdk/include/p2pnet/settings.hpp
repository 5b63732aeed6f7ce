// Reads a plugin's table from node.toml (handed to on_load as JSON) with
// types and bounds checked, so a bad value stops start-up with a message that
// names the key, and an unknown key is reported instead of silently ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace p2pnet {

class Settings {
 public:
  Settings(const nlohmann::json& table, std::string plugin_name)
      : table_(table.is_object() ? table : nlohmann::json::object()), prefix_("plugins." + plugin_name + ".") {}

  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
    const auto* value = find(key);
    if (!value) return fallback;
    if (!value->is_number_integer() || value->get<int64_t>() < min || value->get<int64_t>() > max)
      fail(key, "an integer from " + std::to_string(min) + " to " + std::to_string(max), *value);
    return value->get<int64_t>();
  }
  double number(const std::string& key, double fallback, double min, double max) {
    const auto* value = find(key);
    if (!value) return fallback;
    if (!value->is_number() || value->get<double>() < min || value->get<double>() > max)
      fail(key, "a number from " + std::to_string(min) + " to " + std::to_string(max), *value);
    return value->get<double>();
  }
  bool boolean(const std::string& key, bool fallback) {
    const auto* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) fail(key, "true or false", *value);
    return value->get<bool>();
  }
  std::string string(const std::string& key, const std::string& fallback, size_t max_length = 4096) {
    const auto* value = find(key);
    if (!value) return fallback;
    if (!value->is_string() || value->get_ref<const std::string&>().size() > max_length)
      fail(key, "a string of at most " + std::to_string(max_length) + " bytes", *value);
    return value->get<std::string>();
  }
  std::vector<std::string> strings(const std::string& key, const std::vector<std::string>& fallback) {
    const auto* value = find(key);
    if (!value) return fallback;
    std::vector<std::string> out;
    if (!value->is_array()) fail(key, "an array of strings", *value);
    for (const auto& item : *value) {
      if (!item.is_string()) fail(key, "an array of strings", *value);
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // Keys present in the table that no accessor asked for.
  std::vector<std::string> unknown_keys() const {
    std::vector<std::string> out;
    for (const auto& item : table_.items())
      if (!read_.count(item.key())) out.push_back(prefix_ + item.key());
    return out;
  }

 private:
  const nlohmann::json* find(const std::string& key) {
    read_.insert(key);
    auto it = table_.find(key);
    return it == table_.end() ? nullptr : &*it;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& expected, const nlohmann::json& got) {
    std::string shown = got.dump();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    throw std::invalid_argument(prefix_ + key + ": expected " + expected + ", got " + shown);
  }

  nlohmann::json table_;
  std::string prefix_;
  std::set<std::string> read_;
};

}  // namespace p2pnet
