// codec.h: the byte encoding of the core's values, for the log on disk (conf changes inside
// entries, ConfState in snapshot metadata) and for messages between peers. A versioned, compact
// varint format; decoding never trusts its input: malformed bytes give Code::data_loss, never a
// crash or an over-allocation.
#pragma once

#include "common/result.h"
#include "store/raft/types.h"

#include <string>
#include <string_view>

namespace mgmt::store::raft::codec {

std::string encode(const ConfChange& cc);
std::string encode(const ConfState& cs);
std::string encode(const HardState& hs);
std::string encode(const Entry& e);
std::string encode(const Message& m);

Result<ConfChange> decode_conf_change(std::string_view bytes);
Result<ConfState> decode_conf_state(std::string_view bytes);
Result<HardState> decode_hard_state(std::string_view bytes);
Result<Entry> decode_entry(std::string_view bytes);
Result<Message> decode_message(std::string_view bytes);

}  // namespace mgmt::store::raft::codec
