// Structure-aware fuzz target: the whole engine on a fresh SimFileSystem per input. The
// input chooses the swarm configuration (fault families, rates, sizes, sync policy, crash
// rates) and the workload seed; the simulator then runs the real core with faults and
// power-loss points and checks the oracle after every recovery. A failing input aborts
// after printing what broke and the equivalent cairn-sim line.
#include <cstdio>
#include <cstdlib>

#include <fuzzer/FuzzedDataProvider.h>  // clang's own header (resource dir); for g++ see fuzz/CMakeLists.txt

#include "fuzz/engine.h"
#include "fuzz/fuzz_target.h"

namespace cairn::fuzz {

sim::SeedOptions engine_options(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider p(data, size);
  sim::SeedOptions o;
  o.seed = p.ConsumeIntegral<std::uint64_t>();
  o.swarm = sim::Swarm::from_seed(o.seed);
  sim::Swarm& s = o.swarm;
  s.lost_writes = p.ConsumeBool();
  s.lost_write_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 1'000'000);
  s.torn_writes = p.ConsumeBool();
  s.torn_write_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 1'000'000);
  s.extension_garbage = p.ConsumeBool();
  s.dir_reverts = p.ConsumeBool();
  s.dir_revert_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 1'000'000);
  s.read_errors = p.ConsumeBool();
  s.read_error_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 50'000);
  s.fsync_failures = p.ConsumeBool();
  s.fsync_failure_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 100'000);
  s.write_errors = p.ConsumeBool();
  s.write_error_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 100'000);
  s.misdirected_writes = p.ConsumeBool();
  s.bit_flips = p.ConsumeBool();
  s.tampering = p.ConsumeBool();
  s.index_lies = p.ConsumeBool();
  s.crash_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 200'000);
  s.crash_in_recovery_ppm = p.ConsumeIntegralInRange<std::uint32_t>(0, 500'000);
  s.power_off_window_ops = p.ConsumeIntegralInRange<std::uint32_t>(1, 200);
  s.streams = p.ConsumeIntegralInRange<std::uint32_t>(1, 4);
  s.record_bytes_min = p.ConsumeIntegralInRange<std::uint32_t>(1, 64);
  s.record_bytes_max = s.record_bytes_min + p.ConsumeIntegralInRange<std::uint32_t>(0, 2000);
  s.batch_max = p.ConsumeIntegralInRange<std::uint32_t>(1, 32);
  s.max_segment_bytes = p.ConsumeIntegralInRange<std::uint64_t>(256, 16384);
  s.index_interval_bytes = p.ConsumeIntegralInRange<std::uint64_t>(1, 4096);
  s.checkpoint_interval = p.ConsumeIntegralInRange<std::uint64_t>(0, 40);
  switch (p.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: s.sync = "always"; break;
    case 1: s.sync = "every:" + std::to_string(p.ConsumeIntegralInRange<int>(1, 32)); break;
    case 2: s.sync = "every:" + std::to_string(p.ConsumeIntegralInRange<int>(1, 8192)) + "b"; break;
    default: s.sync = "manual"; break;
  }
  s.full_scan_on_open = p.ConsumeBool();
  o.events = p.ConsumeIntegralInRange<std::uint64_t>(20, 250);
  return o;
}

sim::SeedResult engine_one_input(const std::uint8_t* data, std::size_t size) {
  reset_globals();
  return sim::run_seed(engine_options(data, size));
}

}  // namespace cairn::fuzz

#if !defined(CAIRN_FUZZ_NO_ENTRY)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool installed = (cairn::sim::install_property_handler(), true);
  (void)installed;
  cairn::sim::SeedResult r = cairn::fuzz::engine_one_input(data, size);
  if (!r.passed) {
    cairn::sim::SeedOptions o = cairn::fuzz::engine_options(data, size);
    std::string line = "cairn-sim --seed " + std::to_string(o.seed) + " --ops " + std::to_string(o.events);
    for (const auto& [k, v] : o.swarm.fields()) line += " --set " + k + "=" + v;
    std::fprintf(stderr, "engine: %s\n  as a simulator run: %s\n", r.failure.c_str(), line.c_str());
    std::abort();
  }
  return 0;
}
#endif
