#include "core/cli/duration.h"

namespace cairn::cli {

std::optional<std::uint64_t> parse_duration_us(const std::string& text) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > UINT64_MAX / 10 - 9) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string unit = text.substr(i);
  std::uint64_t scale = 0;
  if (unit == "ms") scale = 1000ull;
  else if (unit.empty() || unit == "s") scale = 1000ull * 1000;
  else if (unit == "m") scale = 60ull * 1000 * 1000;
  else if (unit == "h") scale = 3600ull * 1000 * 1000;
  else if (unit == "d") scale = 86400ull * 1000 * 1000;
  else return std::nullopt;
  if (n > UINT64_MAX / scale) return std::nullopt;
  return n * scale;
}

}  // namespace cairn::cli
