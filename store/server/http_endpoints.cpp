// http_endpoints.cpp: see http_endpoints.h.
#include "store/server/http_endpoints.h"

#include "store/server/json_gateway.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"

#include <fmt/format.h>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace mgmt::store::server {
namespace {

constexpr const char* kTextPlain = "text/plain; charset=utf-8";

HttpReply method_not_allowed() {
  return HttpReply{405, kTextPlain, "Method Not Allowed\n", {{"Allow", "GET"}}};
}

// The process's figures, as Prometheus' Go client reports them for etcd.
struct ProcessFigures {
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double cpu_seconds = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;
};

ProcessFigures process_figures() {
  ProcessFigures f;
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream statm("/proc/self/statm");
  double pages_virtual = 0, pages_resident = 0;
  if (statm >> pages_virtual >> pages_resident) {
    f.virtual_bytes = pages_virtual * page;
    f.resident_bytes = pages_resident * page;
  }
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    f.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    int n = 0;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    f.open_fds = n - 1;  // without the one reading the directory
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) f.max_fds = static_cast<double>(lim.rlim_cur);
  // Field 22 of /proc/self/stat: the start time in clock ticks after boot.
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  const auto after_name = line.rfind(')');
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  if (after_name != std::string::npos && (uptime_file >> uptime)) {
    std::istringstream fields(line.substr(after_name + 2));
    std::string field;
    for (int i = 3; i <= 22 && (fields >> field); ++i) {
      if (i != 22) continue;
      const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      const double started_after_boot = std::stod(field) / ticks;
      const double now = std::chrono::duration<double>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
      f.start_time_seconds = now - uptime + started_after_boot;
    }
  }
  return f;
}

void metric(std::string& out, const char* name, const char* type, const char* help,
            double value) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name,
                 type, name, value);
}

}  // namespace

HttpReply HttpEndpoints::handle(const std::string& method, const std::string& target,
                                const std::string& body) const {
  const std::string path = target.substr(0, target.find('?'));
  if (JsonGateway::owns(path)) return gateway_.handle(method, path, body);
  const bool get = method == "GET" || method == "HEAD";
  if (path == "/health") return get ? health() : method_not_allowed();
  if (path == "/version") {
    if (!get) return method_not_allowed();
    return HttpReply{200, "application/json",
                     fmt::format(R"({{"etcdserver":"{}","etcdcluster":"{}"}})", kServerVersion,
                                 kClusterVersion),
                     {}};
  }
  if (path == "/metrics") return metrics();
  return HttpReply{404, kTextPlain, "404 page not found\n", {}};
}

// Healthy when no alarm is raised, a leader is known and a quorum read succeeds within a
// second, as etcd 3.4.
HttpReply HttpEndpoints::health() const {
  const RaftHost* host = context_.host;
  bool healthy = context_.backend.alarms().empty() && host != nullptr && host->leader_id() != 0;
  if (healthy) healthy = context_.host->read_index(std::chrono::seconds(1)).has_value();
  if (healthy) return HttpReply{200, kTextPlain, R"({"health":"true"})", {}};
  return HttpReply{503, kTextPlain, "{\"health\":\"false\"}\n", {}};
}

HttpReply HttpEndpoints::metrics() const {
  const ProcessFigures p = process_figures();
  Backend& b = context_.backend;
  const RaftHost* host = context_.host;
  const uint64_t leader = host ? host->leader_id() : 0;
  std::string out;
  metric(out, "etcd_debugging_mvcc_current_revision", "gauge",
         "The current revision of store.", static_cast<double>(b.revision()));
  metric(out, "etcd_debugging_mvcc_slow_watcher_total", "gauge",
         "Total number of unsynced slow watchers.",
         static_cast<double>(context_.slow_watchers.load()));
  metric(out, "etcd_debugging_mvcc_watch_stream_total", "gauge", "Total number of watch streams.",
         static_cast<double>(context_.watch_streams.load()));
  metric(out, "etcd_debugging_mvcc_watcher_total", "gauge", "Total number of watchers.",
         static_cast<double>(b.kv().watcher_count()));
  b.apply_write_seconds().expose(out, "etcd_disk_backend_commit_duration_seconds",
                                 "The latency distributions of commit called by backend.");
  b.storage().synced_write_seconds().expose(out, "etcd_disk_wal_fsync_duration_seconds",
                                            "The latency distributions of fsync called by WAL.");
  metric(out, "etcd_mvcc_db_total_size_in_bytes", "gauge",
         "Total size of the underlying database physically allocated in bytes.",
         static_cast<double>(b.storage().state_bytes()));
  metric(out, "etcd_mvcc_db_total_size_in_use_in_bytes", "gauge",
         "Total size of the underlying database logically in use in bytes.",
         static_cast<double>(b.quota().state_bytes()));
  metric(out, "etcd_server_quota_backend_bytes", "gauge",
         "Current backend storage quota size in bytes.", static_cast<double>(b.quota().limit()));
  metric(out, "etcd_server_has_leader", "gauge",
         "Whether or not a leader exists. 1 is existence, 0 is not.", leader != 0 ? 1 : 0);
  fmt::format_to(std::back_inserter(out),
                 "# HELP etcd_server_id Server or member ID in hexadecimal format. 1 for "
                 "'server_id' label with current ID.\n# TYPE etcd_server_id gauge\n"
                 "etcd_server_id{{server_id=\"{:x}\"}} 1\n",
                 b.member_id());
  metric(out, "etcd_server_is_leader", "gauge",
         "Whether or not this member is a leader. 1 if is, 0 otherwise.",
         leader != 0 && leader == b.member_id() ? 1 : 0);
  metric(out, "etcd_server_leader_changes_seen_total", "counter",
         "The number of leader changes seen.",
         static_cast<double>(host ? host->leader_changes() : 0));
  metric(out, "etcd_server_proposals_applied_total", "gauge",
         "The total number of consensus proposals applied.",
         static_cast<double>(b.applied_index()));
  metric(out, "etcd_server_proposals_committed_total", "gauge",
         "The total number of consensus proposals committed.",
         static_cast<double>(host ? host->commit_index() : b.applied_index()));
  metric(out, "etcd_server_proposals_failed_total", "counter",
         "The total number of failed proposals seen.", static_cast<double>(b.proposals_failed()));
  metric(out, "etcd_server_proposals_pending", "gauge",
         "The current number of pending proposals to commit.",
         static_cast<double>(b.proposals_pending()));
  metric(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.", p.cpu_seconds);
  metric(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", p.max_fds);
  metric(out, "process_open_fds", "gauge", "Number of open file descriptors.", p.open_fds);
  metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         p.resident_bytes);
  metric(out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", p.start_time_seconds);
  metric(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         p.virtual_bytes);
  return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", std::move(out), {}};
}

}  // namespace mgmt::store::server
