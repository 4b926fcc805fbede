// file_fields_test.cpp: the file resource's fields beyond content and mode, on a real file
// system: fragments, a directory copied from a source (one level, recurse, purge), symlinks,
// force to replace a directory, owner and group (as root), and the refusals of combinations
// that cannot work.
#include "agent/resources/accounts.h"
#include "test/agent/engine/resource_maker.h"
#include "test/support/process/child_process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using mgmt::test::make_resource;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;
namespace fs = std::filesystem;

namespace {

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

bool converge(mgmt::agent::resources::Resource& r) {
  auto first = r.check_apply(true);
  REQUIRE(first);
  auto second = r.check_apply(true);
  REQUIRE(second);
  return *second;
}

}  // namespace

TEST_CASE("file: fragments are concatenated in order, a directory gives its files by name",
          "[file]") {
  TempDir dir;
  write(dir.path() + "/a", "one\n");
  write(dir.path() + "/parts/2", "three\n");
  write(dir.path() + "/parts/1", "two\n");
  auto f = make_resource(resource("file", dir.path() + "/out",
                                  {{"fragments", {dir.path() + "/a", dir.path() + "/parts"}}}));
  CHECK(converge(*f));
  CHECK(slurp(dir.path() + "/out") == "one\ntwo\nthree\n");
}

TEST_CASE("file: a directory from a source: one level, all levels with recurse, purge removes "
          "the rest", "[file]") {
  TempDir dir;
  write(dir.path() + "/src/top", "t\n");
  write(dir.path() + "/src/sub/deep", "d\n");
  write(dir.path() + "/dst/stray", "s\n");
  auto shallow = make_resource(resource("file", dir.path() + "/dst/",
                                        {{"source", dir.path() + "/src"}}));
  CHECK(converge(*shallow));
  CHECK(slurp(dir.path() + "/dst/top") == "t\n");
  CHECK_FALSE(fs::exists(dir.path() + "/dst/sub"));
  CHECK(fs::exists(dir.path() + "/dst/stray"));
  auto deep = make_resource(resource("file", dir.path() + "/dst/",
                                     {{"source", dir.path() + "/src"}, {"recurse", true},
                                      {"purge", true}}));
  auto noop = deep->check_apply(false);
  REQUIRE(noop);
  CHECK_FALSE(*noop);
  CHECK(fs::exists(dir.path() + "/dst/stray"));  // noop removed nothing
  CHECK(converge(*deep));
  CHECK(slurp(dir.path() + "/dst/sub/deep") == "d\n");
  CHECK_FALSE(fs::exists(dir.path() + "/dst/stray"));
}

TEST_CASE("file: symlink makes the path a link to source, replacing a file", "[file]") {
  TempDir dir;
  write(dir.path() + "/target", "x");
  write(dir.path() + "/link", "a plain file first");
  auto link = make_resource(resource("file", dir.path() + "/link",
                                     {{"source", dir.path() + "/target"}, {"symlink", true}}));
  CHECK(converge(*link));
  CHECK(fs::is_symlink(dir.path() + "/link"));
  CHECK(fs::read_symlink(dir.path() + "/link") == fs::path(dir.path() + "/target"));
}

TEST_CASE("file: a directory is replaced by a file only with force", "[file]") {
  TempDir dir;
  fs::create_directories(dir.path() + "/thing/inside");
  auto plain = make_resource(resource("file", dir.path() + "/thing", {{"content", "f"}}));
  auto refused = plain->check_apply(true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() == "file[" + dir.path() + "/thing]: " + dir.path() +
                                         "/thing is a directory; set force to replace it");
  CHECK(fs::is_directory(dir.path() + "/thing/inside"));
  auto forced = make_resource(resource("file", dir.path() + "/thing",
                                       {{"content", "f"}, {"force", true}}));
  CHECK(converge(*forced));
  CHECK(slurp(dir.path() + "/thing") == "f");
}

TEST_CASE("file: owner and group by name or number", "[file]") {
  if (::geteuid() != 0) {
    WARN("not root: owner and group changes not tested");
    return;
  }
  TempDir dir;
  const std::string path = dir.path() + "/owned";
  write(path, "x");
  const auto nobody = mgmt::agent::resources::lookup_user("nobody");
  const auto nogroup = mgmt::agent::resources::lookup_group("nogroup");
  if (!nobody || !nogroup) {
    WARN("no user nobody or group nogroup on this system: not tested");
    return;
  }
  auto f = make_resource(resource("file", path, {{"owner", "nobody"}, {"group", "nogroup"}}));
  CHECK(converge(*f));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_uid == nobody->uid);
  CHECK(st.st_gid == *nogroup);
  auto back = make_resource(resource("file", path, {{"owner", "0"}, {"group", "0"}}));
  CHECK(converge(*back));
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
}

TEST_CASE("file: combinations that cannot work are refused naming the fields", "[file]") {
  auto r = mgmt::agent::resources::find_kind("file")->make();
  auto both = r->configure(resource("file", "/x", {{"content", "a"}, {"source", "/y"}}));
  REQUIRE_FALSE(both);
  CHECK(both.error().message() ==
        "file[/x]: give at most one of \"content\", \"source\" and \"fragments\"");
  auto link = r->configure(resource("file", "/x", {{"symlink", true}}));
  REQUIRE_FALSE(link);
  CHECK(link.error().message() == "file[/x]: \"symlink\" needs \"source\", the link's target");
  auto absent = r->configure(resource("file", "/x", {{"state", "absent"}, {"content", "a"}}));
  REQUIRE_FALSE(absent);
  CHECK(absent.error().message() ==
        "file[/x]: state \"absent\" cannot go with content, source or fragments");
  auto purge = r->configure(resource("file", "/x", {{"purge", true}}));
  REQUIRE_FALSE(purge);
}
