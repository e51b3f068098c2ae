// What every benchmark figure shares: the wall clock, medians and percentiles, the run
// configuration, scratch directories and deterministic record contents. Benchmark code:
// errors throw std::runtime_error.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "simfs/bytes.h"
#include "simfs/prng.h"

namespace cairn::bench {

using Wall = std::chrono::steady_clock;

inline double seconds_since(Wall::time_point t) { return std::chrono::duration<double>(Wall::now() - t).count(); }

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Config {
  std::string out = "bench/results";
  std::string dir = "/tmp";
  std::string text_log = "/var/log/dpkg.log";  // the compression figure's input
  unsigned runs = 3;
  bool smoke = false;
};

// A scratch directory removed on destruction.
struct Scratch {
  std::filesystem::path path;
  explicit Scratch(const std::string& base) {
    std::string t = (std::filesystem::path(base) / "cairn-bench-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp in " + base);
    path = t;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// `count` records of `bytes` pseudo-random bytes (incompressible), from `seed`.
inline std::vector<Bytes> make_records(std::size_t count, std::size_t bytes, std::uint64_t seed) {
  Prng p(seed);
  std::vector<Bytes> out(count, Bytes(bytes));
  for (Bytes& r : out) {
    for (auto& b : r) b = static_cast<std::uint8_t>(p.next_u64());
  }
  return out;
}

// Verified sequential read-back at 256 B and 4 KiB records: every system's scan, cairn
// through pread and through mapped segments, and the SHA-256 bound (one SHA-256 per
// record, in memory). Rows: record_bytes, system, mb_per_s, ratio_to_sha256.
nlohmann::json bench_read(const Config& c);
// A real text log (Config::text_log, or a generated one when it is missing) appended with
// none, lz4 and zstd, 16 lines per record: segment bytes, ratio, append and read MB/s.
nlohmann::json bench_compression(const Config& c);

}  // namespace cairn::bench
