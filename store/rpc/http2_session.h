// http2_session.h: what the RPC server (rpc_server.cpp) and client (rpc_client.cpp) share about
// their nghttp2 sessions: the buffer and window sizes both ends use, headers as nghttp2 takes
// them, and moving a session's output into the bytes waiting for the socket. Internal to
// store/rpc (it includes nghttp2, a private dependency).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace mgmt::rpc::http2 {

inline constexpr std::size_t kReadBytes = 64 * 1024;  // one socket read
// Session output buffered before the socket takes it; past it, the session is not asked for
// more (a peer that does not read holds its writers back through flow control).
inline constexpr std::size_t kMaxUnsent = 1 << 20;
inline constexpr int32_t kStreamWindow = 1 << 20;
inline constexpr int32_t kConnectionWindow = 16 << 20;

// A header whose name and value outlive the frame (literals): nghttp2 copies neither.
inline nghttp2_nv header(const char* name, const char* value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value)), std::strlen(name),
                    std::strlen(value),
                    NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

// A value nghttp2 copies when the frame is submitted.
inline nghttp2_nv header(const char* name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), std::strlen(name),
                    value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME};
}

// Appends what the session has to send to `unsent`, until it has no more or kMaxUnsent bytes
// wait; 0, or nghttp2's (negative) error.
inline int drain(nghttp2_session* session, std::string& unsent) {
  while (unsent.size() < kMaxUnsent) {
    const uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session, &data);
    if (n < 0) return static_cast<int>(n);
    if (n == 0) break;
    unsent.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace mgmt::rpc::http2
