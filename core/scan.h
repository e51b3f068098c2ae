// Scanning one segment file frame by frame: the shared engine of recovery, index
// rebuilds and verify(). Pure with respect to the store: reads the file, writes nothing.
//
// The scan follows the frames from the header, checking each frame's CRC32C, that its
// offset is the next one, and that its prev_hash continues the chain. At the first
// frame that fails it looks further for a valid frame with a larger offset:
//   * found, and that frame says the failed offset was already durable when it was
//     written (durable_offset > failed offset): damage. It is recorded and the scan
//     resumes at the valid frame; nothing is cut.
//   * otherwise: the rest of the file is the tail. Its start (valid_end) is the end of
//     the last complete batch; what to do with it (truncate a torn tail of the active
//     segment, or report damage in a sealed one) is the caller's decision.
// A frame with a valid CRC at the right offset whose prev_hash breaks the chain is
// damage (tampering or a misdirected write), never a torn write; it is recorded and the
// chain continues from that frame.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/chain.h"
#include "core/format.h"
#include "core/store.h"
#include "simfs/filesystem.h"

namespace cairn {

struct ScanInput {
  std::uint64_t stream = 0;
  std::string segment;              // file name, for findings
  std::uint64_t base_offset = 0;
  ChainHash anchor{};
  bool anchor_known = true;         // false: the first frame's prev_hash seeds the chain
  std::uint64_t file_size = 0;
  std::uint32_t max_record_bytes = 0;
  std::uint64_t index_interval_bytes = 4096;
};

struct ScanResult {
  // State at the end of the last complete batch.
  std::uint64_t valid_end = format::kSegmentHeaderBytes;  // byte position
  std::uint64_t next_offset = 0;
  ChainHash last_hash{};
  std::uint64_t first_timestamp_us = 0;
  std::uint64_t last_timestamp_us = 0;
  std::uint64_t records = 0;
  std::vector<format::IndexEntry> entries;
  std::vector<std::optional<ChainHash>> entry_hashes;  // chain hash before each entry, when verified
  std::vector<format::CheckpointEntry> checkpoints;
  std::vector<Finding> damage;  // inside [header, valid_end): reported, scan went on
  // Where valid frames resume after damage: a read can start there (its chain seeded
  // from that frame's prev_hash) without crossing the damaged range.
  std::vector<format::CheckpointEntry> resumes;

  // The tail [valid_end, file_size).
  std::uint64_t tail_bytes = 0;
  std::uint64_t tail_records = 0;  // CRC-valid frames inside the tail
  std::string tail_reason;         // why the tail starts where it does ("" when none)
};

Result<ScanResult> scan_segment(fs::File& file, const ScanInput& in, ChainHasher& hasher);

}  // namespace cairn
