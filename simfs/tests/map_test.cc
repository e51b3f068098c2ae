// File::map on both filesystems, and the simulated one's contract for faults under a
// mapping (simfs/filesystem.h): faults apply at map time, never after.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "simfs/sim_filesystem.h"
#include "simfs/tests/fs_envs.h"

namespace {

using cairn::Bytes;
using cairn::Errc;
using cairn::fs::FileSystem;
using cairn::fs::OpenOptions;
using cairn::fs::SimConfig;
using cairn::fs::SimFileSystem;

using cairn::testing::Posix;
using cairn::testing::Sim;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 131 + 7) % 251);
  return b;
}

// A durable file of `content` at path.
void write_durable(FileSystem& fs, const std::string& path, const Bytes& content) {
  const std::string dir = cairn::fs::parent_path(path);
  if (!fs.exists(dir).value()) REQUIRE(fs.mkdir(dir).ok());
  auto f = fs.open(path, OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(cairn::fs::write_all(**f, 0, content).ok());
  REQUIRE((*f)->sync().ok());
  REQUIRE(fs.sync_dir(cairn::fs::parent_path(path)).ok());
}

}  // namespace

TEMPLATE_TEST_CASE("a mapping holds the file's bytes, outlives its file, and stops at the end", "[map]", Posix, Sim) {
  TestType env;
  const std::string path = cairn::fs::join_path(env.dir(), "seg");
  const Bytes content = pattern(10'000);
  write_durable(env.fs(), path, content);
  auto file = env.fs().open(path, OpenOptions{.read_only = true});
  REQUIRE(file.ok());

  auto whole = (*file)->map(content.size());
  REQUIRE(whole.ok());
  CHECK(Bytes((*whole)->bytes().begin(), (*whole)->bytes().end()) == content);
  auto part = (*file)->map(100);
  REQUIRE(part.ok());
  CHECK(Bytes((*part)->bytes().begin(), (*part)->bytes().end()) == Bytes(content.begin(), content.begin() + 100));
  auto empty = (*file)->map(0);
  REQUIRE(empty.ok());
  CHECK((*empty)->bytes().empty());

  auto past = (*file)->map(content.size() + 1);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error().code == Errc::invalid_argument);

  // Closed and unlinked, the mapping still reads what it mapped (munmap is apart from close).
  REQUIRE((*file)->close().ok());
  REQUIRE(env.fs().unlink(path).ok());
  CHECK(Bytes((*whole)->bytes().begin(), (*whole)->bytes().end()) == content);
  CHECK((*file)->map(1).error().code == Errc::invalid_argument);  // a closed file maps nothing
}

TEST_CASE("sim: a read fault fails the map with io_error; a sticky one keeps failing it") {
  SimConfig cfg;
  cfg.read_error_ppm = 1'000'000;
  SECTION("transient") {
    cfg.read_error_sticky_ppm = 0;
    SimFileSystem fs(cfg, 3);
    write_durable(fs, "/d/seg", pattern(4096));
    auto f = fs.open("/d/seg", OpenOptions{.read_only = true});
    REQUIRE(f.ok());
    fs.mutable_config().read_errors = true;
    auto failed = (*f)->map(4096);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == Errc::io_error);
    fs.mutable_config().read_errors = false;
    CHECK((*f)->map(4096).ok());
  }
  SECTION("sticky") {
    cfg.read_error_sticky_ppm = 1'000'000;
    SimFileSystem fs(cfg, 3);
    write_durable(fs, "/d/seg", pattern(4096));
    auto f = fs.open("/d/seg", OpenOptions{.read_only = true});
    REQUIRE(f.ok());
    fs.mutable_config().read_errors = true;
    REQUIRE_FALSE((*f)->map(4096).ok());
    fs.mutable_config().read_errors = false;
    CHECK((*f)->map(4096).error().code == Errc::io_error);
    CHECK(fs.fault_count(cairn::fs::FaultFamily::read_error) == 1);
  }
}

TEST_CASE("sim: damage at rest after the map is not in the view; a new map shows it") {
  SimFileSystem fs(SimConfig{}, 5);
  const Bytes content = pattern(1000);
  write_durable(fs, "/d/seg", content);
  auto f = fs.open("/d/seg", OpenOptions{.read_only = true});
  REQUIRE(f.ok());
  auto before = (*f)->map(1000);
  REQUIRE(before.ok());
  REQUIRE(fs.inject_bit_flip("/d/seg", 500, 0));
  CHECK(Bytes((*before)->bytes().begin(), (*before)->bytes().end()) == content);
  auto after = (*f)->map(1000);
  REQUIRE(after.ok());
  CHECK((*after)->bytes()[500] == (content[500] ^ 1));
}

TEST_CASE("sim: a map is one operation in the trace and under an armed power-off") {
  SimFileSystem fs(SimConfig{}, 5);
  write_durable(fs, "/d/seg", pattern(1000));
  auto f = fs.open("/d/seg", OpenOptions{.read_only = true});
  REQUIRE(f.ok());
  fs.set_trace(true);
  REQUIRE((*f)->map(1000).ok());
  REQUIRE_FALSE(fs.trace().empty());
  CHECK(fs.trace().back().find("map /d/seg @0 +1000 -> 1000") != std::string::npos);
  fs.arm_power_off(1);
  CHECK((*f)->map(1000).error().code == Errc::io_error);
}
