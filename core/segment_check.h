// The checks of a segment file's header against the stream it belongs to, shared by
// recovery and verify() so both report the same finding for the same file
// (core/RECOVERY.md rows H1-H3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/format.h"
#include "core/store.h"
#include "simfs/filesystem.h"

namespace cairn {

// What the stream expects in front of a segment.
struct SegmentLink {
  // The previous segment's next offset; none for the first segment or across a gap that
  // repair recorded.
  std::optional<std::uint64_t> expected_base;
  // The previous segment's last chain hash, when known and contiguous.
  std::optional<ChainHash> expected_anchor;
};

struct HeaderCheck {
  bool header_ok = false;            // magic, CRC, stream id and base offset are right
  std::optional<ChainHash> anchor;   // the chain hash before the segment's first record, when known
  std::vector<Finding> findings;     // H2 (invalid header), H3 (anchor), missing offsets
};

// Checks the first kSegmentHeaderBytes of segment `name` (base offset from its file name)
// of `stream`. An invalid header takes its anchor from the link. Errors:
// unsupported_format (H1: a valid header of another format version), naming the file.
Result<HeaderCheck> check_segment_header(ByteView head, std::uint64_t stream, const std::string& name,
                                         std::uint64_t base, const SegmentLink& link);

// Reads a segment's size and header bytes (at most kSegmentHeaderBytes). Errors: io_error.
struct SegmentProbe {
  std::uint64_t file_size = 0;
  Bytes head;
};
Result<SegmentProbe> probe_segment(fs::File& file);

}  // namespace cairn
