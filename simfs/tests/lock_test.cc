// Locks and read-only opens, on both filesystems: what one writer per store and
// readers-never-write rest on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "simfs/sim_filesystem.h"
#include "simfs/tests/fs_envs.h"

namespace {

using cairn::Errc;
using cairn::fs::FileSystem;
using cairn::fs::OpenOptions;

using cairn::testing::Posix;
using cairn::testing::Sim;

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEMPLATE_TEST_CASE("a lock has one holder; a second lock is refused with `locked`", "[lock]", Posix, Sim) {
  TestType env;
  const std::string path = cairn::fs::join_path(env.dir(), "LOCK");
  CHECK_FALSE(env.fs().lock_held(path).value());  // missing file: not locked, not created
  CHECK_FALSE(env.fs().exists(path).value());

  auto first = env.fs().lock(path);
  REQUIRE(first.ok());
  CHECK(env.fs().exists(path).value());
  CHECK(env.fs().lock_held(path).value());
  auto second = env.fs().lock(path);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == Errc::locked);

  REQUIRE((*first)->unlock().ok());
  CHECK_FALSE(env.fs().lock_held(path).value());
  auto third = env.fs().lock(path);
  REQUIRE(third.ok());
  third.value().reset();  // destruction releases too
  CHECK_FALSE(env.fs().lock_held(path).value());
}

TEMPLATE_TEST_CASE("a read-only open reads and refuses every write", "[lock]", Posix, Sim) {
  TestType env;
  const std::string path = cairn::fs::join_path(env.dir(), "data");
  {
    auto f = env.fs().open(path, OpenOptions{.create = true});
    REQUIRE(f.ok());
    REQUIRE(cairn::fs::write_all(**f, 0, bytes("hello")).ok());
    REQUIRE((*f)->sync().ok());
  }
  auto ro = env.fs().open(path, OpenOptions{.read_only = true});
  REQUIRE(ro.ok());
  std::vector<std::uint8_t> back(5);
  CHECK((*ro)->pread(0, back).value() == 5);
  CHECK(back == bytes("hello"));
  CHECK((*ro)->pwrite(0, bytes("x")).error().code == Errc::read_only);
  CHECK((*ro)->append(bytes("x")).error().code == Errc::read_only);
  CHECK((*ro)->truncate(1).error().code == Errc::read_only);
  CHECK((*ro)->sync().error().code == Errc::read_only);
  CHECK((*ro)->size().value() == 5);

  auto bad = env.fs().open(path, OpenOptions{.create = true, .read_only = true});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
  auto missing = env.fs().open(cairn::fs::join_path(env.dir(), "nope"), OpenOptions{.read_only = true});
  CHECK(missing.error().code == Errc::not_found);
}

TEST_CASE("sim: a crash releases every lock, and the dead holder's unlock changes nothing") {
  cairn::fs::SimFileSystem sim(cairn::fs::SimConfig{}, 3);
  auto held = sim.lock("/LOCK");
  REQUIRE(held.ok());
  sim.crash();
  CHECK_FALSE(sim.lock_held("/LOCK").value());
  auto next = sim.lock("/LOCK");
  REQUIRE(next.ok());
  REQUIRE((*held)->unlock().ok());  // the old holder's release must not free the new one
  CHECK(sim.lock_held("/LOCK").value());
}
