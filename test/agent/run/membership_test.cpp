// membership_test.cpp: the store's voters shrink and grow again, with four real agents on
// loopback (--ideal-cluster-size 3, --member-timeout 3): three voters and a fourth agent that
// runs as a client and volunteers; one voter is killed (kill -9); the leader removes it after
// the timeout, nominates the volunteer, which joins as a learner and is promoted: three voters
// again, the volunteer among them. A member paused past the timeout is removed too, and stops
// when it wakes; the removed member, started again, exits saying it was removed and what to
// do.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::run_to_completion;

namespace {

std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

// An agent; `prefix` empty: a fresh temporary data dir.
std::unique_ptr<ChildProcess> agent(const std::string& name, const std::string& client_url,
                                    const std::string& seeds, const std::string& prefix = "",
                                    const std::string& server_url = "") {
  const std::string binary = mgmt::test::mgmt_binary();
  std::vector<std::string> argv = {binary, "run", "--hostname", name,
                                   "--ideal-cluster-size", "3", "--member-timeout", "3",
                                   "--client-urls", client_url, "--server-urls",
                                   server_url.empty() ? url(free_port()) : server_url};
  if (prefix.empty()) {
    argv.push_back("--tmp-prefix");
  } else {
    argv.push_back("--prefix");
    argv.push_back(prefix);
  }
  if (!seeds.empty()) {
    argv.push_back("--seeds");
    argv.push_back(seeds);
  }
  return std::make_unique<ChildProcess>(argv);
}

// `etcdctl member list` against `endpoints`, asked again until `wanted` holds of its output or
// 60 s pass (a change is logged when proposed and listed once applied); the last output.
template <typename Wanted>
std::string member_list_when(const std::string& endpoints, Wanted wanted) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string output;
  do {
    output = run_to_completion({"/bin/sh", "-c",
                                "ETCDCTL_API=3 etcdctl --endpoints=" + endpoints +
                                    " member list 2>&1"})
                 .output;
    if (wanted(output)) break;
  } while (std::chrono::steady_clock::now() < deadline);
  return output;
}

std::size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }
bool has_learner(const std::string& list) { return list.find(", true") != std::string::npos; }

}  // namespace

TEST_CASE("membership: a lost voter is removed after --member-timeout and a volunteer takes "
          "its place",
          "[run][cluster]") {
  REQUIRE(mgmt::test::have_program("etcdctl"));
  const std::string seeds = url(free_port());
  auto h1 = agent("h1", seeds, "");
  REQUIRE(h1->wait_for_output("waiting for `mgmt deploy`"));
  auto h2 = agent("h2", url(free_port()), seeds);
  REQUIRE(h1->wait_for_occurrences("promoting learner", 1));
  mgmt::test::TempDir dir;
  const std::string h3_prefix = dir.path() + "/h3";
  const std::string h3_client = url(free_port());
  const std::string h3_server = url(free_port());
  auto h3 = agent("h3", h3_client, seeds, h3_prefix, h3_server);
  REQUIRE(h1->wait_for_occurrences("promoting learner", 2));
  // "promoting" is logged when proposed: wait until the member list shows three voters.
  auto three_voters = [](const std::string& list) {
    return lines(list) == 3 && !has_learner(list);
  };
  {
    const std::string list = member_list_when(seeds, three_voters);
    INFO(list);
    REQUIRE(three_voters(list));
  }
  auto h4 = agent("h4", url(free_port()), seeds);
  REQUIRE(h4->wait_for_output("running as its client"));
  REQUIRE(h4->wait_for_output("volunteering to be a store member"));

  h3->send_signal(SIGKILL);
  REQUIRE(h3->wait_exit());
  REQUIRE(h1->wait_for_output("removing member", std::chrono::seconds(60)));
  REQUIRE(h1->wait_for_output("nominating volunteer h4"));
  REQUIRE(h4->wait_for_output("nominated to join the cluster's store"));
  REQUIRE(h4->wait_for_output("joined cluster"));
  REQUIRE(h1->wait_for_occurrences("promoting learner", 3, std::chrono::seconds(60)));

  // Three voters again, h4 among them, h3 gone. "promoting" is logged when proposed; with two
  // voters the promotion needs h2's ack, so h2 is paused below only once it applied (paused
  // before, h2 would hold the change, and the leader makes one change at a time).
  {
    const std::string list = member_list_when(seeds, [&](const std::string& l) {
      return three_voters(l) && l.find(", h4, ") != std::string::npos;
    });
    INFO(list << "\n--- h1:\n" << h1->output() << "\n--- h4:\n" << h4->output());
    CHECK(lines(list) == 3);
    CHECK(list.find(", h4, ") != std::string::npos);
    CHECK(list.find(", h3, ") == std::string::npos);
    CHECK(!has_learner(list));  // no learner left
  }

  // A member paused past the timeout is removed while it runs; when it wakes, its former peers
  // tell it, and the agent stops, saying what to do.
  h2->send_signal(SIGSTOP);
  REQUIRE(h1->wait_for_occurrences("removing member", 2, std::chrono::seconds(60)));
  h2->send_signal(SIGCONT);
  auto paused = h2->wait_exit(std::chrono::seconds(60));
  INFO("--- h2:\n" << h2->output() << "\n--- h1:\n" << h1->output());
  REQUIRE(paused);
  CHECK(*paused != 0);
  CHECK(h2->output().find("store member was removed from the cluster") != std::string::npos);

  // The removed member, started again on its data dir, is told, and says what to do.
  auto again = agent("h3", h3_client, seeds, h3_prefix, h3_server);
  auto code = again->wait_exit(std::chrono::seconds(60));
  REQUIRE(code);
  CHECK(*code != 0);
  CHECK(again->output().find("store member was removed from the cluster") != std::string::npos);
  CHECK(again->output().find("move " + h3_prefix + "/store away") != std::string::npos);
}
