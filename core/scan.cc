#include "core/scan.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/canary.h"
#include "core/frame_reader.h"
#include "core/le.h"
#include "properties/properties.h"

namespace cairn {
namespace {

using format::FrameDecode;
using format::FrameStatus;
using format::kFrameHeaderBytes;

// Running state of a scan; copied at every batch end so the scan can fall back to it.
struct ScanState {
  std::uint64_t pos = format::kSegmentHeaderBytes;
  std::uint64_t next_offset = 0;
  ChainHash hash{};
  std::uint64_t first_ts = 0;
  std::uint64_t last_ts = 0;
  std::uint64_t records = 0;
  std::size_t entries = 0;
  std::size_t checkpoints = 0;
  std::uint64_t last_index_pos = 0;
  bool any_index = false;
};

bool all_zero(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

// Cheap plausibility test of a frame header at an arbitrary position, before paying for
// a CRC over its payload.
bool plausible_header(ByteView h, std::uint64_t pos, std::uint64_t expected,
                      const ScanInput& in) {
  if (h.size() < kFrameHeaderBytes) return false;
  std::uint64_t len = le::get<std::uint32_t>(h.data() + 4);
  std::uint64_t offset = le::get<std::uint64_t>(h.data() + 8);
  // A segment of file_size bytes cannot hold more than file_size / 68 frames.
  return len <= in.max_record_bytes && pos + kFrameHeaderBytes + len <= in.file_size &&
         offset >= expected && offset - expected <= in.file_size / kFrameHeaderBytes &&
         valid_kind(h[32]) && (h[33] & ~format::kKnownFlags) == 0 && h[34] == 0 && h[35] == 0;
}

struct Resync {
  std::uint64_t pos = 0;
  format::FrameHeader header;
};

// Finds the first CRC-valid frame at or after `from` whose offset is >= expected.
Result<std::optional<Resync>> find_valid_after(FrameReader& reader, std::uint64_t from,
                                               std::uint64_t expected, const ScanInput& in) {
  for (std::uint64_t p = from; p + kFrameHeaderBytes <= in.file_size; ++p) {
    CAIRN_ASSIGN_OR_RETURN(ByteView head, reader.bytes(p, kFrameHeaderBytes));
    if (!plausible_header(head, p, expected, in)) continue;
    CAIRN_ASSIGN_OR_RETURN(FrameDecode d, reader.at(p));
    if (d.status == FrameStatus::ok) return std::optional<Resync>(Resync{p, d.header});
  }
  return std::optional<Resync>();
}

struct Run {
  std::uint64_t frames = 0;
  std::uint64_t max_durable_offset = 0;
  std::uint64_t end_pos = 0;  // byte after the run's last frame
};

// The run of consecutive valid frames starting at pos with offsets from `offset` on.
// Frames of one batch share a durable_offset; later batches carry larger ones, so the
// whole run says best how far the log was durable when it was written.
Result<Run> follow_run(FrameReader& reader, std::uint64_t pos, std::uint64_t offset,
                       const ScanInput& in) {
  Run run;
  while (pos < in.file_size) {
    CAIRN_ASSIGN_OR_RETURN(FrameDecode d, reader.at(pos));
    if (d.status != FrameStatus::ok || d.header.offset != offset + run.frames) break;
    run.max_durable_offset = std::max(run.max_durable_offset, d.header.durable_offset);
    pos += d.frame_bytes;
    ++run.frames;
  }
  run.end_pos = pos;
  return run;
}

std::string describe(const FrameDecode& d, std::uint64_t expected) {
  if (d.status == FrameStatus::ok) {
    return fmt::format("frame holds offset {} where offset {} belongs", d.header.offset, expected);
  }
  return format::frame_status_name(d.status);
}

}  // namespace

Result<ScanResult> scan_segment(fs::File& file, const ScanInput& in, ChainHasher& hasher) {
  FrameReader reader(file, in.file_size, in.max_record_bytes);
  ScanResult r;
  ScanState s;
  s.next_offset = in.base_offset;
  s.hash = in.anchor;
  bool seeded = in.anchor_known;
  ScanState committed = s;
  std::uint64_t uncommitted_records = 0;
  std::uint64_t tail_extra_records = 0;

  while (s.pos < in.file_size) {
    CAIRN_ASSIGN_OR_RETURN(FrameDecode d, reader.at(s.pos));
    if (canary_on(Canary::zero_frames_accepted) && d.status != FrameStatus::ok) {
      CAIRN_ASSIGN_OR_RETURN(ByteView head, reader.bytes(s.pos, kFrameHeaderBytes));
      if (head.size() == kFrameHeaderBytes && all_zero(head)) {
        d.status = FrameStatus::ok;  // planted bug: a zero-filled region reads as a record
        d.header.offset = s.next_offset;
        d.header.kind = static_cast<std::uint8_t>(RecordKind::data);
        d.header.flags = format::kFlagBatchEnd;
        d.header.prev_hash = s.hash;
        d.frame_bytes = kFrameHeaderBytes;
        d.payload = {};
      }
    }
    if (d.status == FrameStatus::ok && d.header.offset == s.next_offset) {
      const format::FrameHeader& h = d.header;
      if (seeded && h.prev_hash != s.hash) {
        r.damage.push_back(Finding{in.stream, in.segment, s.pos, h.offset == 0 ? 0 : h.offset - 1,
                                   h.offset + 1,
                                   fmt::format("chain break: prev_hash of offset {} does not match "
                                               "the chain hash of the record before it",
                                               h.offset)});
      }
      if (h.kind == static_cast<std::uint8_t>(RecordKind::checkpoint)) {
        auto cp = format::decode_checkpoint(d.payload);
        bool consistent = cp && cp->record_count == h.offset && cp->chain_hash == h.prev_hash;
        if (!consistent && !canary_on(Canary::checkpoint_hash_unverified)) {
          r.damage.push_back(Finding{in.stream, in.segment, s.pos, h.offset, h.offset + 1,
                                     "checkpoint payload disagrees with the chain"});
        }
        r.checkpoints.resize(s.checkpoints);
        r.checkpoints.push_back({h.offset, s.pos});
        s.checkpoints = r.checkpoints.size();
      }
      if (!s.any_index || s.pos - s.last_index_pos >= in.index_interval_bytes) {
        r.entries.resize(s.entries);
        r.entry_hashes.resize(s.entries);
        r.entries.push_back({h.offset, s.pos, h.timestamp_us});
        // The chain hash before this record is known only on a verified chain.
        r.entry_hashes.push_back(seeded && h.prev_hash == s.hash ? std::optional<ChainHash>(s.hash) : std::nullopt);
        s.entries = r.entries.size();
        s.last_index_pos = s.pos;
        s.any_index = true;
      }
      if (s.records == 0) s.first_ts = h.timestamp_us;
      s.last_ts = h.timestamp_us;
      s.hash = hasher.next(h.prev_hash, h.offset, static_cast<RecordKind>(h.kind), h.timestamp_us,
                           d.payload);
      seeded = true;
      s.pos += d.frame_bytes;
      s.next_offset += 1;
      s.records += 1;
      uncommitted_records += 1;
      if (h.flags & format::kFlagBatchEnd) {
        committed = s;
        uncommitted_records = 0;
      }
      continue;
    }

    r.tail_reason = describe(d, s.next_offset);
    CAIRN_ASSIGN_OR_RETURN(std::optional<Resync> found,
                           find_valid_after(reader, s.pos + 1, s.next_offset, in));
    // Judge by every valid frame after this point, across further damaged ranges too:
    // the first run may end at older damage before a later batch proves durability.
    Run run;
    for (std::optional<Resync> at = found; at;) {
      CAIRN_ASSIGN_OR_RETURN(Run more, follow_run(reader, at->pos, at->header.offset, in));
      run.frames += more.frames;
      run.max_durable_offset = std::max(run.max_durable_offset, more.max_durable_offset);
      const std::uint64_t next_pos = std::max(more.end_pos, at->pos + 1);
      CAIRN_ASSIGN_OR_RETURN(at, find_valid_after(reader, next_pos, at->header.offset + more.frames, in));
    }
    const bool durable_damage = found && run.max_durable_offset > s.next_offset;
    if (durable_damage && !canary_on(Canary::mid_log_corruption_truncated)) {
      // Valid data follows, and it was written when this range was already durable:
      // this is damage, not a torn write. Report it and keep everything after it.
      REACHABLE("scan found damage followed by valid data");
      r.damage.push_back(Finding{
          in.stream, in.segment, s.pos, s.next_offset, found->header.offset,
          fmt::format("{} at offset {}; valid frames resume at byte {} (offset {})", r.tail_reason,
                      s.next_offset, found->pos, found->header.offset)});
      r.tail_reason.clear();
      r.resumes.push_back({found->header.offset, found->pos});
      s.pos = found->pos;
      s.next_offset = found->header.offset;
      s.hash = found->header.prev_hash;  // the chain as the resumed frame states it
      seeded = false;
      committed = s;
      uncommitted_records = 0;
      continue;
    }
    tail_extra_records = run.frames;
    break;
  }

  if (r.tail_reason.empty() && committed.pos < in.file_size) {
    r.tail_reason = "incomplete batch at the end of the file";
  }
  r.valid_end = committed.pos;
  r.next_offset = committed.next_offset;
  r.last_hash = committed.hash;
  r.first_timestamp_us = committed.first_ts;
  r.last_timestamp_us = committed.last_ts;
  r.records = committed.records;
  r.entries.resize(committed.entries);
  r.entry_hashes.resize(committed.entries);
  r.checkpoints.resize(committed.checkpoints);
  r.tail_bytes = in.file_size - committed.pos;
  r.tail_records = uncommitted_records + tail_extra_records;
  ALWAYS(r.valid_end <= in.file_size, "scan never ends past the end of the file",
         {"valid_end", r.valid_end}, {"file_size", in.file_size});
  return r;
}

}  // namespace cairn
