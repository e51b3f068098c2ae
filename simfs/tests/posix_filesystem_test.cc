// PosixFileSystem against a real temporary directory.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "simfs/posix_filesystem.h"
#include "simfs/tests/temp_dir.h"

namespace {

using cairn::Errc;
using cairn::fs::join_path;
using cairn::fs::OpenOptions;
using cairn::fs::PosixFileSystem;

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("posix: create, write, read back, size, truncate") {
  cairn::testing::TempDir dir;
  PosixFileSystem fs;
  const std::string path = join_path(dir.path(), "a");
  auto missing = fs.open(path, {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);

  auto file = fs.open(path, OpenOptions{.create = true, .exclusive = true});
  REQUIRE(file.ok());
  auto data = bytes("hello world");
  auto n = (*file)->pwrite(0, data);
  REQUIRE(n.ok());
  CHECK(*n == data.size());
  auto appended = (*file)->append(bytes("!"));
  REQUIRE(appended.ok());
  CHECK((*file)->size().value() == 12);

  std::vector<std::uint8_t> back(32);
  auto got = (*file)->pread(0, back);
  REQUIRE(got.ok());
  CHECK(*got == 12);
  CHECK(std::string(back.begin(), back.begin() + 12) == "hello world!");
  CHECK((*file)->pread(100, back).value() == 0);

  REQUIRE((*file)->truncate(5).ok());
  CHECK((*file)->size().value() == 5);
  REQUIRE((*file)->sync().ok());
  REQUIRE((*file)->close().ok());
  CHECK((*file)->close().error().code == Errc::invalid_argument);

  auto again = fs.open(path, OpenOptions{.create = true, .exclusive = true});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::already_exists);
  auto trunc = fs.open(path, OpenOptions{.create = true, .truncate = true});
  REQUIRE(trunc.ok());
  CHECK((*trunc)->size().value() == 0);
}

TEST_CASE("posix: writing past the end zero-fills the gap") {
  cairn::testing::TempDir dir;
  PosixFileSystem fs;
  auto file = fs.open(join_path(dir.path(), "gap"), OpenOptions{.create = true});
  REQUIRE(file.ok());
  REQUIRE(cairn::fs::write_all(**file, 4, bytes("x")).ok());
  std::vector<std::uint8_t> back(5);
  REQUIRE((*file)->pread(0, back).value() == 5);
  CHECK(back == std::vector<std::uint8_t>{0, 0, 0, 0, 'x'});
}

TEST_CASE("posix: directories, rename, unlink, list, exists, sync_dir") {
  cairn::testing::TempDir dir;
  PosixFileSystem fs;
  const std::string sub = join_path(dir.path(), "sub");
  REQUIRE(fs.mkdir(sub).ok());
  CHECK(fs.mkdir(sub).error().code == Errc::already_exists);
  CHECK(fs.mkdir(join_path(dir.path(), "no/such")).error().code == Errc::not_found);
  for (const char* name : {"b", "a", "c"}) {
    REQUIRE(fs.open(join_path(sub, name), OpenOptions{.create = true}).ok());
  }
  REQUIRE(fs.rename(join_path(sub, "c"), join_path(sub, "d")).ok());
  REQUIRE(fs.unlink(join_path(sub, "a")).ok());
  CHECK(fs.unlink(join_path(sub, "a")).error().code == Errc::not_found);
  CHECK(fs.rename(join_path(sub, "zz"), join_path(sub, "y")).error().code == Errc::not_found);
  auto names = fs.list_dir(sub);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"b", "d"});
  CHECK(fs.exists(join_path(sub, "b")).value());
  CHECK_FALSE(fs.exists(join_path(sub, "a")).value());
  REQUIRE(fs.sync_dir(sub).ok());
  CHECK(fs.sync_dir(join_path(dir.path(), "nope")).error().code == Errc::not_found);
  CHECK(fs.list_dir(join_path(dir.path(), "nope")).error().code == Errc::not_found);
  CHECK(fs.open(sub, {}).error().code == Errc::invalid_argument);
}

TEST_CASE("posix: read_file refuses files above the limit") {
  cairn::testing::TempDir dir;
  PosixFileSystem fs;
  const std::string path = join_path(dir.path(), "f");
  auto file = fs.open(path, OpenOptions{.create = true});
  REQUIRE(file.ok());
  REQUIRE(cairn::fs::write_all(**file, 0, bytes("0123456789")).ok());
  CHECK(cairn::fs::read_file(fs, path, 10).value().size() == 10);
  auto big = cairn::fs::read_file(fs, path, 9);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::invalid_argument);
  CHECK(big.error().to_string().find(path) != std::string::npos);
}

TEST_CASE("parent_path: the directory holding an absolute path") {
  CHECK(cairn::fs::parent_path("/db/test.db-journal") == "/db");
  CHECK(cairn::fs::parent_path("/a/b/c") == "/a/b");
  CHECK(cairn::fs::parent_path("/db") == "/");
  CHECK(cairn::fs::parent_path("name") == "/");
}
