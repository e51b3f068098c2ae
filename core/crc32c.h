// CRC32C (Castagnoli, the iSCSI CRC of RFC 3720 §B.4), computed by ISA-L crc32_iscsi.
// crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstdint>

#include "core/types.h"

namespace cairn {

// CRC32C of data. To checksum pieces, pass the previous result as `crc`.
std::uint32_t crc32c(ByteView data, std::uint32_t crc = 0);

}  // namespace cairn
