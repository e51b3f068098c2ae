// Scanning one segment file frame by frame: the engine of recovery, index rebuilds,
// verify() and repair. Pure with respect to the store: reads the file, writes nothing.
//
// The scan follows verified frames (core/frame_cursor.h) from the header. A chain break
// (an intact frame whose prev_hash does not continue the chain: tampering or a
// misdirected write) is recorded as damage and the chain continues from that frame. At
// a frame that does not decode or holds the wrong offset (offset X) the scan looks for
// later CRC-valid frames and decides:
//   * X is below the durable floor, i.e. below `durable_below` (what the caller knows was
//     durable: the manifest's recovery point, or everything for a sealed segment) or
//     below the largest durable_offset that any later valid frame states: the bytes were
//     durable, so this is damage. It is recorded; the scan resumes at the next valid frame
//     or, if there is none, stops with `tail_is_damage` (the caller must not cut it).
//   * otherwise the rest of the file is a torn tail. It starts (valid_end) at the end of
//     the last complete batch; the caller cuts it.
// Every finding names the first byte and offset that failed: the same place a read of
// that offset names (both use FrameCursor).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/chain.h"
#include "core/format.h"
#include "core/frame_reader.h"
#include "core/store.h"
#include "simfs/filesystem.h"

namespace cairn {

struct ScanInput {
  std::uint64_t stream = 0;
  std::string segment;                 // file name, for findings
  std::uint64_t base_offset = 0;
  std::optional<ChainHash> anchor;     // none: the first frame's prev_hash seeds the chain
  std::uint64_t file_size = 0;
  std::uint32_t max_record_bytes = 0;
  std::uint64_t index_interval_bytes = 4096;
  std::uint64_t durable_below = 0;     // offsets below it are known durable (UINT64_MAX: all)
  // A sealed segment's last chain hash as the manifest recorded it: a last record that no
  // longer hashes to it is damage (nothing after it in the file can tell).
  std::optional<ChainHash> expected_last_hash;
  // Keep the chain hash of every record of the verified prefix (ScanResult::leaves).
  bool collect_leaves = false;
};

// A run of whole batches that verify in one piece: what repair keeps. A run starts at
// the header or where valid frames resume after damage, and ends at the last batch end
// before damage (or before the record a chain break implicates).
struct ScanRun {
  std::uint64_t start_pos = 0;
  std::uint64_t end_pos = 0;
  std::uint64_t first_offset = 0;
  std::uint64_t next_offset = 0;
  std::uint64_t last_frame_pos = 0;
  std::optional<ChainHash> anchor;  // chain hash before first_offset (stated by a resumed frame)
  ChainHash last_hash{};
};

struct ScanResult {
  // State at the end of the last complete batch.
  std::uint64_t valid_end = format::kSegmentHeaderBytes;  // byte position
  std::uint64_t next_offset = 0;
  ChainHash last_hash{};
  std::uint64_t last_frame_pos = 0;  // frame of offset next_offset - 1 (0: no record)
  std::uint64_t first_timestamp_us = 0;
  std::uint64_t last_timestamp_us = 0;
  std::uint64_t max_timestamp_us = 0;  // of any verified frame, in the tail too
  std::uint64_t records = 0;
  std::vector<format::IndexEntry> entries;
  std::vector<std::optional<ChainHash>> entry_hashes;  // chain hash before each entry, when verified
  std::vector<format::CheckpointEntry> checkpoints;
  std::vector<Finding> damage;  // inside [header, valid_end), or the damaged tail
  // Where valid frames resume after damage: a read can start there (its chain seeded
  // from that frame's prev_hash) without crossing the damaged range.
  std::vector<format::CheckpointEntry> resumes;
  std::vector<ScanRun> runs;  // non-empty runs, in file order
  // With collect_leaves: h(base_offset + i) for each record before the first damage (or
  // the tail), verified along the chain from the anchor.
  std::vector<ChainHash> leaves;

  // The tail [valid_end, file_size).
  std::uint64_t tail_bytes = 0;
  std::uint64_t tail_records = 0;     // CRC-valid frames inside the tail
  std::string tail_reason;            // why the tail starts where it does ("" when none)
  std::uint64_t tail_pos = 0;         // the first byte that failed (>= valid_end)
  std::uint64_t tail_offset = 0;      // the offset expected there
  std::uint64_t tail_last_offset = 0; // largest offset a CRC-valid frame in the tail holds
  // Bytes of the CRC-valid frames found from tail_pos to the end of the file, wherever
  // they lie (what is left of the tail's bytes may hold damaged frames, one per header).
  std::uint64_t tail_frame_bytes = 0;
  bool tail_is_damage = false;        // below the durable floor: never cut
};

// Scans through pread with a reader of its own. Errors: io_error from the reads.
Result<ScanResult> scan_segment(fs::File& file, const ScanInput& in, ChainHasher& hasher);
// Scans through `reader` (pread with lent buffers, or a mapping).
// REQUIRES: reader.file_size() == in.file_size. Errors: io_error from the reads.
Result<ScanResult> scan_segment(FrameReader& reader, const ScanInput& in, ChainHasher& hasher);

}  // namespace cairn
