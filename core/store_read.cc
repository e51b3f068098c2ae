// Store: verified reads. Frames are followed with FrameCursor, the iterator recovery and
// verify use, so a read names the same byte and offset for the same damage.
#include <algorithm>

#include <fmt/format.h>

#include "core/canary.h"
#include "core/frame_cursor.h"
#include "core/frame_reader.h"
#include "core/scan.h"
#include "core/store.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

// Index of the segment whose range holds `offset` (the last one with base <= offset).
std::size_t segment_for(const Stream& s, std::uint64_t offset) {
  auto it = std::upper_bound(s.segments.begin(), s.segments.end(), offset,
                             [](std::uint64_t o, const Segment& g) { return o < g.base_offset; });
  return static_cast<std::size_t>(it - s.segments.begin()) - 1;
}

// Where a verified read of `from` in `seg` starts: the latest of the segment start, a
// checkpoint, a resume point after damage, a verified index entry or the frontier, at
// or below `from`.
StartPoint start_for(const Segment& seg, std::uint64_t from, const VerifiedFrontier& f) {
  StartPoint sp;
  sp.offset = seg.base_offset;
  sp.byte_pos = format::kSegmentHeaderBytes;
  for (const format::CheckpointEntry& c : seg.checkpoints) {
    if (c.offset <= from && c.offset >= sp.offset) {
      sp = StartPoint{};
      sp.offset = c.offset;
      sp.byte_pos = c.byte_pos;
      sp.from_checkpoint = true;
      sp.from_sidecar = seg.hints_from_sidecar;
    }
  }
  for (const format::CheckpointEntry& r : seg.resumes) {
    if (r.offset <= from && r.offset > sp.offset) {
      sp = StartPoint{};
      sp.offset = r.offset;
      sp.byte_pos = r.byte_pos;
      sp.from_resume = true;
    }
  }
  // An index entry this process verified carries the chain hash before it: the nearest
  // one bounds the hashing to about index_interval_bytes.
  for (std::size_t i = 0; i < seg.entries.size() && i < seg.entry_hashes.size(); ++i) {
    const format::IndexEntry& e = seg.entries[i];
    if (e.offset > from) break;
    if (e.offset > sp.offset && seg.entry_hashes[i]) {
      sp = StartPoint{};
      sp.offset = e.offset;
      sp.byte_pos = e.byte_pos;
      sp.from_frontier = true;
      sp.seed = *seg.entry_hashes[i];
    }
  }
  if (f.valid && f.segment_base == seg.base_offset && f.offset <= from && f.offset > sp.offset &&
      f.offset < seg.next_offset) {
    sp = StartPoint{};
    sp.offset = f.offset;
    sp.byte_pos = f.byte_pos;
    sp.from_frontier = true;
    sp.seed = f.hash_before;
  }
  return sp;
}

// What every successful verified read returns: from the requested offset on, contiguous.
void check_read_shape(std::uint64_t stream, std::uint64_t from, const std::vector<Record>& out) {
  ALWAYS(!out.empty() && out.front().offset == from, "a verified read starts at the requested offset",
         {"stream", stream}, {"from", from});
  for (std::size_t i = 1; i < out.size(); ++i) {
    ALWAYS(out[i].offset == out[i - 1].offset + 1, "a verified read returns contiguous offsets",
           {"stream", stream}, {"offset", out[i].offset});
  }
}

// Where a read's cursor stopped, as the error the caller gets: the same byte and offset a
// scan of the segment names.
Error stopped_at(const Store::Impl& im, const Stream& s, const Segment& seg, const FrameCursor& cursor,
                 FrameCursor::Outcome out) {
  const bool at_frame = out == FrameCursor::Outcome::chain_break;
  const std::string why = out == FrameCursor::Outcome::end ? "segment ends before the offset" : cursor.why();
  return im.located(Errc::corruption, s, seg, at_frame ? cursor.frame_pos() : cursor.pos(), cursor.offset(), why);
}

}  // namespace

Result<std::vector<Record>> Store::Impl::read(Stream& s, std::uint64_t from, std::uint64_t max_bytes) {
  if (from < s.first_offset()) {
    Error e = make_error(Errc::not_found,
                         fmt::format("offset {} is below the first retained offset {}", from,
                                     s.first_offset()));
    e.stream = s.id;
    e.offset = from;
    return e;
  }
  if (from >= s.readable_end()) return std::vector<Record>{};
  if (const manifest::Gap* g = s.gap_at(from)) {
    Error e = make_error(Errc::not_found, fmt::format("offsets {}..{} were removed by repair (their bytes "
                                                      "are kept beside the segments)",
                                                      g->from_offset, g->to_offset - 1));
    e.stream = s.id;
    e.offset = from;
    return e;
  }
  const std::size_t si = segment_for(s, from);
  Segment& seg = s.segments[si];
  if (seg.missing) return located(Errc::corruption, s, seg, 0, from, seg.damage.front().what);
  REACHABLE("a verified read ran");
  StartPoint sp = start_for(seg, from, s.frontier);
  if (sp.from_sidecar) {
    CAIRN_ASSIGN_OR_RETURN(bool holds, hint_holds(s, seg, sp.byte_pos, sp.offset, std::nullopt, sp.from_checkpoint));
    if (!holds) {
      CAIRN_TRY(distrust_sidecar(s, seg, fmt::format("checkpoint entry for offset {} does not hold it", sp.offset)));
      sp = start_for(seg, from, s.frontier);  // hints now come from the log
    }
  }
  if (sp.from_checkpoint) REACHABLE("a verified read started from a checkpoint");
  return read_past_damage(s, si, sp, from, max_bytes);
}

Result<std::vector<Record>> Store::Impl::read_past_damage(Stream& s, std::size_t si, StartPoint sp,
                                                          std::uint64_t from, std::uint64_t max_bytes) {
  for (;;) {
    std::vector<Record> partial;
    auto result = read_from(s, si, sp, from, max_bytes, partial);
    if (result.ok()) return result;
    // Damage after some verified records: return those, less the last one, whose
    // successor link (now unreadable) is what would vouch for it. The next read from the
    // damaged range gets the error.
    if (partial.size() > 1) {
      partial.pop_back();
      SOMETIMES(true, "a verified read stopped before damage with the records before it");
      return partial;
    }
    const Errc code = result.error().code;
    if (code != Errc::corruption && code != Errc::io_error) return result;
    // Damage (or an unreadable sector) between the start point and `from` must not make
    // later records unreadable: restart at the last resume point or index entry past it
    // (its chain seeded from that frame). Reads of the damaged range itself still fail.
    Segment& seg = s.segments[si];
    const Error& e = result.error();
    if (!e.offset || *e.offset >= from || e.segment != seg.name) return result;
    std::optional<format::CheckpointEntry> next;
    for (const format::CheckpointEntry& r : seg.resumes) {
      if (r.offset > *e.offset && r.offset <= from && (!next || r.offset > next->offset)) next = r;
    }
    bool from_entry = false;
    for (const format::IndexEntry& entry : seg.entries) {
      if (entry.offset > *e.offset && entry.offset <= from && (!next || entry.offset > next->offset)) {
        next = format::CheckpointEntry{entry.offset, entry.byte_pos};
        from_entry = true;
      }
    }
    if (!next || next->offset <= sp.offset) return result;
    if (from_entry) {
      CAIRN_ASSIGN_OR_RETURN(bool holds, hint_holds(s, seg, next->byte_pos, next->offset, std::nullopt, false));
      if (!holds) {
        CAIRN_TRY(distrust_sidecar(s, seg, fmt::format("index entry for offset {} does not hold it", next->offset)));
        continue;  // the resume points the rebuild found are now the way past
      }
    }
    SOMETIMES(true, "a verified read restarted past damage");
    sp = StartPoint{};
    sp.offset = next->offset;
    sp.byte_pos = next->byte_pos;
    sp.from_resume = true;
  }
}

Status Store::Impl::seed_from_checkpoint(const Stream& s, const Segment& seg, FrameReader& reader,
                                         const StartPoint& sp, std::optional<ChainHash>& seed) const {
  CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(sp.byte_pos));
  if (d.status != format::FrameStatus::ok || d.header.offset != sp.offset) return {};  // the cursor names it
  auto cp = format::decode_checkpoint(d.payload);
  const bool consistent = cp && cp->chain_hash == d.header.prev_hash && cp->record_count == d.header.offset;
  if (!consistent && !canary_on(Canary::checkpoint_hash_unverified)) {
    return located(Errc::corruption, s, seg, sp.byte_pos, sp.offset, "checkpoint payload disagrees with its frame");
  }
  seed = cp ? cp->chain_hash : d.header.prev_hash;
  return {};
}

Status Store::Impl::check_last_link(const Stream& s, std::size_t si, FrameReader& reader,
                                    const FrameCursor& cursor) const {
  if (canary_on(Canary::checkpoint_hash_unverified) || !cursor.seeded()) return {};
  const Segment& seg = s.segments[si];
  const ChainHash& hash = cursor.hash();
  // Only a failing read pays for the words (a read allocates its results, nothing else).
  auto why = [&cursor] { return fmt::format("chain does not continue after offset {}", cursor.offset() - 1); };
  if (cursor.offset() < seg.next_offset) {
    CAIRN_ASSIGN_OR_RETURN(format::FrameDecode next, reader.at(cursor.pos()));
    if (next.status == format::FrameStatus::ok && next.header.prev_hash == hash) return {};
    return located(Errc::corruption, s, seg, cursor.pos(), cursor.offset(), why());
  }
  if (cursor.offset() == seg.next_offset && seg.sealed && hash != seg.last_hash) {
    return located(Errc::corruption, s, seg, seg.last_frame_pos, cursor.offset() - 1,
                   why() + " (the segment's last chain hash differs)");
  }
  if (si + 1 < s.segments.size()) {
    const Segment& after = s.segments[si + 1];
    if (s.gap_at(cursor.offset()) || after.missing || !after.anchor_known || after.anchor == hash) return {};
    return located(Errc::corruption, s, after, 0, after.base_offset, "segment anchor does not continue the chain");
  }
  if (s.head == hash) return {};
  return located(Errc::corruption, s, seg, cursor.pos(), cursor.offset() - 1, why());
}

Result<bool> Store::Impl::enter_segment(Stream& s, std::size_t si, std::uint64_t expected, std::uint64_t& pos,
                                        std::optional<ChainHash>& seed) const {
  const Segment& seg = s.segments[si];
  if (s.gap_at(expected) != nullptr) return false;  // repair removed what follows: stop here
  if (seg.missing) return located(Errc::corruption, s, seg, 0, expected, seg.damage.front().what);
  if (seg.base_offset != expected) {
    return located(Errc::corruption, s, seg, 0, expected,
                   fmt::format("offsets {}..{} are missing", expected, seg.base_offset));
  }
  if (seg.anchor_known && seed && seg.anchor != *seed) {
    return located(Errc::corruption, s, seg, 0, expected, "segment anchor does not continue the chain");
  }
  pos = format::kSegmentHeaderBytes;
  if (seg.anchor_known) seed = seg.anchor;
  return true;
}

Result<std::vector<Record>> Store::Impl::read_from(Stream& s, std::size_t si, StartPoint sp,
                                                   std::uint64_t from, std::uint64_t max_bytes,
                                                   std::vector<Record>& out) {
  out.clear();
  std::uint64_t pos = sp.byte_pos;
  std::uint64_t expected = sp.offset;
  std::optional<ChainHash> seed;
  if (sp.from_frontier) seed = sp.seed;
  if (!sp.from_frontier && !sp.from_resume && !sp.from_checkpoint && s.segments[si].anchor_known) {
    seed = s.segments[si].anchor;
  }
  std::uint64_t total = 0;
  for (bool first = true; si < s.segments.size(); ++si, first = false) {
    if (!first) {
      CAIRN_ASSIGN_OR_RETURN(bool go_on, enter_segment(s, si, expected, pos, seed));
      if (!go_on) break;
    }
    Segment& seg = s.segments[si];
    // Read ahead about what this read needs (from the start point, which is at most an
    // index interval or a checkpoint before `from`), not a whole scan window.
    const std::size_t window = static_cast<std::size_t>(std::clamp<std::uint64_t>(
        max_bytes + options.index_interval_bytes + 2 * format::kFrameHeaderBytes, 64 * 1024,
        FrameReader::kDefaultWindowBytes));
    std::optional<FrameReader> opened;
    CAIRN_TRY(open_reader(s, seg, seg.size_bytes, window, opened));
    FrameReader& reader = *opened;
    if (first && sp.from_checkpoint) CAIRN_TRY(seed_from_checkpoint(s, seg, reader, sp, seed));
    FrameCursor cursor(reader, hasher, pos, expected, seed);
    bool done = false;
    while (cursor.offset() < seg.next_offset) {
      auto step = cursor.next();
      if (!step.ok()) {  // name where the read failed, so callers can read past it
        return located(step.error().code, s, seg, cursor.pos(), cursor.offset(), step.error().message);
      }
      if (*step != FrameCursor::Outcome::frame) return stopped_at(*this, s, seg, cursor, *step);
      const format::FrameDecode& d = cursor.frame();
      if (d.header.offset >= from) {
        out.push_back(Record{d.header.offset, d.header.timestamp_us, static_cast<RecordKind>(d.header.kind),
                             Bytes(d.payload.begin(), d.payload.end())});
        total += d.payload.size();
      }
      if (!out.empty() && total >= max_bytes) {
        done = true;
        break;
      }
    }
    expected = cursor.offset();
    seed = cursor.seeded() ? std::optional<ChainHash>(cursor.hash()) : std::nullopt;
    if (!done && seg.sealed && seed && *seed != seg.last_hash) {
      // Leaving a sealed segment: its last record must hash to what the manifest recorded
      // (across a gap nothing else vouches for it).
      return located(Errc::corruption, s, seg, seg.last_frame_pos, expected - 1,
                     fmt::format("the last record (offset {}) does not hash to the chain hash the manifest "
                                 "recorded for this segment",
                                 expected - 1));
    }
    if (expected >= s.next_offset) done = true;
    if (done) {
      CAIRN_TRY(check_last_link(s, si, reader, cursor));
      if (cursor.seeded() && expected < seg.next_offset) {
        s.frontier = VerifiedFrontier{true, seg.base_offset, expected, cursor.pos(), cursor.hash()};
      }
      break;
    }
  }
  std::erase_if(out, [&s](const Record& r) { return r.offset >= s.readable_end(); });
  check_read_shape(s.id, from, out);
  return std::move(out);
}

Result<std::vector<Record>> Store::read(std::uint64_t stream, std::uint64_t from_offset,
                                        std::uint64_t max_bytes) {
  if (impl_->closed) return make_error(Errc::closed, "the store is closed");
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  CAIRN_TRY(Impl::check_fresh(*s));
  return impl_->read(*s, from_offset, max_bytes);
}

}  // namespace cairn
