// Byte buffers shared by every layer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cairn {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

}  // namespace cairn
