// Little-endian fixed-width integer encoding into and out of byte buffers.
// REQUIRES: the buffer has room for the value at `pos` (callers check sizes first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cairn::le {

template <typename T>
inline void put(std::uint8_t* dst, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    dst[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i));
  }
}

template <typename T>
inline T get(const std::uint8_t* src) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<std::uint64_t>(src[i]) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace cairn::le
