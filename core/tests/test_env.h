// Test environments for the core's suite: the same tests run on a real temporary
// directory (PosixEnv) and on SimFileSystem with faults off (SimEnv).
#pragma once

#include <memory>
#include <string>

#include "core/store.h"
#include "simfs/clock.h"
#include "simfs/posix_filesystem.h"
#include "simfs/sim_filesystem.h"
#include "simfs/tests/temp_dir.h"

namespace cairn::testing {

struct PosixEnv {
  static constexpr const char* name = "posix";
  TempDir tmp;
  fs::PosixFileSystem posix;
  ManualClock clock{1'000'000};
  std::string dir = tmp.path() + "/store";
  fs::FileSystem& fs() { return posix; }
};

struct SimEnv {
  static constexpr const char* name = "sim";
  ManualClock clock{1'000'000};
  fs::SimFileSystem sim{fs::SimConfig{}, 1, &clock};
  std::string dir = "/store";
  fs::FileSystem& fs() { return sim; }
};

inline Options small_options() {
  Options o;
  o.max_segment_bytes = 4096;
  o.index_interval_bytes = 256;
  o.checkpoint_interval = 8;
  return o;
}

template <typename Env>
std::unique_ptr<Store> open_store(Env& env, const Options& o = small_options()) {
  auto s = Store::open(env.fs(), env.clock, env.dir, o);
  if (!s.ok()) throw std::runtime_error("open failed: " + s.error().to_string());
  return std::move(s).value();
}

// A payload that names its stream and offset, so misplaced bytes are visible.
inline Bytes payload_for(std::uint64_t stream, std::uint64_t n, std::size_t len = 40) {
  std::string s = "s" + std::to_string(stream) + "-r" + std::to_string(n) + ":";
  while (s.size() < len) s += static_cast<char>('a' + (n + s.size()) % 26);
  s.resize(len);
  return Bytes(s.begin(), s.end());
}

}  // namespace cairn::testing
