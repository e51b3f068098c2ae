// Nothing carries over between fuzz inputs: the same input twice in one process gives the
// same outcome and the same trace digest, and the property counters start from zero.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "fuzz/engine.h"
#include "properties/properties.h"
#include "sim/tape_file.h"

TEST_CASE("the engine target gives the same outcome and digest for an input run twice") {
  std::vector<std::uint8_t> input(96);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<std::uint8_t>(i * 37 + 11);
  cairn::sim::SeedResult first = cairn::fuzz::engine_one_input(input.data(), input.size());
  std::uint64_t evaluations_after_first = 0;
  for (const auto* s : cairn::props::global_catalog().sites()) evaluations_after_first += s->evaluations();
  // A different input in between must not leak into the rerun.
  std::vector<std::uint8_t> other(96, 0xA5);
  (void)cairn::fuzz::engine_one_input(other.data(), other.size());
  cairn::sim::SeedResult second = cairn::fuzz::engine_one_input(input.data(), input.size());
  std::uint64_t evaluations_after_second = 0;
  for (const auto* s : cairn::props::global_catalog().sites()) evaluations_after_second += s->evaluations();
  CHECK(first.passed == second.passed);
  CHECK(first.failure == second.failure);
  CHECK(first.digest == second.digest);
  CHECK(first.fs_ops == second.fs_ops);
  CHECK(first.events > 0);
  CHECK(evaluations_after_first > 0);
  CHECK(evaluations_after_first == evaluations_after_second);  // counters were reset per input
}

TEST_CASE("an engine input is the run cairn-sim --replay makes of the same bytes") {
  std::vector<std::uint8_t> input(300);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<std::uint8_t>(i * 131 + 7);
  const cairn::sim::SeedResult fuzzed = cairn::fuzz::engine_one_input(input.data(), input.size());
  cairn::sim::SeedOptions replay;  // what sim/cli.cc makes of `--replay FILE` for a non-tape file
  replay.seed = 0;
  replay.events = cairn::sim::kFuzzInputOps;
  replay.replay_bytes = std::make_shared<const std::string>(input.begin(), input.end());
  const cairn::sim::SeedResult replayed = cairn::sim::run_seed(replay);
  CHECK(fuzzed.digest == replayed.digest);
  CHECK(fuzzed.passed == replayed.passed);
  CHECK(fuzzed.events == replayed.events);
}
