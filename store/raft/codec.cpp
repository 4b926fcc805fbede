// codec.cpp: see codec.h. Every value starts with a one-byte format version (1).
#include "store/raft/codec.h"

#include <cstdint>

namespace mgmt::store::raft::codec {
namespace {

constexpr uint8_t kVersion = 1;

class Writer {
 public:
  Writer() { out_.push_back(static_cast<char>(kVersion)); }
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void bytes(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void ids(const std::set<NodeId>& s) {
    u64(s.size());
    for (NodeId id : s) u64(id);
  }
  std::string take() { return std::move(out_); }
  std::string& raw() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {
    if (in_.empty() || static_cast<uint8_t>(in_[0]) != kVersion) {
      ok_ = false;
    } else {
      pos_ = 1;
    }
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return bad();
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return bad();
  }
  std::string bytes() {
    const uint64_t n = u64();
    if (!ok_ || n > in_.size() - pos_) {
      bad();
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::set<NodeId> ids() {
    std::set<NodeId> s;
    const uint64_t n = u64();
    if (n > in_.size()) return bad(), s;
    for (uint64_t i = 0; i < n && ok_; ++i) s.insert(u64());
    return s;
  }
  // A count of nested items, each at least one byte long.
  uint64_t count() {
    const uint64_t n = u64();
    if (n > in_.size() - pos_) return bad();
    return n;
  }
  uint64_t bad() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

template <typename T>
Result<T> finish(const Reader& r, T value, const char* what) {
  if (!r.done()) return fail(Code::data_loss, std::string("raft codec: malformed ") + what);
  return value;
}

void put_entry(Writer& w, const Entry& e) {
  w.u64(e.term);
  w.u64(e.index);
  w.u64(static_cast<uint64_t>(e.type));
  w.bytes(e.data);
}

Entry get_entry(Reader& r) {
  Entry e;
  e.term = r.u64();
  e.index = r.u64();
  const uint64_t type = r.u64();
  if (type > 1) r.bad();
  e.type = static_cast<EntryType>(type);
  e.data = r.bytes();
  return e;
}

}  // namespace

std::string encode(const ConfChange& cc) {
  Writer w;
  w.u64(static_cast<uint64_t>(cc.type));
  w.u64(cc.node_id);
  w.bytes(cc.context);
  return w.take();
}

std::string encode(const ConfState& cs) {
  Writer w;
  w.ids(cs.voters);
  w.ids(cs.learners);
  return w.take();
}

std::string encode(const HardState& hs) {
  Writer w;
  w.u64(hs.term);
  w.u64(hs.vote);
  w.u64(hs.commit);
  return w.take();
}

std::string encode(const Entry& e) {
  Writer w;
  put_entry(w, e);
  return w.take();
}

std::string encode(const Message& m) {
  Writer w;
  w.u64(static_cast<uint64_t>(m.type));
  w.u64(m.to);
  w.u64(m.from);
  w.u64(m.term);
  w.u64(m.log_term);
  w.u64(m.index);
  w.u64(m.entries.size());
  for (const Entry& e : m.entries) put_entry(w, e);
  w.u64(m.commit);
  w.u64(m.reject ? 1 : 0);
  w.u64(m.reject_hint);
  w.u64(m.snapshot ? 1 : 0);
  if (m.snapshot) {
    w.u64(m.snapshot->meta.index);
    w.u64(m.snapshot->meta.term);
    w.ids(m.snapshot->meta.conf_state.voters);
    w.ids(m.snapshot->meta.conf_state.learners);
    w.bytes(m.snapshot->data);
  }
  w.bytes(m.context);
  return w.take();
}

Result<ConfChange> decode_conf_change(std::string_view bytes) {
  Reader r(bytes);
  ConfChange cc;
  const uint64_t type = r.u64();
  if (type > 2) r.bad();
  cc.type = static_cast<ConfChangeType>(type);
  cc.node_id = r.u64();
  cc.context = r.bytes();
  return finish(r, std::move(cc), "conf change");
}

Result<ConfState> decode_conf_state(std::string_view bytes) {
  Reader r(bytes);
  ConfState cs;
  cs.voters = r.ids();
  cs.learners = r.ids();
  return finish(r, std::move(cs), "conf state");
}

Result<HardState> decode_hard_state(std::string_view bytes) {
  Reader r(bytes);
  HardState hs;
  hs.term = r.u64();
  hs.vote = r.u64();
  hs.commit = r.u64();
  return finish(r, hs, "hard state");
}

Result<Entry> decode_entry(std::string_view bytes) {
  Reader r(bytes);
  Entry e = get_entry(r);
  return finish(r, std::move(e), "entry");
}

Result<Message> decode_message(std::string_view bytes) {
  Reader r(bytes);
  Message m;
  const uint64_t type = r.u64();
  if (type > static_cast<uint64_t>(MessageType::pre_vote_response)) r.bad();
  m.type = static_cast<MessageType>(type);
  m.to = r.u64();
  m.from = r.u64();
  m.term = r.u64();
  m.log_term = r.u64();
  m.index = r.u64();
  const uint64_t n = r.count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) m.entries.push_back(get_entry(r));
  m.commit = r.u64();
  m.reject = r.u64() != 0;
  m.reject_hint = r.u64();
  if (r.u64() != 0) {
    Snapshot s;
    s.meta.index = r.u64();
    s.meta.term = r.u64();
    s.meta.conf_state.voters = r.ids();
    s.meta.conf_state.learners = r.ids();
    s.data = r.bytes();
    m.snapshot = std::move(s);
  }
  m.context = r.bytes();
  return finish(r, std::move(m), "message");
}

}  // namespace mgmt::store::raft::codec
