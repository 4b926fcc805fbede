// auto_compaction_test.cpp: a real `mgmt run` with --auto-compaction-retention compacts its
// store's history by itself (etcdctl then finds old revisions compacted), and a retention it
// cannot read stops it at once with a one-line usage error.
#include "test/support/process/child_process.h"
#include "test/support/process/etcdctl.h"
#include "test/support/process/free_port.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <string>

using mgmt::test::ChildProcess;
using mgmt::test::etcdctl;
using mgmt::test::free_port;
using mgmt::test::loopback_url;
using mgmt::test::TempDir;

TEST_CASE("auto compaction: a member run with --auto-compaction-retention compacts its history "
          "by itself, and a retention it cannot read is refused in one line",
          "[cluster]") {
  const std::string binary = mgmt::test::mgmt_binary();
  TempDir dir;
  {
    ChildProcess bad({binary, "run", "--hostname", "bad", "--prefix", dir.path() + "/bad",
                      "--auto-compaction-retention", "1 hour"});
    CHECK(bad.wait_exit() == 2);
    CHECK(bad.output().find("mgmt run: --auto-compaction-retention \"1 hour\" is not a number "
                            "of hours or a duration (like 30m or 1h)") != std::string::npos);
  }
  const std::string client = loopback_url(free_port());
  ChildProcess agent({binary, "run", "--hostname", "auto", "--prefix", dir.path() + "/auto",
                      "--client-urls", client, "--server-urls", loopback_url(free_port()),
                      "--no-deploy-watch", "--auto-compaction-retention", "2s"});
  REQUIRE(agent.wait_for_output("waiting for `mgmt deploy`"));
  for (int i = 0; i < 10; ++i) REQUIRE(etcdctl(client, "put k v" + std::to_string(i)).exit_code == 0);
  REQUIRE(agent.wait_for_output("(automatic compaction, keeping the last 2s)"));
  auto old = etcdctl(client, "get k --rev=2");
  CHECK(old.output.find("required revision has been compacted") != std::string::npos);
  CHECK(etcdctl(client, "get k --print-value-only").output == "v9\n");
}
