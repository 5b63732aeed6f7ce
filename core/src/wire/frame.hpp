// Framing: every message is [u32 header length][u32 body length] (big-endian),
// then the JSON header, then the raw body. Decoding works in place on the
// caller's buffer; nothing is copied or allocated per frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace p2pnet::wire {

constexpr size_t kPrefixSize = 8;

struct FrameLimits {
  uint32_t max_header_bytes;
  uint32_t max_body_bytes;
};

struct FrameView {
  std::string_view header;
  std::span<const std::byte> body;
};

struct DecodeResult {
  enum class Status { need_more, frame, error } status = Status::need_more;
  FrameView frame;
  size_t frame_size = 0;  // bytes of the whole frame, once the prefix is in
  const char* error = nullptr;
  uint64_t announced = 0;  // the offending length, for error messages
};

// Looks at the front of `data`: a whole frame, a need for more bytes, or a
// violation of the limits.
DecodeResult decode_frame(std::span<const std::byte> data, const FrameLimits& limits);

// A finished frame ready to go on the wire, shared between the write queues
// of every peer it is broadcast to. Copies share the bytes; one allocation
// holds them and the reference count.
class SharedFrame {
 public:
  SharedFrame() = default;
  SharedFrame(std::string_view header, std::span<const std::byte> body);
  std::span<const std::byte> bytes() const { return {data_.get(), size_}; }
  size_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  std::shared_ptr<std::byte[]> data_;
  size_t size_ = 0;
};

SharedFrame make_frame(std::string_view header, std::span<const std::byte> body = {});

}  // namespace p2pnet::wire
