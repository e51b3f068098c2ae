// Recovery of one stream: the segment-level steps (RECOVERY.md rows I3, I5, I6, S*, A*).
#include <algorithm>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/canary.h"
#include "core/frame_reader.h"
#include "core/recovery.h"
#include "properties/properties.h"

namespace cairn {
namespace {

}  // namespace

void fill_from_scan(Segment& seg, const ScanResult& r) {
  seg.next_offset = r.next_offset;
  seg.size_bytes = r.valid_end;
  seg.first_ts = r.first_timestamp_us;
  seg.last_ts = r.last_timestamp_us;
  seg.last_hash = r.records > 0 ? r.last_hash : seg.anchor;
  seg.last_frame_pos = r.last_frame_pos;
  seg.entries = r.entries;
  seg.entry_hashes = r.entry_hashes;
  seg.checkpoints = r.checkpoints;
  seg.hints_from_sidecar = false;
  seg.damage.insert(seg.damage.end(), r.damage.begin(), r.damage.end());
  seg.resumes = r.resumes;
}

Result<ScanResult> StreamRecovery::scan(const Segment& seg, fs::File& file, std::uint64_t file_size,
                                        std::uint64_t durable_below, std::optional<ChainHash> last_hash,
                                        bool collect_leaves) {
  ScanInput in = im_.scan_input(s_, seg, file_size);
  in.durable_below = durable_below;
  in.expected_last_hash = last_hash;
  in.collect_leaves = collect_leaves;
  return scan_segment(file, in, im_.hasher);
}

// I3, I5, I6: a segment the manifest lists has no file.
Status StreamRecovery::load_missing(const PlannedSegment& p) {
  const manifest::SegmentEntry& e = *p.listed;
  Segment seg;
  seg.base_offset = p.base;
  seg.name = p.name;
  seg.missing = true;
  seg.anchor_known = false;
  seg.sealed = e.state == manifest::SegmentState::sealed;
  seg.sealed_in_manifest = seg.sealed;
  seg.recorded = e;
  seg.next_offset = e.next_offset;
  seg.last_hash = e.last_hash;
  seg.last_frame_pos = e.last_frame_pos;
  const std::string where = files_.dir_present ? "segment file is missing" : "stream directory is missing";
  Finding f{s_.id, seg.name, 0, p.base, std::max(e.next_offset, p.base + 1),
            seg.sealed ? fmt::format("{}: offsets {}..{} are lost", where, p.base, e.next_offset - 1)
                       : fmt::format("{}: the active segment, durable to offset {}", where, e.next_offset)};
  seg.damage.push_back(f);
  add_finding(f);
  if (!seg.sealed) block(f);  // I6: no offset to continue from without reusing one
  s_.segments.push_back(std::move(seg));
  return {};
}

// S1, S2: a sealed segment is checked by its size and its last frame against the
// manifest (one frame read, one hash): O(segments) at open. Damage inside is found by
// reads and verify; when these checks fail, the segment is scanned to locate it.
Status StreamRecovery::load_sealed(const PlannedSegment& p, Segment& seg, fs::File& file,
                                   const SegmentProbe& probe) {
  seg.sealed = true;
  if (!p.listed || p.listed->state != manifest::SegmentState::sealed) {
    return load_sealed_scanned(seg, file, probe);  // no manifest, or the active before I7
  }
  const manifest::SegmentEntry& e = *p.listed;
  seg.sealed_in_manifest = true;
  seg.recorded = e;
  seg.next_offset = e.next_offset;
  seg.size_bytes = std::min(probe.file_size, e.size_bytes);
  seg.last_hash = e.last_hash;
  seg.last_frame_pos = e.last_frame_pos;
  std::optional<std::string> wrong;
  if (probe.file_size != e.size_bytes) {  // S1
    wrong = probe.file_size < e.size_bytes
                ? fmt::format("sealed segment is {} bytes shorter than the manifest says", e.size_bytes - probe.file_size)
                : fmt::format("sealed segment has {} bytes past its size in the manifest", probe.file_size - e.size_bytes);
  } else if (e.next_offset > e.base_offset && e.last_frame_pos == 0) {
    wrong = "sealed segment's last record was damaged when it was recorded";
  } else if (e.next_offset > e.base_offset) {
    FrameReader reader(file, e.size_bytes, im_.max_record_bytes, format::kFrameHeaderBytes);
    CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(e.last_frame_pos));
    const bool ok = d.status == format::FrameStatus::ok && d.header.offset + 1 == e.next_offset &&
                    e.last_frame_pos + d.frame_bytes == e.size_bytes &&
                    im_.hasher.next(d.header.prev_hash, d.header.offset, static_cast<RecordKind>(d.header.kind),
                                    d.header.timestamp_us, d.payload) == e.last_hash;
    if (!ok) wrong = "sealed segment's last record does not match the manifest (offset, size or chain hash)";  // S2
    if (ok) seg.last_ts = d.header.timestamp_us;
  }
  if (!wrong && e.next_offset == e.base_offset) return {};  // recorded empty: nothing to hint
  if (!wrong && !im_.options.full_scan_on_open) return load_hints(seg, file, e);
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan(seg, file, probe.file_size, UINT64_MAX, e.last_hash));
  const std::size_t header_findings = seg.damage.size();
  const std::uint64_t next = seg.next_offset;
  const std::uint64_t size = seg.size_bytes;
  fill_from_scan(seg, r);
  seg.next_offset = next;  // the manifest knows the extent; reads stop at the damage
  seg.size_bytes = size;
  seg.last_ts = std::max(seg.last_ts, r.max_timestamp_us);  // frames before the damage read
  seg.last_hash = e.last_hash;
  seg.last_frame_pos = e.last_frame_pos;
  const bool agrees = r.next_offset == e.next_offset && r.valid_end == e.size_bytes && r.last_hash == e.last_hash;
  if (!wrong && agrees) return {};
  const std::string why = wrong.value_or("sealed segment's frames disagree with the manifest");
  if (seg.damage.size() > header_findings) {
    seg.damage[header_findings].what += "; " + why;  // one finding per damage, where the scan found it
  } else {
    seg.damage.push_back(Finding{s_.id, seg.name, std::min(probe.file_size, e.size_bytes), r.next_offset,
                                 e.next_offset, why});
  }
  return {};
}

// A sealed segment the manifest does not describe: scanned whole (it was synced whole
// before its successor existed, so anything invalid in it is damage, never a tail).
Status StreamRecovery::load_sealed_scanned(Segment& seg, fs::File& file, const SegmentProbe& probe) {
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan(seg, file, probe.file_size, UINT64_MAX));
  fill_from_scan(seg, r);
  seg.recorded = seg.sealed_entry();
  // Damaged: recorded as it is, so the next open finds the same damage (not a size change).
  if (!seg.damage.empty()) seg.recorded.size_bytes = probe.file_size;
  if (seg.damage.empty() && !im_.read_only() && seg.next_offset > seg.base_offset) {
    CAIRN_TRY(im_.write_index(s_, seg));
    im_.report.indexes_rebuilt += 1;
    im_.act(fmt::format("stream {}: rebuilt index of {}", s_.id, seg.name), "");
  }
  return {};
}

// S3: the sidecar is a hint. It is used when it describes exactly the segment the
// manifest lists; its entries are checked against their frames when used (S4).
Status StreamRecovery::load_hints(Segment& seg, fs::File& file, const manifest::SegmentEntry& e) {
  const std::string idx_name = format::index_file_name(seg.base_offset);
  const std::uint64_t bound = format::kIndexFixedBytes + 4 +
                              (e.size_bytes / format::kFrameHeaderBytes + 1) *
                                  (format::kIndexEntryBytes + format::kCheckpointEntryBytes);
  auto bytes = fs::read_file(im_.fs, fs::join_path(s_.dir, idx_name), bound);
  if (bytes.ok()) {
    auto sum = format::decode_index(*bytes, idx_name);
    const bool matches = sum.ok() && sum->stream_id == s_.id && sum->base_offset == e.base_offset &&
                         sum->segment_bytes == e.size_bytes && sum->next_offset == e.next_offset &&
                         sum->last_hash == e.last_hash;
    if (matches || (sum.ok() && canary_on(Canary::index_trusted_over_log))) {
      seg.entries = std::move(sum->entries);
      seg.checkpoints = std::move(sum->checkpoints);
      seg.first_ts = sum->first_timestamp_us;
      seg.hints_from_sidecar = true;
      return {};
    }
    im_.report.invalid_indexes.push_back(format::stream_dir_name(s_.id) + "/" + idx_name);
  } else if (bytes.error().code != Errc::not_found) {
    // Unreadable now (an I/O error) is not evidence of a torn replacement.
    im_.act(fmt::format("stream {}: index {} unreadable ({}); scanned the log", s_.id, idx_name,
                        bytes.error().to_string()), "");
  }
  const manifest::SegmentEntry recorded = seg.recorded;
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan(seg, file, e.size_bytes, UINT64_MAX, e.last_hash));
  fill_from_scan(seg, r);
  seg.next_offset = e.next_offset;
  seg.size_bytes = e.size_bytes;
  seg.last_hash = e.last_hash;
  seg.last_frame_pos = e.last_frame_pos;
  seg.recorded = recorded;
  if (seg.damage.empty() && !im_.read_only()) {
    CAIRN_TRY(im_.write_index(s_, seg));
    im_.report.indexes_rebuilt += 1;
    im_.act(fmt::format("stream {}: rebuilt index of {}", s_.id, seg.name), "");
    REACHABLE("recovery rebuilt a missing or inconsistent index from the log");
  }
  return {};
}

// A1-A7: the active segment, scanned frame by frame from its header.
Status StreamRecovery::load_active(const PlannedSegment& p, Segment& seg, const SegmentProbe& probe) {
  const bool has_rp = p.listed && !p.successor && p.listed->state == manifest::SegmentState::active;
  const DurableMark rp = has_rp ? DurableMark{p.listed->next_offset, p.listed->size_bytes,
                                              p.listed->last_frame_pos, p.listed->last_hash}
                                : DurableMark{p.base, format::kSegmentHeaderBytes, 0, seg.anchor};
  const bool clean = clean_ && has_rp;  // a clean close never left a successor behind
  if (probe.file_size < rp.byte) {  // A1
    Finding f{s_.id, seg.name, probe.file_size, rp.offset, rp.offset,
              fmt::format("active segment is {} bytes shorter than its recovery point (records up to "
                          "offset {} were durable)",
                          rp.byte - probe.file_size, rp.offset)};
    seg.damage.push_back(f);
    block(f);
  } else if (clean && probe.file_size > rp.byte) {  // A2
    Finding f{s_.id, seg.name, rp.byte, rp.offset, rp.offset + 1,
              fmt::format("active segment has {} bytes past its size at the last clean shutdown",
                          probe.file_size - rp.byte)};
    seg.damage.push_back(f);
    block(f);
  }
  // After a clean shutdown every byte was durable: nothing in this file is a torn tail.
  const std::uint64_t durable_below = clean ? UINT64_MAX : rp.offset;
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan(seg, *seg.file, probe.file_size, durable_below, std::nullopt, true));
  fill_from_scan(seg, r);
  seg.scanned_leaves = std::move(r.leaves);  // the spine takes them (Store::Impl::open_spine)
  if (r.tail_is_damage) {
    block(r.damage.back());  // A4: durable bytes, nothing valid after: never cut
  } else if (r.tail_bytes > 0 && !s_.blocked) {
    CAIRN_TRY(take_tail(seg, r, has_rp ? std::optional<DurableMark>(rp) : std::nullopt, probe.file_size));  // A5
  }
  if (s_.blocked) {
    // The stream holds what was durable, damaged or not: reads of the damaged offsets
    // fail at the damage rather than find nothing.
    seg.next_offset = std::max({seg.next_offset, rp.offset, r.tail_bytes > 0 ? r.tail_last_offset + 1 : 0});
    seg.size_bytes = probe.file_size;
    seg.last_ts = std::max(seg.last_ts, r.max_timestamp_us);  // the records before the damage, by time too
  }
  if (!im_.read_only() && !clean && !s_.blocked && !canary_on(Canary::recreate_skipped)) {
    // A7: what survived may sit only in the page cache: after a failed fsync the kernel
    // marks unwritten pages clean, so a plain fsync would not write them, and a failed
    // directory fsync may have lost the file's entry while this process still sees it
    // (fsyncgate, for data and for entries). A fresh copy, renamed over it, makes both
    // durable. Bounded by the segment size. After a clean shutdown the last close synced it.
    CAIRN_TRY(recreate_file(im_.fs, s_.dir, seg.name, r.valid_end));
    CAIRN_ASSIGN_OR_RETURN(seg.file, im_.fs.open(fs::join_path(s_.dir, seg.name), {}));
  }
  return {};
}

// A5: a torn tail is cut (or, read-only, reported as what a writer would cut).
Status StreamRecovery::take_tail(Segment& seg, const ScanResult& r, const std::optional<DurableMark>& rp,
                                 std::uint64_t file_size) {
  ALWAYS(!rp || r.next_offset >= rp->offset, "a torn tail is never cut below the recovery point",
         {"stream", s_.id}, {"cut_offset", r.next_offset}, {"recovery_point", rp ? rp->offset : 0});
  TornTail t{s_.id, seg.name, r.valid_end, r.tail_bytes, r.tail_records, r.next_offset};
  t.cut = !im_.read_only();
  t.in_progress = im_.read_only() && im_.report.live_writer;
  // Records cut inside the window the recovery point does not cover may have been
  // acknowledged durable: say so, with their offsets.
  // Without a recovery point (no manifest, or a segment the manifest did not list as
  // active) the window is unbounded: anything cut may have been acknowledged.
  if (!t.in_progress && (!rp || r.valid_end < rp->byte + im_.options.recovery_point_interval_bytes)) {
    std::uint64_t last = r.tail_last_offset;
    if (file_size - r.tail_pos >= format::kFrameHeaderBytes) last = std::max(last, r.tail_offset);
    // Damaged frames may lie wherever no valid frame does, each at least a header long
    // (seed 1618: three bit flips in an acknowledged batch, the last frame among them;
    // seed 5467: a batch misdirected past the next one, whose frame was then overlooked).
    const std::uint64_t tail_bytes = file_size > r.tail_pos ? file_size - r.tail_pos : 0;
    const std::uint64_t unread = tail_bytes > r.tail_frame_bytes ? tail_bytes - r.tail_frame_bytes : 0;
    if (!canary_on(Canary::torn_tail_last_frames_unreported)) {
      last = std::max(last, r.tail_last_offset + unread / format::kFrameHeaderBytes);
    }
    t.possibly_acknowledged = last >= r.next_offset ? last - r.next_offset + 1 : 0;
    if (canary_on(Canary::torn_tail_window_unreported)) t.possibly_acknowledged = 0;  // planted bug
  }
  if (canary_on(Canary::torn_tail_fatal)) {
    return im_.located(Errc::corruption, s_, seg, r.valid_end, r.next_offset,
                       "torn tail");  // planted bug: a torn tail must not stop the open
  }
  if (t.cut) {
    CAIRN_TRY(seg.file->truncate(r.valid_end));
    REACHABLE("recovery truncated a torn tail", {"stream", s_.id}, {"bytes", r.tail_bytes});
  }
  if (t.possibly_acknowledged > 0) REACHABLE("recovery cut records that were possibly acknowledged");
  im_.report.torn_tails.push_back(t);
  return {};
}

}  // namespace cairn
