// Whole-engine fuzz target driven by the decision tape (simfs/decision_tape.h): the input's
// bytes are the tape, read 1, 2, 4 or 8 bytes per choice by the size of its range, so
// every choice the simulator makes -- the swarm (fault families, rates, sizes, sync
// policy), the workload, each fault and crash point -- is a field libFuzzer's coverage
// guidance can steer, and past the input's end every choice is the simplest (0). The run
// is seed 0 for kFuzzInputOps actor events: exactly what `cairn-sim --replay INPUT` runs,
// so a crashing input replays (and converts to a tape file with --tape-out) as it is.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz/engine.h"
#include "fuzz/fuzz_target.h"
#include "sim/tape_file.h"

namespace cairn::fuzz {

sim::SeedOptions engine_options(const std::uint8_t* data, std::size_t size) {
  sim::SeedOptions o;
  o.seed = 0;
  o.events = sim::kFuzzInputOps;
  o.replay_bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
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
    std::fprintf(stderr,
                 "engine: %s\n  replay the input libFuzzer saves: cairn-sim --replay CRASH-FILE"
                 " (add --tape-out F for a tape file, --shrink to minimize it, --html F to look at it)\n",
                 r.failure.c_str());
    std::abort();
  }
  return 0;
}
#endif
