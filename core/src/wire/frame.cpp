#include "wire/frame.hpp"

#include <cstring>

namespace p2pnet::wire {
namespace {

uint32_t read_u32(const std::byte* p) {
  return (std::to_integer<uint32_t>(p[0]) << 24) | (std::to_integer<uint32_t>(p[1]) << 16) |
         (std::to_integer<uint32_t>(p[2]) << 8) | std::to_integer<uint32_t>(p[3]);
}

void write_u32(std::byte* p, uint32_t v) {
  p[0] = std::byte(v >> 24);
  p[1] = std::byte(v >> 16);
  p[2] = std::byte(v >> 8);
  p[3] = std::byte(v);
}

}  // namespace

DecodeResult decode_frame(std::span<const std::byte> data, const FrameLimits& limits) {
  DecodeResult result;
  if (data.size() < kPrefixSize) return result;
  uint32_t header_len = read_u32(data.data());
  uint32_t body_len = read_u32(data.data() + 4);
  if (header_len == 0) {
    result.status = DecodeResult::Status::error;
    result.error = "empty header";
    return result;
  }
  if (header_len > limits.max_header_bytes) {
    result.status = DecodeResult::Status::error;
    result.error = "header larger than max_header_bytes";
    result.announced = header_len;
    return result;
  }
  if (body_len > limits.max_body_bytes) {
    result.status = DecodeResult::Status::error;
    result.error = "body larger than max_body_bytes";
    result.announced = body_len;
    return result;
  }
  result.frame_size = kPrefixSize + size_t{header_len} + size_t{body_len};
  if (data.size() < result.frame_size) return result;
  result.status = DecodeResult::Status::frame;
  result.frame.header = {reinterpret_cast<const char*>(data.data() + kPrefixSize), header_len};
  result.frame.body = data.subspan(kPrefixSize + header_len, body_len);
  return result;
}

SharedFrame::SharedFrame(std::string_view header, std::span<const std::byte> body)
    : data_(std::make_shared_for_overwrite<std::byte[]>(kPrefixSize + header.size() + body.size())),
      size_(kPrefixSize + header.size() + body.size()) {
  write_u32(data_.get(), static_cast<uint32_t>(header.size()));
  write_u32(data_.get() + 4, static_cast<uint32_t>(body.size()));
  std::memcpy(data_.get() + kPrefixSize, header.data(), header.size());
  if (!body.empty()) std::memcpy(data_.get() + kPrefixSize + header.size(), body.data(), body.size());
}

SharedFrame make_frame(std::string_view header, std::span<const std::byte> body) { return SharedFrame(header, body); }

}  // namespace p2pnet::wire
