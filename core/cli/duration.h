// Parses durations for `cairn purge --older-than`: "500ms", "30s", "15m", "12h", "7d", or a
// bare number of seconds. Returns microseconds, or nullopt for anything else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cairn::cli {

std::optional<std::uint64_t> parse_duration_us(const std::string& text);

}  // namespace cairn::cli
