// A store on SimFileSystem with file-level helpers, for the tests of core/RECOVERY.md's
// rows: build a state, change bytes or files the way a crash, a disk or an operator
// would, reopen and look at what recovery did.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "core/format.h"
#include "core/manifest.h"
#include "core/store.h"
#include "core/tests/test_env.h"

namespace cairn::testing {

struct RecoveryEnv : SimEnv {
  Options options = small_options();

  RecoveryEnv() { options.checkpoint_interval = 0; }

  std::string stream_dir(std::uint64_t stream) const { return dir + "/" + format::stream_dir_name(stream); }
  std::string seg(std::uint64_t stream, std::uint64_t base) const {
    return stream_dir(stream) + "/" + format::segment_file_name(base);
  }
  std::string idx(std::uint64_t stream, std::uint64_t base) const {
    return stream_dir(stream) + "/" + format::index_file_name(base);
  }

  std::unique_ptr<Store> open(const Options& o) {
    auto s = Store::open(sim, clock, dir, o);
    if (!s.ok()) FAIL("open failed: " + s.error().to_string());
    return std::move(s).value();
  }
  std::unique_ptr<Store> open() { return open(options); }
  Result<std::unique_ptr<Store>> try_open(const Options& o) { return Store::open(sim, clock, dir, o); }
  std::unique_ptr<Store> open_read_only() {
    Options o = options;
    o.read_only = true;
    return open(o);
  }

  // Appends records payload_for(stream, first..first+n) one per batch (sync=always).
  void append(Store& s, std::uint64_t stream, std::uint64_t first, std::uint64_t n) {
    for (std::uint64_t i = first; i < first + n; ++i) {
      clock.advance_us(10);
      auto r = s.append(stream, payload_for(stream, i));
      if (!r.ok()) FAIL("append failed: " + r.error().to_string());
    }
  }
  // A closed store with n records in `stream`.
  void fill_closed(std::uint64_t stream, std::uint64_t n) {
    auto s = open();
    append(*s, stream, 0, n);
    REQUIRE(s->close().ok());
  }
  // A writer that died after n records (no close: the manifest is not clean).
  void fill_died(std::uint64_t stream, std::uint64_t n) {
    auto s = open();
    append(*s, stream, 0, n);
  }

  Bytes read(const std::string& path) { return sim.current_contents(path).value(); }
  bool exists(const std::string& path) { return sim.exists(path).value(); }
  // Replaces a file's contents (made durable: what a disk or an operator leaves).
  void write(const std::string& path, const Bytes& bytes) {
    auto f = sim.open(path, fs::OpenOptions{.create = true, .truncate = true});
    REQUIRE(f.ok());
    REQUIRE(fs::write_all(**f, 0, bytes).ok());
    REQUIRE((*f)->sync().ok());
    REQUIRE(sim.sync_dir(path.substr(0, path.rfind('/'))).ok());
  }
  void remove(const std::string& path) {
    REQUIRE(sim.unlink(path).ok());
    REQUIRE(sim.sync_dir(path.substr(0, path.rfind('/'))).ok());
  }
  void copy(const std::string& from, const std::string& to) { write(to, read(from)); }

  // The bases of a stream's segment files, ascending.
  std::vector<std::uint64_t> bases(std::uint64_t stream) {
    std::vector<std::uint64_t> out;
    const std::vector<std::string> names = sim.list_dir(stream_dir(stream)).value();
    for (const std::string& n : names) {
      if (auto b = format::parse_segment_name(n, "log")) out.push_back(*b);
    }
    return out;
  }
  manifest::Manifest manifest() { return manifest::decode(read(dir + "/MANIFEST"), "MANIFEST").value(); }
};

// Byte position of the k-th frame of a segment file (walking the length fields).
inline std::uint64_t frame_pos(const Bytes& file, std::uint64_t k) {
  std::uint64_t pos = format::kSegmentHeaderBytes;
  for (std::uint64_t i = 0; i < k; ++i) {
    pos += format::kFrameHeaderBytes + static_cast<std::uint64_t>(file[pos + 4]) +
           (static_cast<std::uint64_t>(file[pos + 5]) << 8);
  }
  return pos;
}

inline bool has_action(const RecoveryReport& r, const std::string& text) {
  for (const std::string& a : r.actions) {
    if (a.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace cairn::testing
