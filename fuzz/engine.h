// The whole-engine fuzz target's pieces, shared with its determinism test.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/simulation.h"

namespace cairn::fuzz {

// The simulator run an input describes: seed 0, sim::kFuzzInputOps events, every choice
// read from the input's bytes (as `cairn-sim --replay INPUT`).
sim::SeedOptions engine_options(const std::uint8_t* data, std::size_t size);
// Resets every global, then runs that simulation.
sim::SeedResult engine_one_input(const std::uint8_t* data, std::size_t size);

}  // namespace cairn::fuzz
