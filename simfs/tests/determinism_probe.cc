// Runs a fixed-length random workload, with every fault family on, on a SimFileSystem
// seeded from argv[1], and prints the trace digest. ctest runs it in two processes and
// requires equal digests (and a different digest for a different seed).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "simfs/sim_filesystem.h"

using namespace cairn;
using namespace cairn::fs;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::uint64_t seed = std::strtoull(argv[1], nullptr, 10);
  SimConfig cfg;
  cfg.lost_writes = cfg.torn_writes = cfg.extension_garbage = cfg.dir_reverts = true;
  cfg.read_errors = cfg.fsync_failures = cfg.write_errors = cfg.misdirected_writes = true;
  cfg.read_error_ppm = cfg.fsync_failure_ppm = cfg.write_error_ppm = 50'000;
  cfg.misdirected_write_ppm = 20'000;
  cfg.latency_min_us = 5;
  cfg.latency_max_us = 50;
  Prng workload(seed ^ 0x5eed);
  Prng faults(seed);
  ManualClock clock;
  SimFileSystem fs(cfg, faults, &clock);
  (void)fs.mkdir("/w");
  for (int i = 0; i < 3000; ++i) {
    const std::string path = "/w/f" + std::to_string(workload.below(5));
    switch (workload.below(8)) {
      case 0:
      case 1:
      case 2: {
        auto f = fs.open(path, OpenOptions{.create = true});
        if (!f.ok()) break;
        Bytes data(workload.below(3000), static_cast<std::uint8_t>(i));
        (void)(*f)->pwrite(workload.below(8000), data);
        if (workload.coin()) (void)(*f)->sync();
        break;
      }
      case 3: {
        auto f = fs.open(path, {});
        if (!f.ok()) break;
        Bytes buf(workload.below(4000));
        (void)(*f)->pread(workload.below(8000), buf);
        break;
      }
      case 4: (void)fs.sync_dir("/w"); break;
      case 5: (void)fs.rename(path, "/w/f" + std::to_string(workload.below(5))); break;
      case 6: (void)fs.inject_random_bit_flip("/w/"); break;
      case 7:
        if (workload.below(10) == 0) fs.crash();
        break;
    }
  }
  std::printf("%016llx %zu\n", static_cast<unsigned long long>(fs.trace_digest()), fs.fault_log().size());
  return 0;
}
