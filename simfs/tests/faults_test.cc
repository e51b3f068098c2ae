// One test per SimFileSystem fault family, pinning the crash outcomes it allows, plus
// power-off and latency. Outcomes that are random are checked across many seeds: every
// allowed outcome must occur and nothing else may.
#include <catch2/catch.hpp>

#include <set>

#include "simfs/sim_filesystem.h"

using namespace cairn;
using namespace cairn::fs;

namespace {

Bytes fill(std::size_t n, std::uint8_t v) { return Bytes(n, v); }

// A file "/d/f" whose name and `base` contents are durable.
std::unique_ptr<File> durable_file(SimFileSystem& fs, const Bytes& base) {
  REQUIRE(fs.mkdir("/d").ok());
  REQUIRE(fs.sync_dir("/").ok());
  auto f = fs.open("/d/f", OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(write_all(**f, 0, base).ok());
  REQUIRE((*f)->sync().ok());
  REQUIRE(fs.sync_dir("/d").ok());
  return std::move(f).value();
}

Bytes contents(SimFileSystem& fs, const std::string& path) {
  auto c = fs.current_contents(path);
  REQUIRE(c);
  return *c;
}

// Creates /d/a, /d/b, /d/c (with /d durable), then a sync_dir of /d that fails.
void fail_sync_of_three_creates(SimFileSystem& fs) {
  REQUIRE(fs.mkdir("/d").ok());
  REQUIRE(fs.sync_dir("/").ok());
  for (const char* name : {"/d/a", "/d/b", "/d/c"}) REQUIRE(fs.open(name, OpenOptions{.create = true}).ok());
  fs.mutable_config().fsync_failures = true;
  fs.mutable_config().fsync_failure_ppm = 1'000'000;
  CHECK(fs.sync_dir("/d").error().code == Errc::io_error);
  fs.mutable_config().fsync_failures = false;
}

// After a crash, the first letters of the names /d keeps ("ab": a and b survived).
std::string kept_after_crash(SimFileSystem& fs) {
  fs.crash();
  std::string kept;
  for (const std::string& n : fs.list_dir("/d").value()) kept += n.substr(0, 1);
  return kept;
}

}  // namespace

TEST_CASE("faults off: a crash keeps everything, synced or not") {
  SimFileSystem fs(SimConfig{}, 1);
  auto f = durable_file(fs, fill(100, 'a'));
  REQUIRE(write_all(*f, 100, fill(50, 'b')).ok());
  REQUIRE(fs.open("/d/g", OpenOptions{.create = true}).ok());
  fs.crash();
  CHECK(contents(fs, "/d/f").size() == 150);
  CHECK(fs.exists("/d/g").value());
  CHECK(fs.fault_log().empty());
  CHECK(f->size().error().code == Errc::io_error);  // handles die with the crash
}

TEST_CASE("lost writes: each unsynced write is dropped or kept, so holes appear") {
  SimConfig cfg;
  cfg.lost_writes = true;
  cfg.lost_write_ppm = 500'000;
  std::set<std::string> outcomes;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    SimFileSystem fs(cfg, seed);
    auto f = durable_file(fs, fill(1024, 'a'));
    REQUIRE(write_all(*f, 0, fill(512, 'x')).ok());
    REQUIRE(write_all(*f, 512, fill(512, 'y')).ok());
    fs.crash();
    Bytes c = contents(fs, "/d/f");
    REQUIRE(c.size() == 1024);
    std::string o;
    o += c[0] == 'x' ? 'X' : (c[0] == 'a' ? 'a' : '?');
    o += c[512] == 'y' ? 'Y' : (c[512] == 'a' ? 'a' : '?');
    outcomes.insert(o);
    CHECK(fs.fault_count(FaultFamily::lost_write) == static_cast<std::uint64_t>((o[0] == 'a') + (o[1] == 'a')));
  }
  // Both kept, both lost, and either one alone (a hole before kept data).
  CHECK(outcomes == std::set<std::string>{"XY", "Xa", "aY", "aa"});
}

TEST_CASE("synced data never changes at a crash unless a flip is logged") {
  SimConfig cfg;
  cfg.lost_writes = cfg.torn_writes = cfg.extension_garbage = cfg.dir_reverts = true;
  for (std::uint64_t seed = 1; seed <= 32; ++seed) {
    SimFileSystem fs(cfg, seed);
    auto f = durable_file(fs, fill(3000, 's'));
    REQUIRE(write_all(*f, 3000, fill(700, 'u')).ok());  // unsynced tail
    fs.crash();
    Bytes c = contents(fs, "/d/f");
    REQUIRE(c.size() >= 3000);
    CHECK(Bytes(c.begin(), c.begin() + 3000) == fill(3000, 's'));
    CHECK(fs.fault_count(FaultFamily::bit_flip) == 0);
  }
}

TEST_CASE("torn writes: a crash keeps any subset of a write's sectors") {
  SimConfig cfg;
  cfg.torn_writes = true;
  cfg.torn_write_ppm = 1'000'000;
  std::set<std::string> patterns;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    SimFileSystem fs(cfg, seed);
    auto f = durable_file(fs, fill(2048, 'o'));
    REQUIRE(write_all(*f, 0, fill(2048, 'n')).ok());
    fs.crash();
    Bytes c = contents(fs, "/d/f");
    REQUIRE(c.size() == 2048);
    std::string p;
    for (std::size_t s = 0; s < 4; ++s) {
      // Each 512-byte sector is wholly old or wholly new.
      Bytes sector(c.begin() + static_cast<long>(s * 512), c.begin() + static_cast<long>(s * 512 + 512));
      bool all_new = sector == fill(512, 'n');
      bool all_old = sector == fill(512, 'o');
      REQUIRE((all_new || all_old));
      p += all_new ? '1' : '0';
    }
    patterns.insert(p);
    CHECK(fs.fault_count(FaultFamily::torn_write) == 1);
  }
  CHECK(patterns.size() > 8);  // many of the 16 subsets occur
}

TEST_CASE("extension garbage: a lost extension may keep its size with zeros or garbage") {
  SimConfig cfg;
  cfg.lost_writes = true;
  cfg.lost_write_ppm = 1'000'000;
  cfg.extension_garbage = true;
  cfg.extension_garbage_ppm = 1'000'000;
  std::set<std::string> kinds;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    SimFileSystem fs(cfg, seed);
    auto f = durable_file(fs, fill(100, 'a'));
    REQUIRE(write_all(*f, 100, fill(400, 'd')).ok());
    fs.crash();
    Bytes c = contents(fs, "/d/f");
    REQUIRE(c.size() == 500);
    Bytes ext(c.begin() + 100, c.end());
    CHECK(ext != fill(400, 'd'));
    kinds.insert(ext == fill(400, 0) ? "zeros" : "garbage");
    REQUIRE(fs.fault_count(FaultFamily::extension_garbage) == 1);
    CHECK(fs.fault_log().back().byte_pos == 100);
    CHECK(fs.fault_log().back().len == 400);
  }
  CHECK(kinds == std::set<std::string>{"zeros", "garbage"});
}

TEST_CASE("directory entries: create and rename without sync_dir may revert") {
  SimConfig cfg;
  cfg.dir_reverts = true;
  cfg.dir_revert_ppm = 1'000'000;
  SECTION("a created file vanishes; after sync_dir it stays") {
    SimFileSystem fs(cfg, 3);
    REQUIRE(fs.mkdir("/d").ok());
    REQUIRE(fs.sync_dir("/").ok());
    auto kept = fs.open("/d/kept", OpenOptions{.create = true});
    REQUIRE(fs.sync_dir("/d").ok());
    auto f = fs.open("/d/new", OpenOptions{.create = true});
    REQUIRE(f.ok());
    REQUIRE(write_all(**f, 0, fill(10, 'z')).ok());
    REQUIRE((*f)->sync().ok());  // data synced, entry not
    fs.crash();
    CHECK_FALSE(fs.exists("/d/new").value());
    CHECK(fs.exists("/d/kept").value());
    CHECK(fs.fault_count(FaultFamily::dir_revert) == 1);
  }
  SECTION("a rename reverts to the old name and contents") {
    SimFileSystem fs(cfg, 4);
    auto f = durable_file(fs, fill(10, 'o'));
    auto t = fs.open("/d/f.tmp", OpenOptions{.create = true});
    REQUIRE(write_all(**t, 0, fill(10, 'n')).ok());
    REQUIRE((*t)->sync().ok());
    REQUIRE(fs.sync_dir("/d").ok());
    REQUIRE(fs.rename("/d/f.tmp", "/d/f").ok());
    CHECK(contents(fs, "/d/f") == fill(10, 'n'));
    fs.crash();
    CHECK(contents(fs, "/d/f") == fill(10, 'o'));
    CHECK(fs.exists("/d/f.tmp").value());
    CHECK(fs.fault_count(FaultFamily::dir_revert) == 1);
  }
  SECTION("an unsynced mkdir takes its contents with it") {
    SimFileSystem fs(cfg, 5);
    REQUIRE(fs.mkdir("/v").ok());
    auto f = fs.open("/v/x", OpenOptions{.create = true});
    REQUIRE(fs.sync_dir("/v").ok());
    fs.crash();
    CHECK_FALSE(fs.exists("/v").value());
    CHECK_FALSE(fs.exists("/v/x").value());
  }
}

TEST_CASE("bit flips at rest persist across re-reads and crashes, and are logged") {
  SimFileSystem fs(SimConfig{}, 9);
  auto f = durable_file(fs, fill(100, 0));
  REQUIRE(fs.inject_bit_flip("/d/f", 42, 3));
  Bytes a(100), b(100);
  REQUIRE(f->pread(0, a).value() == 100);
  REQUIRE(f->pread(0, b).value() == 100);
  CHECK(a[42] == 8);
  CHECK(a == b);
  fs.crash();
  CHECK(contents(fs, "/d/f")[42] == 8);
  REQUIRE(fs.fault_log().size() == 1);
  CHECK(fs.fault_log()[0].family == FaultFamily::bit_flip);
  CHECK(fs.fault_log()[0].path == "/d/f");
  CHECK(fs.fault_log()[0].byte_pos == 42);
  CHECK_FALSE(fs.inject_bit_flip("/d/f", 100, 0));
  auto random = fs.inject_random_bit_flip("/d/");
  REQUIRE(random);
  CHECK(random->path == "/d/f");
  CHECK(random->byte_pos < 100);
}

TEST_CASE("read errors: transient ones fail once, sticky ones keep failing") {
  SimConfig cfg;
  cfg.read_errors = true;
  cfg.read_error_ppm = 1'000'000;
  SECTION("transient") {
    cfg.read_error_sticky_ppm = 0;
    SimFileSystem fs(cfg, 2);
    auto f = durable_file(fs, fill(1000, 'r'));
    fs.mutable_config().read_errors = true;
    Bytes buf(1000);
    CHECK(f->pread(0, buf).error().code == Errc::io_error);
    fs.mutable_config().read_errors = false;
    CHECK(f->pread(0, buf).value() == 1000);
  }
  SECTION("sticky") {
    cfg.read_error_sticky_ppm = 1'000'000;
    SimFileSystem fs(cfg, 2);
    auto f = durable_file(fs, fill(1000, 'r'));
    Bytes buf(1000);
    CHECK(f->pread(0, buf).error().code == Errc::io_error);
    fs.mutable_config().read_errors = false;
    CHECK(f->pread(0, buf).error().code == Errc::io_error);
    CHECK(f->pread(0, buf).error().code == Errc::io_error);
    CHECK(fs.fault_count(FaultFamily::read_error) == 1);
  }
}

TEST_CASE("fsync failure: reported once; the unsynced data survives, is lost or is torn") {
  std::set<std::string> outcomes;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    SimConfig cfg;
    cfg.sector_bytes = 512;
    SimFileSystem fs(cfg, seed);
    auto f = durable_file(fs, fill(10, 'a'));
    REQUIRE(write_all(*f, 1024, fill(1024, 'b')).ok());  // two sectors
    fs.mutable_config().fsync_failures = true;
    fs.mutable_config().fsync_failure_ppm = 1'000'000;
    CHECK(f->sync().error().code == Errc::io_error);
    fs.mutable_config().fsync_failures = false;
    CHECK(f->sync().ok());  // Linux reports the error once; this does not make it durable
    CHECK(contents(fs, "/d/f").size() == 2048);  // the page cache still shows it
    fs.crash();
    Bytes c = contents(fs, "/d/f");
    c.resize(2048, 0);
    const bool first = c[1024] == 'b';
    const bool second = c[1536] == 'b';
    outcomes.insert(first && second ? "kept" : !first && !second ? "lost" : "torn");
    CHECK(fs.fault_count(FaultFamily::fsync_failure) == 1);
  }
  CHECK(outcomes == std::set<std::string>{"kept", "lost", "torn"});
}

TEST_CASE("a full disk refuses new bytes until it is freed; bytes over existing ones land") {
  SimConfig cfg;
  SimFileSystem fs(cfg, 7);
  auto f = durable_file(fs, fill(10, 'a'));
  fs.set_disk_full(true);
  CHECK(f->pwrite(10, fill(5, 'b')).error().code == Errc::no_space);
  auto short_write = f->pwrite(8, fill(5, 'c'));  // 2 bytes fit over existing ones
  REQUIRE(short_write.ok());
  CHECK(*short_write == 2);
  CHECK(f->pwrite(0, fill(4, 'd')).ok());
  CHECK(f->pwrite(10, fill(1, 'e')).error().code == Errc::no_space);
  CHECK(contents(fs, "/d/f").size() == 10);
  fs.set_disk_full(false);
  CHECK(f->pwrite(10, fill(5, 'b')).ok());
  CHECK(contents(fs, "/d/f").size() == 15);
  CHECK(fs.fault_count(FaultFamily::no_space) == 3);
}

TEST_CASE("directory fsync failure: an in-order prefix reaches the disk; the rest may be lost for good") {
  // Three creates in one directory, its fsync fails. Each later outcome must keep a prefix
  // in order or skip ones that were lost for good: a later successful sync_dir never
  // writes a lost one, although the process still sees all three until the crash.
  std::set<std::string> outcomes;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    SimFileSystem fs(SimConfig{}, seed);
    fail_sync_of_three_creates(fs);
    CHECK(fs.list_dir("/d")->size() == 3);
    CHECK(fs.sync_dir("/d").ok());  // does not rescue a lost one
    outcomes.insert(kept_after_crash(fs));
  }
  CHECK(outcomes.count("abc") == 1);
  CHECK(outcomes.count("") == 1);
  CHECK(outcomes.size() >= 5);  // prefixes, and later ones kept or lost independently
}

TEST_CASE("directory fsync failure with ordered_dir_reverts: only prefixes survive (a journal's order)") {
  // Found by the LevelDB sweep: a failed sync_dir kept an unlink and lost the rename before
  // it, an order no journaling filesystem produces.
  std::set<std::string> outcomes;
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    SimConfig cfg;
    cfg.ordered_dir_reverts = true;
    SimFileSystem fs(cfg, seed);
    fail_sync_of_three_creates(fs);
    outcomes.insert(kept_after_crash(fs));
  }
  CHECK(outcomes == std::set<std::string>{"", "a", "ab", "abc"});
}

TEST_CASE("rmdir removes an empty directory, durable after sync_dir of its parent") {
  SimFileSystem fs(SimConfig{}, 1);
  REQUIRE(fs.mkdir("/d").ok());
  REQUIRE(fs.mkdir("/d/e").ok());
  REQUIRE(fs.sync_dir("/").ok());
  REQUIRE(fs.sync_dir("/d").ok());
  REQUIRE(fs.open("/d/e/f", OpenOptions{.create = true}).ok());
  CHECK(fs.rmdir("/d/e").error().code == Errc::invalid_argument);  // not empty
  REQUIRE(fs.unlink("/d/e/f").ok());
  REQUIRE(fs.rmdir("/d/e").ok());
  CHECK_FALSE(fs.exists("/d/e").value());
  CHECK(fs.rmdir("/d/e").error().code == Errc::not_found);
  REQUIRE(fs.sync_dir("/d").ok());
  fs.crash();
  CHECK_FALSE(fs.exists("/d/e").value());
}

TEST_CASE("write errors: EIO writes nothing; out of space is a short write then ENOSPC") {
  SimConfig cfg;
  cfg.write_errors = true;
  cfg.write_error_ppm = 1'000'000;
  SECTION("EIO") {
    cfg.write_no_space_ppm = 0;
    SimFileSystem fs(cfg, 1);
    REQUIRE(fs.mkdir("/d").ok());
    auto f = fs.open("/d/f", OpenOptions{.create = true});
    CHECK((*f)->pwrite(0, fill(100, 'x')).error().code == Errc::io_error);
    CHECK((*f)->size().value() == 0);
    CHECK(fs.fault_count(FaultFamily::write_error) == 1);
  }
  SECTION("no space") {
    cfg.write_no_space_ppm = 1'000'000;
    bool saw_short = false;
    for (std::uint64_t seed = 1; seed <= 16; ++seed) {
      SimFileSystem fs(cfg, seed);
      REQUIRE(fs.mkdir("/d").ok());
      auto f = fs.open("/d/f", OpenOptions{.create = true});
      auto n = (*f)->pwrite(0, fill(1000, 'x'));
      if (n.ok()) {
        saw_short = true;
        CHECK(*n < 1000);
        CHECK((*f)->size().value() == *n);
        fs.mutable_config().write_errors = false;
        CHECK((*f)->pwrite(*n, fill(10, 'y')).error().code == Errc::no_space);
      } else {
        CHECK(n.error().code == Errc::no_space);
      }
      CHECK(fs.fault_count(FaultFamily::no_space) == 1);
    }
    CHECK(saw_short);
  }
}

TEST_CASE("misdirected writes land elsewhere and the log says where") {
  SimConfig cfg;
  cfg.misdirected_writes = true;
  cfg.misdirected_write_ppm = 1'000'000;
  SimFileSystem fs(cfg, 11);
  REQUIRE(fs.mkdir("/d").ok());
  auto f = fs.open("/d/f", OpenOptions{.create = true});
  REQUIRE((*f)->pwrite(4096, fill(100, 'm')).value() == 100);
  REQUIRE(fs.fault_count(FaultFamily::misdirected_write) == 1);
  const FaultRecord& r = fs.fault_log().back();
  CHECK(r.byte_pos != 4096);
  CHECK(r.byte_pos % 512 == 0);
  Bytes c = contents(fs, "/d/f");
  CHECK(c[static_cast<std::size_t>(r.byte_pos)] == 'm');
}

TEST_CASE("power off at the n-th operation fails it and everything after until restart") {
  SimFileSystem fs(SimConfig{}, 1);
  auto f = durable_file(fs, fill(10, 'a'));
  fs.arm_power_off(3);
  CHECK(f->pwrite(10, fill(5, 'b')).ok());  // 1
  CHECK(f->size().ok());                    // 2
  CHECK(f->sync().error().code == Errc::io_error);  // 3: power lost here
  CHECK(fs.powered_off());
  CHECK(fs.exists("/d/f").error().code == Errc::io_error);
  fs.restart();
  CHECK_FALSE(fs.powered_off());
  CHECK(fs.exists("/d/f").value());
  CHECK(contents(fs, "/d/f").size() == 15);  // faults off: the page cache survived
}

TEST_CASE("latency advances the clock per operation, syncs slower") {
  SimConfig cfg;
  cfg.latency_min_us = 10;
  cfg.latency_max_us = 20;
  cfg.sync_latency_factor = 100;
  ManualClock clock(0);
  SimFileSystem fs(cfg, 5, &clock);
  REQUIRE(fs.mkdir("/d").ok());
  CHECK(clock.now_us() >= 10);
  CHECK(clock.now_us() <= 20);
  const std::uint64_t before = clock.now_us();
  REQUIRE(fs.sync_dir("/d").ok());
  CHECK(clock.now_us() - before >= 1000);
  CHECK(clock.now_us() - before <= 2000);
}

TEST_CASE("the trace digest depends on every operation and fault") {
  auto digest = [](std::uint64_t seed, bool extra) {
    SimConfig cfg;
    cfg.lost_writes = cfg.torn_writes = true;
    SimFileSystem fs(cfg, seed);
    fs.set_trace(true);
    auto f = durable_file(fs, fill(10, 'a'));
    REQUIRE(write_all(*f, 10, fill(2000, 'b')).ok());
    if (extra) REQUIRE(f->size().ok());
    fs.crash();
    return std::make_pair(fs.trace_digest(), fs.trace().size());
  };
  CHECK(digest(1, false) == digest(1, false));
  CHECK(digest(1, false).first != digest(1, true).first);
  CHECK(digest(1, false).second > 5);
}

TEST_CASE("the trace digest takes each operation's arguments, kept lines or not") {
  auto digest = [](bool keep, std::uint64_t byte_pos, const std::string& name) {
    SimFileSystem fs(SimConfig{}, 3);
    fs.set_trace(keep);
    REQUIRE(fs.mkdir("/d").ok());
    auto f = fs.open("/d/" + name, OpenOptions{.create = true});
    REQUIRE(f.ok());
    REQUIRE(write_all(**f, byte_pos, fill(10, 'x')).ok());
    return fs.trace_digest();
  };
  CHECK(digest(true, 0, "f") == digest(false, 0, "f"));
  CHECK(digest(false, 0, "f") != digest(false, 1, "f"));
  CHECK(digest(false, 0, "f") != digest(false, 0, "g"));
}

TEST_CASE("paths: every spelling of a path names one file; '..' is refused") {
  SimFileSystem fs(SimConfig{}, 1);
  REQUIRE(fs.mkdir("/d").ok());
  auto f = fs.open("/d/f", OpenOptions{.create = true});
  REQUIRE(f.ok());
  REQUIRE(write_all(**f, 0, fill(3, 'a')).ok());
  for (const char* spelling : {"/d/f", "//d/f", "/d//f", "/./d/f", "/d/./f", "d/f"}) {
    INFO(spelling);
    auto g = fs.open(spelling, OpenOptions{});
    REQUIRE(g.ok());
    CHECK((*g)->size().value() == 3);
  }
  CHECK(fs.exists("/d/").value());
  CHECK(fs.open("/d/../d/f", OpenOptions{}).error().code == Errc::invalid_argument);
  CHECK(fs.open("/d/..", OpenOptions{}).error().code == Errc::invalid_argument);
}
