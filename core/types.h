// Basic types of the storage core: records, chain hashes, byte buffers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "simfs/bytes.h"

namespace cairn {

// SHA-256 chain hash: h(n) = SHA-256(h(n-1) || offset || kind || timestamp || payload).
using ChainHash = std::array<std::uint8_t, 32>;
inline constexpr ChainHash kZeroHash{};  // h(-1)

enum class RecordKind : std::uint8_t {
  data = 1,        // a caller's record
  checkpoint = 2,  // payload: chain hash h(offset-1) (32 B) + record count = offset (u64 LE)
};

// True for the kinds this format version defines.
inline bool valid_kind(std::uint8_t k) { return k == 1 || k == 2; }

struct Record {
  std::uint64_t offset = 0;
  std::uint64_t timestamp_us = 0;
  RecordKind kind = RecordKind::data;
  Bytes payload;
};

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }
// Lower-case hex of a hash, for messages and reports.
std::string hex(const ChainHash& h);

}  // namespace cairn
