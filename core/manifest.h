// The store manifest (file MANIFEST in the store directory), format version 1: what the
// store holds, so that open can tell retention, torn tails and damage apart. Replaced
// atomically (write MANIFEST.tmp, fsync, rename, fsync the store directory). Prose in
// core/FORMAT.md ("Manifest"); the numbers are here. Pure: bytes in, values out.
//
// Layout (little-endian):
//   magic "CAIRNMAN"(8) version u32(4) flags u32(4) generation u64(8)
//   max_record_bytes u32(4) compression u8(1) reserved(3) stream_count u32(4) reserved u32(4)
//   stream_count x {
//     stream_id u64, first_offset u64, segment_count u32, gap_count u32,
//     pending_count u32, reserved u32
//     segment_count x {base_offset u64, next_offset u64, size_bytes u64,
//                      last_frame_pos u64, last_hash(32), state u8, reserved(7)}
//     gap_count x {from_offset u64, to_offset u64}
//     pending_count x {kind u8, reserved(7), base_offset u64, size_bytes u64}
//   }
//   file_crc u32 = CRC32C (RFC 3720 §B.4) of every preceding byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "simfs/result.h"

namespace cairn::manifest {

inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::uint8_t kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'M', 'A', 'N'};
inline constexpr char kFileName[] = "MANIFEST";
inline constexpr std::size_t kFixedBytes = 8 + 4 + 4 + 8 + 4 + 1 + 3 + 4 + 4;
inline constexpr std::size_t kStreamBytes = 8 + 8 + 4 + 4 + 4 + 4;
inline constexpr std::size_t kSegmentBytes = 8 + 8 + 8 + 8 + 32 + 1 + 7;
inline constexpr std::size_t kGapBytes = 8 + 8;
inline constexpr std::size_t kPendingBytes = 1 + 7 + 8 + 8;
static_assert(kFixedBytes == 40 && kStreamBytes == 32 && kSegmentBytes == 72);
static_assert(kGapBytes == 16 && kPendingBytes == 24);
inline constexpr std::uint32_t kFlagCleanShutdown = 0x1;

enum class SegmentState : std::uint8_t { sealed = 1, active = 2 };

// One segment of a stream. For a sealed segment: its whole extent. For the active one
// (always the last): the stream's recovery point, i.e. every record below next_offset
// was durable, and they end at byte size_bytes of the file.
struct SegmentEntry {
  std::uint64_t base_offset = 0;
  std::uint64_t next_offset = 0;     // sealed: one past its last record; active: recovery point
  std::uint64_t size_bytes = 0;      // sealed: file size; active: bytes at the recovery point
  std::uint64_t last_frame_pos = 0;  // position of the frame of offset next_offset-1 (0: none, or damaged)
  ChainHash last_hash{};             // h(next_offset-1); the anchor when next == base
  SegmentState state = SegmentState::sealed;
  bool operator==(const SegmentEntry&) const = default;
};

// Offsets [from_offset, to_offset) that `repair` removed (their bytes are kept beside the
// segments). The chain is not checked across a gap.
struct Gap {
  std::uint64_t from_offset = 0;
  std::uint64_t to_offset = 0;
  bool operator==(const Gap&) const = default;
};

// A file operation that a repair committed to in this manifest and that may not have
// happened yet; open completes it (each is idempotent).
enum class PendingKind : std::uint8_t {
  install = 1,    // rename "seg-<base>.log.staged" to "seg-<base>.log"
  cut = 2,        // truncate "seg-<base>.log" to size_bytes (the cut bytes are kept)
  set_aside = 3,  // rename "seg-<base>.log" to "seg-<base>.log.removed-at-0"
};

struct Pending {
  PendingKind kind = PendingKind::install;
  std::uint64_t base_offset = 0;
  std::uint64_t size_bytes = 0;  // with cut
  bool operator==(const Pending&) const = default;
};

struct StreamEntry {
  std::uint64_t stream_id = 0;
  std::uint64_t first_offset = 0;  // first retained offset (== segments.front().base_offset)
  std::vector<SegmentEntry> segments;  // ascending base; the last one is active
  std::vector<Gap> gaps;               // ascending, between segments
  std::vector<Pending> pending;
  const SegmentEntry& active() const { return segments.back(); }
  bool operator==(const StreamEntry&) const = default;
};

struct Manifest {
  std::uint64_t generation = 0;  // +1 with every replacement
  bool clean_shutdown = false;   // written by close(): nothing was appended after it
  std::uint32_t max_record_bytes = 0;  // the largest limit records were ever written with
  std::uint8_t compression = 0;        // 0: none (the only codec of version 1)
  std::vector<StreamEntry> streams;    // ascending stream_id
  bool operator==(const Manifest&) const = default;
};

Bytes encode(const Manifest& m);
// Decodes and checks a manifest: magic, version, exact size for its counts, CRC, and the
// structure (ascending ids and bases, segments that do not overlap, one active segment
// and it is last, first_offset is the first base, gaps between segments, sizes and
// positions inside the file). Counts are checked against the input size before anything
// is allocated. Errors: corruption or unsupported_format, naming `file`.
Result<Manifest> decode(ByteView bytes, const std::string& file);

}  // namespace cairn::manifest
