// The libFuzzer entry point every target defines. Targets keep no state between inputs:
// anything global they touch (property counters) is reset at the start of each input
// through reset_globals().
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace cairn::fuzz {

// Zeroes every per-run global: property counters (and switches off any canary).
void reset_globals();

}  // namespace cairn::fuzz
