#include "wire/frame.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace p2pnet::wire;

namespace {

const FrameLimits kLimits{1024, 4096};

std::vector<std::byte> bytes_of(const SharedFrame& frame) {
  auto span = frame.bytes();
  return {span.begin(), span.end()};
}

std::string text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

TEST_CASE("a frame round-trips through encode and decode") {
  auto frame = make_frame(R"({"type":"x"})", std::as_bytes(std::span(std::string_view("body!"))));
  auto data = bytes_of(frame);
  REQUIRE(data.size() == kPrefixSize + 12 + 5);
  auto result = decode_frame(data, kLimits);
  REQUIRE(result.status == DecodeResult::Status::frame);
  CHECK(result.frame.header == R"({"type":"x"})");
  CHECK(text(result.frame.body) == "body!");
  CHECK(result.frame_size == data.size());
}

TEST_CASE("a frame split at every byte position decodes only once complete") {
  auto data = bytes_of(make_frame(R"({"type":"split"})", std::as_bytes(std::span(std::string_view("0123456789")))));
  for (size_t cut = 0; cut < data.size(); ++cut) {
    auto partial = decode_frame(std::span(data).first(cut), kLimits);
    CHECK(partial.status == DecodeResult::Status::need_more);
    if (cut >= kPrefixSize) CHECK(partial.frame_size == data.size());
  }
  CHECK(decode_frame(data, kLimits).status == DecodeResult::Status::frame);
}

TEST_CASE("many frames in one buffer decode one after another") {
  std::vector<std::byte> stream;
  for (int i = 0; i < 50; ++i) {
    auto frame = bytes_of(make_frame("{\"type\":\"n\",\"i\":" + std::to_string(i) + "}"));
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  size_t offset = 0;
  int count = 0;
  while (offset < stream.size()) {
    auto result = decode_frame(std::span(stream).subspan(offset), kLimits);
    REQUIRE(result.status == DecodeResult::Status::frame);
    CHECK(result.frame.header == "{\"type\":\"n\",\"i\":" + std::to_string(count) + "}");
    offset += result.frame_size;
    ++count;
  }
  CHECK(count == 50);
}

TEST_CASE("frames over the limits are rejected from the prefix alone") {
  std::vector<std::byte> prefix(kPrefixSize);
  auto set = [&](uint32_t header, uint32_t body) {
    for (int i = 0; i < 4; ++i) {
      prefix[i] = std::byte(header >> (24 - 8 * i));
      prefix[4 + i] = std::byte(body >> (24 - 8 * i));
    }
  };
  set(1025, 0);
  auto header_result = decode_frame(prefix, kLimits);
  CHECK(header_result.status == DecodeResult::Status::error);
  CHECK(header_result.announced == 1025);
  set(10, 4097);
  CHECK(decode_frame(prefix, kLimits).status == DecodeResult::Status::error);
  set(0xFFFFFFFF, 0xFFFFFFFF);  // what a negative length would look like
  CHECK(decode_frame(prefix, kLimits).status == DecodeResult::Status::error);
  set(0, 10);
  CHECK(std::string(decode_frame(prefix, kLimits).error) == "empty header");
  set(1024, 4096);  // exactly at the limits: fine, waits for the bytes
  CHECK(decode_frame(prefix, kLimits).status == DecodeResult::Status::need_more);
}
