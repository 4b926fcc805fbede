// grpc_wire.cpp: message framing and grpc-message encoding; see grpc_wire.h.
#include "store/rpc/grpc_wire.h"

namespace mgmt::rpc {
namespace {

constexpr std::size_t kPrefixBytes = 5;
constexpr int kUnimplemented = 12;     // grpc::StatusCode::UNIMPLEMENTED
constexpr int kResourceExhausted = 8;  // grpc::StatusCode::RESOURCE_EXHAUSTED

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string frame_message(std::string_view message) {
  std::string out;
  out.reserve(kPrefixBytes + message.size());
  const auto n = static_cast<uint32_t>(message.size());
  out.push_back('\0');
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(message);
  return out;
}

void MessageDecoder::feed(std::string_view bytes, std::vector<std::string>& messages) {
  if (failed()) return;
  buffer_.append(bytes);
  std::size_t at = 0;
  while (buffer_.size() - at >= kPrefixBytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + at);
    const std::size_t length = (std::size_t{p[1]} << 24) | (std::size_t{p[2]} << 16) |
                               (std::size_t{p[3]} << 8) | std::size_t{p[4]};
    if (p[0] != 0) {
      error_code_ = kUnimplemented;
      error_ = "grpc: this server takes no compressed messages; send them uncompressed";
      buffer_.clear();
      return;
    }
    if (length > max_bytes_) {
      error_code_ = kResourceExhausted;
      error_ = "grpc: received message larger than max (" + std::to_string(length) + " vs. " +
               std::to_string(max_bytes_) + ")";
      buffer_.clear();
      return;
    }
    if (buffer_.size() - at - kPrefixBytes < length) break;
    messages.emplace_back(buffer_, at + kPrefixBytes, length);
    at += kPrefixBytes + length;
  }
  buffer_.erase(0, at);
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b <= 0x7e && b != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace mgmt::rpc
