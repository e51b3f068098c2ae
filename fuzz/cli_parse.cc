// Fuzz target: the parsers behind command-line input: sync policies, durations, swarm
// overrides (key=value) and length-prefixed record streams.
#include <cstdlib>
#include <string>

#include "core/cli/duration.h"
#include "core/cli/records.h"
#include "core/store.h"
#include "fuzz/fuzz_target.h"
#include "sim/swarm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cairn::fuzz::reset_globals();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto policy = cairn::parse_sync_policy(text);
  if (policy.ok() && cairn::parse_sync_policy(cairn::to_string(*policy)).value().mode != policy->mode) std::abort();
  (void)cairn::cli::parse_duration_us(text);
  cairn::sim::Swarm swarm;
  auto eq = text.find('=');
  if (eq != std::string::npos) (void)swarm.set(text.substr(0, eq), text.substr(eq + 1));
  auto records = cairn::cli::split_length_prefixed(cairn::ByteView(data, size), 1 << 16);
  if (records.ok()) {
    std::size_t total = 0;
    for (const auto& r : *records) total += 4 + r.size();
    if (total != size) std::abort();
  }
  return 0;
}
