// misuse_test.cpp: each kind of mistake gets one line naming the cause and the remedy, and a
// non-zero exit; nothing is printed on stdout.
#include "agent/cli/misuse.h"
#include "test/agent/cli/cli_runner.h"

#include <catch2/catch.hpp>

#include <algorithm>

using mgmt::agent::cli::testing::run;
using mgmt::agent::cli::testing::words;

namespace {

void check_one_line_misuse(const std::string& line, const std::string& expected) {
  CAPTURE(line);
  auto r = run(words(line));
  CHECK(r.exit_code == mgmt::agent::cli::kExitUsage);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err == expected + "\n");
}

}  // namespace

TEST_CASE("cli: an unknown command names the closest match", "[cli][misuse]") {
  check_one_line_misuse("dploy", "mgmt: unknown command \"dploy\"; did you mean \"deploy\"? "
                                 "(see 'mgmt help')");
  check_one_line_misuse("frobnicate",
                        "mgmt: unknown command \"frobnicate\"; choose one of run, deploy, get, "
                        "graph, restore, help, version (see 'mgmt help')");
}

TEST_CASE("cli: a missing command lists the commands", "[cli][misuse]") {
  check_one_line_misuse("", "mgmt: missing command; choose one of run, deploy, get, graph, "
                            "restore, help, version (see 'mgmt help')");
}

TEST_CASE("cli: an unknown frontend lists the frontends", "[cli][misuse]") {
  check_one_line_misuse("deploy lnag x.mcl",
                        "mgmt deploy: unknown frontend \"lnag\"; did you mean \"lang\"? (see "
                        "'mgmt help deploy')");
  check_one_line_misuse("deploy ruby x.rb",
                        "mgmt deploy: unknown frontend \"ruby\"; choose one of empty, yaml, lang, "
                        "puppet, langpuppet (see 'mgmt help deploy')");
  check_one_line_misuse("run chef", "mgmt run: unknown frontend \"chef\"; choose one of empty, "
                                    "yaml, lang, puppet, langpuppet (see 'mgmt help run')");
}

TEST_CASE("cli: deploy without a frontend says which to choose", "[cli][misuse]") {
  check_one_line_misuse("deploy", "mgmt deploy: missing frontend; choose one of empty, yaml, "
                                  "lang, puppet, langpuppet, e.g. 'mgmt deploy lang main.mcl'");
}

TEST_CASE("cli: a missing code argument says what to give", "[cli][misuse]") {
  check_one_line_misuse("deploy lang",
                        "mgmt deploy lang: missing code argument; give a .mcl file or a directory "
                        "holding main.mcl, e.g. 'mgmt deploy lang main.mcl'");
  check_one_line_misuse("run yaml", "mgmt run yaml: missing code argument; give a YAML graph "
                                    "file, e.g. 'mgmt run yaml graph.yaml'");
}

TEST_CASE("cli: an unknown flag names the closest flag", "[cli][misuse]") {
  check_one_line_misuse("deploy --sedes=http://127.0.0.1:2379 empty",
                        "mgmt deploy empty: unknown flag \"--sedes\"; did you mean \"--seeds\"? "
                        "(see 'mgmt help deploy empty' for its flags)");
  check_one_line_misuse("run --frobnicate",
                        "mgmt run: unknown flag \"--frobnicate\" (see 'mgmt help run' for its "
                        "flags)");
}

TEST_CASE("cli: a URL that is not a URL says what a URL looks like", "[cli][misuse]") {
  check_one_line_misuse("deploy --seeds foo lang x.mcl",
                        "mgmt deploy: --seeds: \"foo\" is not a URL (no scheme); use a URL like "
                        "http://127.0.0.1:2379");
  check_one_line_misuse("run --client-urls http://127.0.0.1:99999",
                        "mgmt run: --client-urls: \"http://127.0.0.1:99999\" is not a URL (port "
                        "must be a number from 1 to 65535); use a URL like http://127.0.0.1:2379");
  check_one_line_misuse("deploy --seeds=ftp://x:1 empty",
                        "mgmt deploy: --seeds: \"ftp://x:1\" is not a URL (scheme must be http or "
                        "https); use a URL like http://127.0.0.1:2379");
}

TEST_CASE("cli: a number flag given a word names the value", "[cli][misuse]") {
  check_one_line_misuse("run --ideal-cluster-size three",
                        "mgmt run: --ideal-cluster-size: \"three\" is not a whole number of at "
                        "least 1; give one like 2");
}

TEST_CASE("cli: a duration flag given a number or a word names the value and the forms it "
          "takes", "[cli][misuse]") {
  check_one_line_misuse("run --watch-progress-notify-interval 5",
                        "mgmt run: --watch-progress-notify-interval: \"5\" is not a positive "
                        "duration; give one like 500ms, 30s or 10m");
  check_one_line_misuse("run --experimental-watch-progress-notify-interval=0s",
                        "mgmt run: --watch-progress-notify-interval: \"0s\" is not a positive "
                        "duration; give one like 500ms, 30s or 10m");
}

TEST_CASE("cli: an extra argument after the code is named", "[cli][misuse]") {
  check_one_line_misuse("deploy lang a.mcl b.mcl",
                        "mgmt deploy lang: unexpected argument \"b.mcl\"; see 'mgmt help deploy "
                        "lang'");
}

TEST_CASE("cli: URLs mgmt accepts", "[cli][misuse]") {
  using mgmt::agent::cli::url_problem;
  CHECK_FALSE(url_problem("http://127.0.0.1:2379"));
  CHECK_FALSE(url_problem("https://example.com:2379/"));
  CHECK_FALSE(url_problem("http://[::1]:2379"));
  CHECK_FALSE(url_problem("http://localhost"));
  CHECK(url_problem("127.0.0.1:2379"));
  CHECK(url_problem("http://"));
  CHECK(url_problem("http://host:port"));
  CHECK(url_problem("http://host:2379/v3/kv"));
}

TEST_CASE("cli: a host name that cannot name a host in the store is refused before anything starts",
          "[cli][misuse]") {
  // Before, `mgmt run --hostname $'\xff'` wrote its member into the Raft log, whose entry then
  // did not decode, and the data dir could not start again.
  check_one_line_misuse("run --hostname a/b",
                        "mgmt run: --hostname: \"a/b\" cannot name a host in the cluster; use 1 "
                        "to 253 bytes of UTF-8 text without spaces, control characters or '/'");
  auto r = run({"run", "--hostname", "h\xff"});
  CHECK(r.exit_code == mgmt::agent::cli::kExitUsage);
  CHECK(r.err.find("\"h\\xff\" cannot name a host") != std::string::npos);
}

TEST_CASE("cli: host names mgmt accepts", "[cli][misuse]") {
  using mgmt::agent::cli::host_name_problem;
  CHECK_FALSE(host_name_problem("h1"));
  CHECK_FALSE(host_name_problem("web-01.example.com"));
  CHECK_FALSE(host_name_problem("h\xc3\xb6st"));          // UTF-8: "höst"
  CHECK_FALSE(host_name_problem("\xf0\x9f\x90\xa7"));    // U+1F427, four bytes
  CHECK_FALSE(host_name_problem(std::string(253, 'h')));
  CHECK(host_name_problem(""));
  CHECK(host_name_problem(std::string(254, 'h')));
  CHECK(host_name_problem("a b"));
  CHECK(host_name_problem("a\x7f"));
  CHECK(host_name_problem("a/b"));
  CHECK(host_name_problem("\xc0\x80"));          // an overlong NUL
  CHECK(host_name_problem("\xed\xa0\x80"));      // a surrogate
  CHECK(host_name_problem("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK(host_name_problem("\xe2\x82"));          // cut short
}

