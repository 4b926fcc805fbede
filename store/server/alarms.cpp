// alarms.cpp: see alarms.h.
#include "store/server/alarms.h"

#include "common/log.h"

#include <string>

namespace mgmt::store::server {
namespace {

std::string alarm_key(uint64_t member, int type) {
  std::string key = kAlarmPrefix;
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((member >> shift) & 0xff));
  }
  key.push_back(static_cast<char>(type));
  return key;
}

etcdserverpb::AlarmMember member_of(uint64_t member, int type) {
  etcdserverpb::AlarmMember m;
  m.set_memberid(member);
  m.set_alarm(static_cast<etcdserverpb::AlarmType>(type));
  return m;
}

}  // namespace

void Alarms::load(storage::Storage& storage) {
  std::set<std::pair<uint64_t, int>> found;
  std::string end = kAlarmPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  const std::size_t prefix = std::string(kAlarmPrefix).size();
  (void)storage.scan(storage::Column::meta, kAlarmPrefix, end,
                     [&](std::string_view key, std::string_view) {
                       if (key.size() != prefix + 9) return true;  // not ours: skip
                       uint64_t member = 0;
                       for (std::size_t i = 0; i < 8; ++i) {
                         member = (member << 8) | static_cast<unsigned char>(key[prefix + i]);
                       }
                       found.insert({member, static_cast<unsigned char>(key[prefix + 8])});
                       return true;
                     });
  std::lock_guard lock(mutex_);
  raised_ = std::move(found);
  update_capped();
}

Result<void> Alarms::check_request(const etcdserverpb::AlarmRequest& request) {
  const int action = request.action();
  if (action != etcdserverpb::AlarmRequest::GET &&
      action != etcdserverpb::AlarmRequest::ACTIVATE &&
      action != etcdserverpb::AlarmRequest::DEACTIVATE) {
    return fail(Code::invalid_argument, "etcdserver: unknown alarm action " +
                                            std::to_string(action) +
                                            "; use GET, ACTIVATE or DEACTIVATE");
  }
  const int type = request.alarm();
  if (action == etcdserverpb::AlarmRequest::ACTIVATE && type != etcdserverpb::NONE &&
      type != etcdserverpb::NOSPACE && type != etcdserverpb::CORRUPT) {
    return fail(Code::invalid_argument, "etcdserver: alarm " + std::to_string(type) +
                                            " is not one a member raises; use NOSPACE or "
                                            "CORRUPT");
  }
  return ok();
}

etcdserverpb::AlarmResponse Alarms::apply(const etcdserverpb::AlarmRequest& request,
                                          storage::Batch& batch) {
  etcdserverpb::AlarmResponse response;
  const uint64_t member = request.memberid();
  const int type = request.alarm();
  std::lock_guard lock(mutex_);
  switch (request.action()) {
    case etcdserverpb::AlarmRequest::GET:
      for (const auto& [m, t] : raised_) {
        if (type == etcdserverpb::NONE || t == type) *response.add_alarms() = member_of(m, t);
      }
      break;
    case etcdserverpb::AlarmRequest::ACTIVATE:
      if (type == etcdserverpb::NONE) break;
      if (raised_.insert({member, type}).second) {
        batch.put(storage::Column::meta, alarm_key(member, type), "");
        log::get("etcd")->warn("alarm {} raised by member {:x}{}",
                               etcdserverpb::AlarmType_Name(request.alarm()), member,
                               type == etcdserverpb::NOSPACE
                                   ? ": its store reached --quota-backend-bytes; writes are "
                                     "refused until keys are deleted, the store is compacted "
                                     "(etcdctl compaction) and the alarm is disarmed "
                                     "(etcdctl alarm disarm); --auto-compaction-retention "
                                     "keeps the history from growing so"
                                   : "");
      }
      *response.add_alarms() = member_of(member, type);
      break;
    case etcdserverpb::AlarmRequest::DEACTIVATE:
      if (raised_.erase({member, type}) != 0) {
        batch.del(storage::Column::meta, alarm_key(member, type));
        *response.add_alarms() = member_of(member, type);
        log::get("etcd")->info("alarm {} of member {:x} disarmed",
                               etcdserverpb::AlarmType_Name(request.alarm()), member);
      }
      break;
    default:
      break;
  }
  update_capped();
  return response;
}

std::vector<etcdserverpb::AlarmMember> Alarms::list() const {
  std::lock_guard lock(mutex_);
  std::vector<etcdserverpb::AlarmMember> out;
  for (const auto& [m, t] : raised_) out.push_back(member_of(m, t));
  return out;
}

bool Alarms::raised(uint64_t member, etcdserverpb::AlarmType type) const {
  std::lock_guard lock(mutex_);
  return raised_.count({member, static_cast<int>(type)}) != 0;
}

void Alarms::update_capped() {
  bool capped = false;
  bool corrupt = false;
  for (const auto& entry : raised_) {
    capped = capped || entry.second == etcdserverpb::NOSPACE;
    corrupt = corrupt || entry.second == etcdserverpb::CORRUPT;
  }
  capped_ = capped;
  corrupt_ = corrupt;
}

}  // namespace mgmt::store::server
