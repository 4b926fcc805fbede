// etcdctl_compat_test.cpp: the same etcdctl 3.4 commands run against Debian's etcd 3.4 and
// against our store (served in this process on loopback); after normalising what must differ
// (cluster, member and lease ids, ports, timings), the outputs must be identical. A difference
// is a compatibility bug.
#include "store/server/restore.h"
#include "store/server/store_server.h"
#include "store/storage/snapshot_file.h"
#include "test/support/store/our_store.h"
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/loopback_client.h"
#include "test/support/process/real_etcd.h"

#include <catch2/catch.hpp>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <condition_variable>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::OurStore;
using mgmt::test::have_program;
using mgmt::test::RealEtcd;
using mgmt::test::TempDir;

namespace {

// What the comparisons run against: Debian's etcd 3.4 and its etcdctl.
void require_debian_etcd() {
  if (!have_program("etcd") || !have_program("etcdctl")) {
    FAIL("Debian's etcd-server and etcd-client are needed: apt-get install etcd-server "
         "etcd-client (tools/setup.sh does)");
  }
}

std::string etcdctl(const std::string& endpoint, const std::string& args,
                    const std::string& stdin_text = "", const std::string& wrapper = "") {
  std::string command =
      "ETCDCTL_API=3 " + wrapper + "/usr/bin/etcdctl --endpoints=" + endpoint + " " + args;
  if (!stdin_text.empty()) command = "printf '%s' '" + stdin_text + "' | " + command;
  auto done = mgmt::test::run_to_completion({"/bin/sh", "-c", command + " 2>&1"});
  return "exit " + std::to_string(done.exit_code) + "\n" + done.output;
}

// What may differ between two correct servers.
std::string normalise(std::string text, const std::string& endpoint) {
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), to);
      at += to.size();
    }
  };
  replace_all(endpoint, "ENDPOINT");
  text = std::regex_replace(text, std::regex("http://127\\.0\\.0\\.1:[0-9]+"), "URL");
  text = std::regex_replace(text, std::regex("\"(cluster_id|member_id|raft_term|ID)\":[0-9]+"),
                            "\"$1\":N");
  text = std::regex_replace(text, std::regex("\\b[0-9a-f]{16}\\b"), "HEXID");
  text = std::regex_replace(text, std::regex("\\b[0-9a-f]{13,15}\\b"), "HEXID");
  text = std::regex_replace(text, std::regex("took = [^\\n]+"), "took = T");
  text = std::regex_replace(text, std::regex("\\{\"level\":\"warn\".*\\n"), "");
  text = std::regex_replace(text, std::regex("remaining\\(([0-9]+)s\\)"), "remaining(Ns)");
  // etcdctl pads short member ids with spaces ("Member  1a2b..."), and lists the initial
  // cluster in member-id order: neither says anything about the server.
  text = std::regex_replace(text, std::regex("Member +[0-9a-fA-FHEXID]+ "), "Member HEXID ");
  text = std::regex_replace(text, std::regex("cluster +[0-9a-fHEXID]+"), "cluster HEXID");
  text = std::regex_replace(text, std::regex("(^|\\n)[0-9a-f]+, (un)?started"), "$1HEXID, $2started");
  std::smatch cluster;
  if (std::regex_search(text, cluster, std::regex("ETCD_INITIAL_CLUSTER=\"([^\"]*)\""))) {
    std::vector<std::string> parts;
    std::stringstream in(cluster[1].str());
    for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
    std::sort(parts.begin(), parts.end());
    std::string sorted;
    for (const auto& part : parts) sorted += (sorted.empty() ? "" : ",") + part;
    text.replace(static_cast<size_t>(cluster.position(1)), static_cast<size_t>(cluster.length(1)),
                 sorted);
  }
  return text;
}

struct Step {
  std::string args;
  std::string stdin_text;
};

// The script both servers run, in order. `LEASE` is replaced by the id the server granted.
const std::vector<Step> kScript = {
    {"put foo bar", ""},
    {"put foo baz --prev-kv", ""},
    {"put fop 1", ""},
    {"put zoo 2", ""},
    {"get foo", ""},
    {"get foo -w json", ""},
    {"get f --prefix", ""},
    {"get f --prefix --keys-only", ""},
    {"get f --prefix --print-value-only", ""},
    {"get f --prefix --limit 1 -w json", ""},
    {"get a --from-key", ""},
    {"get f --prefix --sort-by=MODIFY --order=DESCEND", ""},
    {"get foo --rev 2", ""},
    {"get foo --rev 99", ""},
    {"get nothing", ""},
    {"get '' --prefix --count-only -w json", ""},
    {"del nothing", ""},
    {"del fop --prev-kv", ""},
    {"txn", "value(\"foo\") = \"baz\"\n\nput t1 yes\nget foo\n\nput t2 no\n\n"},
    {"txn", "mod(\"foo\") > \"100\"\n\nput t1 yes\n\nput t2 no\n\n"},
    {"get t --prefix -w json", ""},
    {"compaction 0", ""},  // a store never compacted compacts at 0 once, then 0 is compacted
    {"compaction 0", ""},
    {"compaction 3", ""},
    {"get foo --rev 2", ""},
    {"compaction 2", ""},
    {"compaction 4 --physical", ""},  // answered once the old revisions are gone from disk
    {"compaction 4 --physical", ""},
    {"lease grant 600", ""},
    {"put leased v --lease=LEASE", ""},
    {"lease timetolive LEASE --keys", ""},
    {"lease list", ""},
    {"lease revoke LEASE", ""},
    {"lease timetolive LEASE", ""},
    {"get leased", ""},
    {"lease revoke LEASE", ""},
    {"put leased v --lease=1234", ""},
    {"del '' --prefix", ""},
    {"get '' --prefix -w json", ""},
    {"member list", ""},
    {"member add m2 --learner --peer-urls=http://127.0.0.1:1", ""},
    {"member promote MEMBER", ""},
    {"member remove MEMBER", ""},
    {"member list", ""},
    {"member remove 1234", ""},
    {"endpoint health", ""},
    {"defrag", ""},
    {"put w1 a", ""},
    {"put w1 b", ""},
    {"del w1", ""},
    {"WATCH watch --prefix w --rev=1 --prev-kv", ""},
    {"alarm list", ""},
    {"alarm list -w json", ""},
    {"member list -w json", ""},
    {"auth disable", ""},
    // Users and roles as an etcd with none answers (ours cannot add any; tested apart).
    {"user list", ""},
    {"role list -w json", ""},
    {"user get root", ""},
    {"role get root", ""},
    {"user delete nobody", ""},
    {"role delete root", ""},
    {"user grant-role nobody r", ""},
    {"user revoke-role nobody r", ""},
    {"user passwd nobody --interactive=false", "pw\n"},
    {"role grant-permission nobody readwrite k", ""},
    {"role revoke-permission nobody k", ""},
    {"put '' empty", ""},
};

std::vector<std::string> run_script(const std::string& endpoint) {
  std::vector<std::string> outputs;
  std::string lease, member;
  for (const auto& step : kScript) {
    std::string args = step.args;
    if (auto at = args.find("LEASE"); at != std::string::npos) args.replace(at, 5, lease);
    if (auto at = args.find("MEMBER"); at != std::string::npos) args.replace(at, 6, member);
    std::string out;
    if (args.rfind("WATCH ", 0) == 0) {
      // A watch replaying history never ends by itself: both get the same second to answer.
      out = etcdctl(endpoint, args.substr(6), "", "timeout 1 ");
    } else {
      out = etcdctl(endpoint, args, step.stdin_text);
    }
    std::smatch m;
    if (step.args == "lease grant 600" &&
        std::regex_search(out, m, std::regex("lease ([0-9a-f]+) granted"))) {
      lease = m[1];
    }
    if (step.args.rfind("member add", 0) == 0 &&
        std::regex_search(out, m, std::regex("Member\\s+([0-9a-f]+) added"))) {
      member = m[1];
    }
    outputs.push_back(normalise(out, endpoint));
  }
  return outputs;
}

}  // namespace

TEST_CASE("compat: etcdctl sees the same answers from our store as from etcd 3.4",
          "[compat][etcdctl]") {
  require_debian_etcd();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  OurStore ours;
  auto expected = run_script(etcd.endpoint());
  auto actual = run_script(ours.endpoint());
  REQUIRE(expected.size() == actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("etcdctl " << kScript[i].args);
    CHECK(actual[i] == expected[i]);
  }
}

TEST_CASE("compat: adding a user or a role, or enabling auth, is refused in one line saying why",
          "[compat][etcdctl]") {
  OurStore ours;
  const std::string why =
      "mgmt: the store does not implement users and roles; keep auth off and protect the client "
      "port with the network";
  for (const std::string args : {"user add alice --interactive=false", "role add readers",
                                 "auth enable"}) {
    INFO("etcdctl " << args);
    const std::string out = etcdctl(ours.endpoint(), args, "pw\n");
    CHECK(out.rfind("exit 1\n", 0) == 0);
    CHECK(out.find("Error: rpc error: code = Unimplemented desc = " + why) != std::string::npos);
  }
  // Nothing was added.
  CHECK(etcdctl(ours.endpoint(), "user list") == "exit 0\n");
  CHECK(etcdctl(ours.endpoint(), "role list") == "exit 0\n");
}

TEST_CASE("compat: etcdctl watch replays history and sees live events from our store",
          "[compat][etcdctl]") {
  OurStore ours;
  etcdctl(ours.endpoint(), "put a 1");
  etcdctl(ours.endpoint(), "put b 2");
  ChildProcess watch({"/usr/bin/etcdctl", "--endpoints=" + ours.endpoint(), "watch", "--rev=1",
                      "--prefix", "", "--prev-kv"},
                     {{"ETCDCTL_API", "3"}});
  REQUIRE(watch.wait_for_output("PUT\nb\n2\n"));
  etcdctl(ours.endpoint(), "put a 3");
  REQUIRE(watch.wait_for_output("PUT\na\n1\na\n3\n"));
  etcdctl(ours.endpoint(), "del b");
  REQUIRE(watch.wait_for_output("DELETE\nb\n2\nb\n\n"));
  // With --prev-kv, etcdctl prints the previous version before the new one.
  CHECK(watch.output() == "PUT\na\n1\nPUT\nb\n2\nPUT\na\n1\na\n3\nDELETE\nb\n2\nb\n\n");
}

TEST_CASE("compat: our store keeps every acknowledged write across a restart",
          "[compat][restart]") {
  TempDir dir;
  mgmt::store::server::StoreConfig config;
  config.data_dir = dir.path() + "/store";
  config.client_urls = {"http://127.0.0.1:0"};
  std::string before;
  {
    auto server = mgmt::store::server::StoreServer::open(config);
    REQUIRE(server);
    REQUIRE((*server)->start());
    std::string ep = (*server)->client_endpoints().front();
    for (int i = 0; i < 20; ++i) etcdctl(ep, "put k" + std::to_string(i) + " v" + std::to_string(i));
    etcdctl(ep, "del k3");
    before = normalise(etcdctl(ep, "get '' --prefix -w json"), ep);
  }
  auto server = mgmt::store::server::StoreServer::open(config);
  REQUIRE(server);
  REQUIRE((*server)->start());
  std::string ep = (*server)->client_endpoints().front();
  CHECK(normalise(etcdctl(ep, "get '' --prefix -w json"), ep) == before);
  CHECK(before.find("\"count\":19") != std::string::npos);
}

TEST_CASE("compat: etcdctl snapshot save keeps our store's state, and mgmt restore makes a new "
          "cluster of it with the same keys, history and revision",
          "[compat][snapshot]") {
  TempDir dir;
  const std::string file = dir.path() + "/snapshot.db";
  {
    OurStore ours;
    const std::string ep = ours.endpoint();
    etcdctl(ep, "put a 1");  // 2
    etcdctl(ep, "put b 2");  // 3
    etcdctl(ep, "put a 3");  // 4
    etcdctl(ep, "compaction 3");
    // Big enough that the dump is no multiple of 512 by chance (etcdctl checks the size).
    etcdctl(ep, "put big " + std::string(1000, 'x'));  // 5
    const std::string saved = etcdctl(ep, "snapshot save " + file);
    INFO(saved);
    REQUIRE(saved.rfind("exit 0\n", 0) == 0);
    CHECK(saved.find("Snapshot saved at " + file) != std::string::npos);
  }
  const auto size = std::filesystem::file_size(file);
  CHECK(size % mgmt::store::storage::kSnapshotBlock == mgmt::store::storage::kSha256Bytes);

  SECTION("restored, it serves the same keys, history and revision as a cluster of its own") {
    auto restored = mgmt::store::server::restore_snapshot(file, dir.path() + "/new/store");
    REQUIRE(restored);
    CHECK(restored->revision == 5);
    mgmt::store::server::StoreConfig config;
    config.data_dir = dir.path() + "/new/store";
    config.member_name = "restored";
    config.client_urls = {"http://127.0.0.1:0"};
    config.peer_urls = {"http://127.0.0.1:" + std::to_string(mgmt::test::free_port())};
    auto server = mgmt::store::server::StoreServer::open(config);
    REQUIRE(server);
    REQUIRE((*server)->start());
    REQUIRE((*server)->wait_for_leader(std::chrono::seconds(10)));
    const std::string ep = (*server)->client_endpoints().front();
    CHECK(etcdctl(ep, "get a") == "exit 0\na\n3\n");
    CHECK(etcdctl(ep, "get a --rev=3") == "exit 0\na\n1\n");
    CHECK(etcdctl(ep, "get a --rev=2").find("required revision has been compacted") !=
          std::string::npos);
    CHECK(etcdctl(ep, "get big --print-value-only") == "exit 0\n" + std::string(1000, 'x') + "\n");
    const std::string members = etcdctl(ep, "member list");
    CHECK(members.find("restored") != std::string::npos);
    CHECK(std::count(members.begin(), members.end(), '\n') == 2);  // "exit 0" and one member
    CHECK(etcdctl(ep, "put c 4 -w json").find("\"revision\":6") != std::string::npos);
  }
  SECTION("an existing data dir is not touched") {
    std::filesystem::create_directories(dir.path() + "/busy/store");
    auto busy = mgmt::store::server::restore_snapshot(file, dir.path() + "/busy/store");
    REQUIRE_FALSE(busy);
    CHECK(busy.error().message().find("already exists") != std::string::npos);
    CHECK(std::filesystem::is_empty(dir.path() + "/busy/store"));
  }
  SECTION("a damaged snapshot changes nothing") {
    {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(20);
      f.put('\x7f');
    }
    auto damaged = mgmt::store::server::restore_snapshot(file, dir.path() + "/new/store");
    REQUIRE_FALSE(damaged);
    CHECK(damaged.error().message().find("digest does not match") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path() + "/new"));
  }
}

namespace {

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// The metric names a Prometheus text page defines ("# TYPE name kind").
std::vector<std::string> metric_names(const std::string& page) {
  std::vector<std::string> names;
  std::regex type_line("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ");
  for (std::sregex_iterator it(page.begin(), page.end(), type_line), end; it != end; ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

}  // namespace

namespace {

// A store filled past its quota, then freed as etcd's docs say: what etcdctl says at each step.
std::vector<std::string> run_nospace_script(const std::string& endpoint, int port) {
  std::vector<std::string> out;
  auto step = [&](const std::string& args, const std::string& stdin_text = "") {
    std::string text = normalise(etcdctl(endpoint, args, stdin_text), endpoint);
    text = std::regex_replace(args, std::regex("[0-9]+"), "N") + "\n" + text;
    text = std::regex_replace(text, std::regex("memberID:[0-9]+"), "memberID:N");
    text = std::regex_replace(text, std::regex("\"memberID\":[0-9]+"), "\"memberID\":N");
    text = std::regex_replace(text, std::regex("revision [0-9]+"), "revision N");
    out.push_back(text);
    return text;
  };
  // 100 kB values into one key until the quota of 1 MiB refuses one (the history counts: every
  // revision since the last compaction). How many fit depends on the store's file: etcd's bbolt
  // grows its file in steps, so etcd refused the 5th in one CI run and a later one in others.
  const std::string value(100000, 'x');
  int puts = 0;
  for (; puts < 40; ++puts) {
    if (etcdctl(endpoint, "put big " + value).rfind("exit 0", 0) != 0) break;
  }
  out.push_back(puts >= 3 && puts < 40 ? "refused after several puts" : "puts: " +
                                                                             std::to_string(puts));
  step("put x y");
  step("alarm list");
  step("alarm list -w json");
  out.push_back("/health " + std::to_string(mgmt::test::http_status(
                                 mgmt::test::http_request(port, "GET", "/health"))));
  const std::string status = etcdctl(endpoint, "endpoint status");
  out.push_back(status.find("alarm:NOSPACE") != std::string::npos ? "status names the alarm"
                                                                  : status);
  step("get big --keys-only");
  step("txn", "\n\nget big --keys-only\n\n");
  step("txn", "\n\nput y z\n\n");
  step("lease grant 10");
  step("del big");
  const std::string json = etcdctl(endpoint, "get x -w json");
  std::smatch rev;
  REQUIRE(std::regex_search(json, rev, std::regex("\"revision\":([0-9]+)")));
  step("compaction " + rev[1].str() + " --physical");
  step("defrag");
  step("put x y");  // still refused: the alarm stays until disarmed
  step("alarm disarm");
  step("alarm list");
  step("put x y");
  step("alarm disarm");
  out.push_back("/health " + std::to_string(mgmt::test::http_status(
                                 mgmt::test::http_request(port, "GET", "/health"))));
  return out;
}

}  // namespace

TEST_CASE("compat: past --quota-backend-bytes a store refuses writes with etcd's NOSPACE alarm "
          "until it is freed and the alarm disarmed",
          "[compat][quota]") {
  require_debian_etcd();
  RealEtcd etcd({"--quota-backend-bytes=1048576"});
  REQUIRE(etcd.ready());
  OurStore ours([](mgmt::store::server::StoreConfig& c) { c.quota_backend_bytes = 1048576; });
  auto expected = run_nospace_script(etcd.endpoint(), port_of(etcd.endpoint()));
  auto actual = run_nospace_script(ours.endpoint(), ours.port());
  REQUIRE(expected.size() == actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(actual[i] == expected[i]);
}

TEST_CASE("compat: plain HTTP on the client URL answers as etcd 3.4's (/health, /version, "
          "/metrics, errors), and etcdctl check datascale passes",
          "[compat][http]") {
  require_debian_etcd();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  OurStore ours;
  const int theirs_port = port_of(etcd.endpoint());
  const int our_port = port_of(ours.endpoint());
  struct Request {
    std::string method, target;
  };
  for (const Request& r : std::vector<Request>{{"GET", "/health"},
                                               {"POST", "/health"},
                                               {"GET", "/version"},
                                               {"DELETE", "/version"},
                                               {"GET", "/no/such/page"}}) {
    INFO(r.method << " " << r.target);
    const std::string expected = mgmt::test::http_request(theirs_port, r.method, r.target);
    const std::string actual = mgmt::test::http_request(our_port, r.method, r.target);
    CHECK(mgmt::test::http_status(actual) == mgmt::test::http_status(expected));
    CHECK(mgmt::test::http_header(actual, "Content-Type") ==
          mgmt::test::http_header(expected, "Content-Type"));
    CHECK(mgmt::test::http_header(actual, "Allow") == mgmt::test::http_header(expected, "Allow"));
    // Our version is the API's (3.4.0), etcd's its release (3.4.N).
    auto version_free = [](const std::string& body) {
      return std::regex_replace(body, std::regex("3\\.4\\.[0-9]+"), "3.4.X");
    };
    CHECK(version_free(mgmt::test::http_body(actual)) ==
          version_free(mgmt::test::http_body(expected)));
  }
  // /metrics: every name we publish is one of etcd's (no invented metric), including the one
  // etcdctl check datascale reads.
  const std::string their_metrics =
      mgmt::test::http_body(mgmt::test::http_request(theirs_port, "GET", "/metrics"));
  const std::string our_metrics =
      mgmt::test::http_body(mgmt::test::http_request(our_port, "GET", "/metrics"));
  const auto theirs = metric_names(their_metrics);
  const auto mine = metric_names(our_metrics);
  CHECK(mine.size() >= 10);
  for (const auto& name : mine) {
    INFO(name);
    CHECK(std::find(theirs.begin(), theirs.end(), name) != theirs.end());
  }
  std::smatch rss;
  REQUIRE(std::regex_search(our_metrics, rss,
                            std::regex("\nprocess_resident_memory_bytes ([0-9.e+]+)\n")));
  CHECK(std::stod(rss[1]) > 1e6);
  CHECK(our_metrics.find("\netcd_server_has_leader 1\n") != std::string::npos);
  // `etcdctl check datascale` writes 10,000 keys and reads /metrics before and after.
  auto datascale = [](const std::string& endpoint) {
    const std::string out = etcdctl(endpoint, "check datascale --load=s");
    return out.substr(0, 7) + (out.find("PASS: Approximate system memory used") !=
                                       std::string::npos
                                   ? " PASS"
                                   : " FAIL: " + out);
  };
  CHECK(datascale(etcd.endpoint()) == "exit 0\n PASS");
  CHECK(datascale(ours.endpoint()) == "exit 0\n PASS");
}

namespace {

// What may differ between two correct servers' JSON gateway answers.
std::string normalise_json(std::string text) {
  text = std::regex_replace(
      text,
      std::regex("\"(cluster_id|member_id|leader|ID|hash|dbSize|dbSizeInUse|version|raftIndex|"
                 "raftAppliedIndex)\":(\"[^\"]*\"|[0-9]+)"),
      "\"$1\":N");
  // A lease's remaining time counts down: 60 or 59 depends on the moment asked.
  text = std::regex_replace(text, std::regex("\"TTL\":\"[0-9]+\",\"grantedTTL\""),
                            "\"TTL\":N,\"grantedTTL\"");
  return std::regex_replace(text, std::regex("http://127\\.0\\.0\\.1:[0-9]+"), "URL");
}

struct GatewayStep {
  std::string method, path, body;
};

// Bytes in base64: "foo" Zm9v, "bar" YmFy, "baz" YmF6, "fo" Zm8=, "fop" Zm9w.
const std::vector<GatewayStep> kGatewayScript = {
    {"POST", "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})"},
    {"POST", "/v3/kv/put", R"({"key":"Zm9v","value":"YmF6","prev_kv":true})"},
    {"POST", "/v3/kv/range", R"({"key":"Zm9v"})"},
    {"POST", "/v3/kv/range", R"({"key":"Zm8=","range_end":"Zm9w","keys_only":true})"},
    {"POST", "/v3/kv/range", R"({"key":"Zm9v","revision":99})"},
    {"POST", "/v3/kv/range", ""},
    {"POST", "/v3/kv/range", R"({"key":"Zm9v","no_such_field":1})"},
    {"POST", "/v3/kv/range", R"({"key":"Zm9v","limit":"1","count_only":true})"},
    {"POST", "/v3/kv/txn",
     R"({"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmF6"}],)"
     R"("success":[{"request_range":{"key":"Zm9v"}}],"failure":[{"request_put":)"
     R"({"key":"Zm9v","value":"YmFy"}}]})"},
    {"POST", "/v3/kv/deleterange", R"({"key":"Zm9v","prev_kv":true})"},
    {"POST", "/v3/kv/compaction", R"({"revision":2})"},
    {"POST", "/v3/kv/compaction", R"({"revision":2})"},
    {"POST", "/v3/lease/grant", R"({"TTL":60,"ID":"1000"})"},
    {"POST", "/v3/kv/lease/timetolive", R"({"ID":"1000","keys":true})"},
    {"POST", "/v3/lease/leases", "{}"},
    {"POST", "/v3/lease/revoke", R"({"ID":"1000"})"},
    {"POST", "/v3/kv/lease/revoke", R"({"ID":"1000"})"},
    {"POST", "/v3/cluster/member/list", "{}"},
    // Peer URLs etcd refuses (no URLs, no scheme, a path, no port), which etcdctl checks itself
    // but a JSON or Go client sends as they are: a lone member that took one as a voter would
    // lose its quorum.
    {"POST", "/v3/cluster/member/add", "{}"},
    {"POST", "/v3/cluster/member/add", R"({"peerURLs":["127.0.0.1:2380"]})"},
    {"POST", "/v3/cluster/member/add", R"({"peerURLs":["http://127.0.0.1:2380/peer"]})"},
    {"POST", "/v3/cluster/member/add", R"({"peerURLs":["http://127.0.0.1"],"isLearner":true})"},
    {"POST", "/v3/cluster/member/list", "{}"},
    {"POST", "/v3/maintenance/status", "{}"},
    {"POST", "/v3/maintenance/alarm", "{}"},
    {"POST", "/v3/maintenance/hash", "{}"},
    {"POST", "/v3/auth/authenticate", R"({"name":"a","password":"b"})"},
    {"POST", "/v3/auth/user/list", "{}"},
    {"POST", "/v3/auth/role/list", "{}"},
    {"POST", "/v3/auth/user/get", R"({"name":"root"})"},
    {"POST", "/v3/auth/role/revoke", R"({"role":"r","key":"aw=="})"},
    {"POST", "/v3/auth/user/add", R"({"name":""})"},
    {"POST", "/v3/auth/role/add", R"({})"},
    {"POST", "/v3beta/kv/range", R"({"key":"Zm9v"})"},
    {"GET", "/v3/kv/range", ""},
    {"POST", "/v3/no/such/call", "{}"},
};

std::vector<std::string> run_gateway_script(int port) {
  std::vector<std::string> outputs;
  for (const auto& step : kGatewayScript) {
    const std::string response = mgmt::test::http_request(port, step.method, step.path, step.body);
    outputs.push_back(std::to_string(mgmt::test::http_status(response)) + " " +
                      mgmt::test::http_header(response, "Content-Type") + "\n" +
                      normalise_json(mgmt::test::http_body(response)));
  }
  return outputs;
}

}  // namespace

TEST_CASE("compat: the JSON gateway (/v3/...) answers as etcd 3.4's", "[compat][http]") {
  require_debian_etcd();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  OurStore ours;
  const auto expected = run_gateway_script(port_of(etcd.endpoint()));
  const auto actual = run_gateway_script(port_of(ours.endpoint()));
  REQUIRE(expected.size() == actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(kGatewayScript[i].method << " " << kGatewayScript[i].path << " " << kGatewayScript[i].body);
    CHECK(actual[i] == expected[i]);
  }
  // A body that is not JSON: etcd's message is Go's parser's, ours protobuf's; the rest agrees.
  const std::string bad = mgmt::test::http_request(port_of(ours.endpoint()), "POST",
                                                   "/v3/kv/range", "{bad json");
  CHECK(mgmt::test::http_status(bad) == 400);
  CHECK(mgmt::test::http_body(bad).find("\"code\":3}") != std::string::npos);
}

namespace {

// Opens a gateway stream on `port`, waits for `first` answers, makes `then` (if any) and waits
// until `total` answers came; the answers, one per line, normalised.
std::string gateway_stream(int port, const std::string& path, const std::string& body,
                           int first, const std::function<void()>& then, int total) {
  mgmt::test::LoopbackClient client(port);
  (void)client.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body);
  auto answers = [&] {
    const std::string& got = client.received();
    int n = 0;
    for (auto at = got.find("{\"result\""); at != std::string::npos;
         at = got.find("{\"result\"", at + 1)) {
      ++n;
    }
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (answers() < first && std::chrono::steady_clock::now() < deadline) {
    client.read_some(std::chrono::milliseconds(500));
  }
  if (then) then();
  while (answers() < total && std::chrono::steady_clock::now() < deadline) {
    client.read_some(std::chrono::milliseconds(500));
  }
  return std::to_string(mgmt::test::http_status(client.received())) + "\n" +
         normalise_json(mgmt::test::http_body(client.received()));
}

}  // namespace

namespace {

// The snapshot stream with its blobs named: the bytes differ (a bolt file against our state
// dump), the shape must not: the data, then its SHA-256 in an answer of its own.
std::string snapshot_stream_shape(int port) {
  std::string out = gateway_stream(port, "/v3/maintenance/snapshot", "{}", 2, {}, 2);
  // (Not std::regex: it recurses per character and overflows the stack on a long blob.)
  const std::string field = "\"blob\":\"";
  for (auto at = out.find(field); at != std::string::npos; at = out.find(field, at + 1)) {
    const auto from = at + field.size();
    const auto to = out.find('"', from);
    if (to == std::string::npos) break;
    const bool digest = to - from == 44 && out[to - 1] == '=';  // 32 bytes in base64
    out.replace(from, to - from, digest ? "SHA256" : "DATA");
  }
  return out;
}

}  // namespace

TEST_CASE("compat: etcd's lock and election services are declined in one line saying what to "
          "use instead, over gRPC and the JSON gateway",
          "[compat][http]") {
  OurStore ours;
  const std::string lock_why =
      "mgmt: the store does not serve etcd's lock service (v3lockpb.Lock); take the lock with a "
      "client's concurrency package over KV, lease and watch, as etcdctl lock and Go's "
      "clientv3/concurrency do";
  {
    auto channel = grpc::CreateChannel(ours.endpoint().substr(std::string("http://").size()),
                                       grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice no_bytes("");
    const grpc::ByteBuffer request(&no_bytes, 1);  // an empty LockRequest
    grpc::ByteBuffer reply;
    grpc::Status status;
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    stub.UnaryCall(&context, "/v3lockpb.Lock/Lock", grpc::StubOptions(), &request, &reply,
                   [&](grpc::Status s) {
                     std::lock_guard lock(mutex);
                     status = s;
                     finished = true;
                     done.notify_all();
                   });
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return finished; });
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_message() == lock_why);
  }
  const int port = port_of(ours.endpoint());
  const std::string lock = mgmt::test::http_request(port, "POST", "/v3/lock/lock", "{}");
  CHECK(mgmt::test::http_status(lock) == 501);
  CHECK(mgmt::test::http_body(lock) ==
        "{\"error\":\"" + lock_why + "\",\"message\":\"" + lock_why + "\",\"code\":12}");
  const std::string leader =
      mgmt::test::http_request(port, "POST", "/v3beta/election/leader", "{}");
  CHECK(mgmt::test::http_status(leader) == 501);
  CHECK(mgmt::test::http_body(leader).find("(v3electionpb.Election); campaign with a client's "
                                           "concurrency package") != std::string::npos);
}

TEST_CASE("compat: the JSON gateway streams watches, lease keep-alives and a snapshot as etcd "
          "3.4's",
          "[compat][http]") {
  require_debian_etcd();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  OurStore ours;
  auto run = [](int port) {
    mgmt::test::http_request(port, "POST", "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
    // History from revision 1 (the put above), then a live put.
    std::string out = gateway_stream(
        port, "/v3/watch", R"({"create_request":{"key":"Zm9v","start_revision":"1"}})", 2,
        [port] {
          mgmt::test::http_request(port, "POST", "/v3/kv/put", R"({"key":"Zm9v","value":"cXV4"})");
        },
        3);
    // A watch id asked for twice on one stream: the second is refused.
    out += gateway_stream(port, "/v3/watch",
                          R"({"create_request":{"key":"YQ==","watch_id":"3"}})"
                          R"({"create_request":{"key":"Yg==","watch_id":"3"}})",
                          2, {}, 2);
    mgmt::test::http_request(port, "POST", "/v3/lease/grant", R"({"TTL":60,"ID":"77"})");
    out += gateway_stream(port, "/v3/lease/keepalive", R"({"ID":"77"}{"ID":"77"}{"ID":"78"})",
                          3, {}, 3);
    return out + snapshot_stream_shape(port);
  };
  const std::string expected = run(port_of(etcd.endpoint()));
  const std::string actual = run(port_of(ours.endpoint()));
  CHECK(actual == expected);
  CHECK(actual.find("\"value\":\"cXV4\"") != std::string::npos);
  CHECK(actual.find("duplicate watch ID") != std::string::npos);
  CHECK(actual.find("\"blob\":\"SHA256\"") != std::string::npos);
}
