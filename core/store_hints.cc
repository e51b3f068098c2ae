// Store: index sidecar hints checked before use (RECOVERY.md S4), and reads by time,
// which narrow their scan with the sparse time index.
#include <algorithm>

#include <fmt/format.h>

#include "core/canary.h"
#include "core/frame_reader.h"
#include "core/scan.h"
#include "core/store.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {

Result<bool> Store::Impl::hint_holds(Stream& s, Segment& seg, std::uint64_t byte_pos, std::uint64_t offset,
                                     std::optional<std::uint64_t> ts, bool checkpoint) {
  if (!seg.hints_from_sidecar || canary_on(Canary::index_trusted_over_log)) return true;
  std::optional<FrameReader> reader;
  CAIRN_TRY(open_reader(s, seg, seg.size_bytes, format::kFrameHeaderBytes, reader));
  CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader->at(byte_pos));
  if (d.status != format::FrameStatus::ok || d.header.offset != offset) return false;
  if (ts && d.header.timestamp_us != *ts) return false;
  if (!checkpoint) return true;
  auto cp = format::decode_checkpoint(d.payload);
  return d.header.kind == static_cast<std::uint8_t>(RecordKind::checkpoint) && cp &&
         cp->record_count == offset && cp->chain_hash == d.header.prev_hash;
}

Status Store::Impl::distrust_sidecar(Stream& s, Segment& seg, const std::string& why) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Finding> damage, hints_from_log(s, seg));
  report.invalid_indexes.push_back(format::stream_dir_name(s.id) + "/" +
                                   format::index_file_name(seg.base_offset) + " (" + why + ")");
  REACHABLE("a lying index sidecar was caught when used and rebuilt from the log");
  // The rebuilt sidecar is a hint too: failing to write it costs a rescan next time, not
  // this read (a failed fsync still makes the store fail-stop, inside write_index).
  if (!read_only() && damage.empty()) (void)write_index(s, seg);
  return {};
}

Result<std::vector<Finding>> Store::Impl::hints_from_log(Stream& s, Segment& seg) {
  const ScanInput in = scan_input(s, seg, seg.size_bytes);
  std::optional<FrameReader> reader;
  CAIRN_TRY(open_reader(s, seg, seg.size_bytes, FrameReader::kDefaultWindowBytes, reader));
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan_segment(*reader, in, hasher));
  seg.entries = r.entries;
  seg.entry_hashes = r.entry_hashes;
  seg.checkpoints = r.checkpoints;
  seg.resumes = r.resumes;
  seg.hints_from_sidecar = false;
  for (const Finding& f : r.damage) {
    const bool known = std::any_of(seg.damage.begin(), seg.damage.end(),
                                   [&](const Finding& g) { return g.byte_pos == f.byte_pos; });
    if (!known) seg.damage.push_back(f);
  }
  return std::move(r.damage);
}

Result<std::uint64_t> Store::Impl::offset_for_time(Stream& s, std::uint64_t t_us) {
  for (Segment& seg : s.segments) {
    if (seg.missing || seg.empty() || seg.last_ts < t_us) continue;
    // Timestamps never decrease, so the sparse time index narrows the scan to one stride.
    std::uint64_t pos = format::kSegmentHeaderBytes;
    std::uint64_t expected = seg.base_offset;
    std::optional<std::uint64_t> hint_ts;
    for (const format::IndexEntry& e : seg.entries) {
      if (e.timestamp_us >= t_us) break;
      pos = e.byte_pos;
      expected = e.offset;
      hint_ts = e.timestamp_us;
    }
    if (hint_ts) {
      CAIRN_ASSIGN_OR_RETURN(bool holds, hint_holds(s, seg, pos, expected, hint_ts, false));
      if (!holds) {
        CAIRN_TRY(distrust_sidecar(s, seg, fmt::format("index entry for offset {} does not hold it", expected)));
        return offset_for_time(s, t_us);  // hints now come from the log: no second lie
      }
    }
    std::optional<FrameReader> reader;
    CAIRN_TRY(open_reader(s, seg, seg.size_bytes, FrameReader::kDefaultWindowBytes, reader));
    while (expected < seg.next_offset) {
      CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader->at(pos));
      if (d.status != format::FrameStatus::ok || d.header.offset != expected) {
        return located(Errc::corruption, s, seg, pos, expected,
                       d.status != format::FrameStatus::ok
                           ? format::frame_status_name(d.status)
                           : fmt::format("frame holds offset {} where offset {} belongs", d.header.offset, expected));
      }
      const bool strict = canary_on(Canary::offset_for_time_strict);  // planted bug: > for >=
      if (strict ? d.header.timestamp_us > t_us : d.header.timestamp_us >= t_us) return expected;
      pos += d.frame_bytes;
      ++expected;
    }
  }
  return s.next_offset;
}

Result<std::uint64_t> Store::offset_for_time(std::uint64_t stream, std::uint64_t t_us) {
  if (impl_->closed) return make_error(Errc::closed, "the store is closed");
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  CAIRN_TRY(Impl::check_fresh(*s));
  return impl_->offset_for_time(*s, t_us);
}

Result<std::vector<Record>> Store::read_by_time(std::uint64_t stream, std::uint64_t t_us,
                                                std::uint64_t max_bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t offset, offset_for_time(stream, t_us));
  return read(stream, offset, max_bytes);
}

}  // namespace cairn
