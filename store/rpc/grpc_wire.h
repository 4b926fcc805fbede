// grpc_wire.h: the parts of gRPC's wire protocol over HTTP/2 that the RPC server speaks itself
// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): the 5-byte prefix of every
// message (a compressed flag, then the length in big-endian), and the percent-encoding of
// grpc-message. Pure functions and one incremental decoder, so that they can be fuzzed alone.
// The texts of the errors are grpc-go's, since Go clients (etcdctl, clientv3) show them as
// they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgmt::rpc {

// A message as it travels: the prefix, then the message's bytes.
std::string frame_message(std::string_view message);

// Splits a request body, arriving in pieces of any size, into its messages. A message longer
// than `max_bytes`, or a compressed one (this server never announces an encoding), stops the
// decoder: error() then says why, in grpc-go's words, with the status code to answer.
class MessageDecoder {
 public:
  explicit MessageDecoder(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends `bytes`; whole messages are then in `messages` (taken by the caller).
  void feed(std::string_view bytes, std::vector<std::string>& messages);

  bool failed() const { return error_code_ != 0; }
  int error_code() const { return error_code_; }  // a grpc::StatusCode, 0 when none
  const std::string& error() const { return error_; }
  // Bytes of a message begun and not finished (a body that ends here was cut short).
  bool partial() const { return !buffer_.empty(); }

 private:
  std::size_t max_bytes_;
  std::string buffer_;
  int error_code_ = 0;
  std::string error_;
};

// grpc-message's encoding: every byte outside printable ASCII, and '%', as %XX.
std::string percent_encode(std::string_view text);
std::string percent_decode(std::string_view text);

}  // namespace mgmt::rpc
