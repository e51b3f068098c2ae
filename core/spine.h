// The spine file of a stream: one leaf per record, in offset order, for the stream's
// Merkle tree (core/merkle.h). Retention never removes it, so a stream proves records it
// no longer holds. Format (core/FORMAT.md, "Spine"):
//   header, 32 bytes: magic "CAIRNSPN", u32 LE version (1), u32 LE entry bytes (36),
//                     u64 LE stream id, u32 LE zero, u32 LE CRC32C of bytes [0, 28)
//   entry i, 36 bytes at 32 + 36 * i: the leaf data of offset i (32 bytes: the record's
//                     chain hash h(i), or 32 zero bytes for an offset a repair removed
//                     before its leaf reached the spine), then u32 LE CRC32C of
//                     (offset i as u64 LE || leaf data) (RFC 3720 §B.4 CRC32C).
// Pure: bytes in, values out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"
#include "simfs/result.h"

namespace cairn::spine {

inline constexpr std::uint64_t kHeaderBytes = 32;
inline constexpr std::uint64_t kEntryBytes = 36;
inline constexpr std::uint32_t kVersion = 1;
// Leaf data of an offset whose record was removed by repair before its leaf was written:
// no SHA-256 output is expected to be all zeros, so it marks the loss in the tree.
inline constexpr ChainHash kLostLeaf{};

// "spine", inside the stream directory.
const char* file_name();

// Byte position of offset `offset`'s entry.
constexpr std::uint64_t entry_pos(std::uint64_t offset) { return kHeaderBytes + offset * kEntryBytes; }
// Whole entries a file of `file_bytes` holds (0 when it is shorter than the header).
constexpr std::uint64_t entries_in(std::uint64_t file_bytes) {
  return file_bytes < kHeaderBytes ? 0 : (file_bytes - kHeaderBytes) / kEntryBytes;
}

// The 32-byte header of stream `stream`'s spine.
Bytes encode_header(std::uint64_t stream);
// Checks a header read from `file` (its first kHeaderBytes bytes, or fewer when the file
// is shorter). Errors: corruption (short, bad magic or CRC, another stream's id),
// unsupported_format (a version or entry size this build does not write); each names
// `file`.
Status check_header(ByteView header, std::uint64_t stream, const std::string& file);

// Writes offset `offset`'s entry (kEntryBytes bytes) to `out`.
void encode_entry(std::uint64_t offset, const ChainHash& leaf, std::uint8_t* out);
// The leaf data of the entry at `in` (kEntryBytes bytes) when its CRC holds for `offset`.
std::optional<ChainHash> decode_entry(std::uint64_t offset, const std::uint8_t* in);

}  // namespace cairn::spine
