#include "core/crc32c.h"

#include <climits>

#include <isa-l/crc.h>

namespace cairn {

std::uint32_t crc32c(ByteView data, std::uint32_t crc) {
  // ISA-L works on the raw register: pre- and post-inversion are the caller's.
  unsigned int reg = ~crc;
  const std::uint8_t* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    std::size_t chunk = left > static_cast<std::size_t>(INT_MAX) ? static_cast<std::size_t>(INT_MAX) : left;
    reg = crc32_iscsi(const_cast<unsigned char*>(p), static_cast<int>(chunk), reg);
    p += chunk;
    left -= chunk;
  }
  return ~reg;
}

}  // namespace cairn
