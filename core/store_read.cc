// Store: verified reads, reads by time, verify() and repair().
#include <algorithm>

#include <fmt/format.h>

#include "core/canary.h"
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
// checkpoint, or a resume point after damage, at or below `from`.
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
  std::vector<Record> out;
  if (from >= s.next_offset) return out;

  const std::size_t si = segment_for(s, from);
  StartPoint sp = start_for(s.segments[si], from, s.frontier);
  REACHABLE("a verified read ran");
  if (sp.from_checkpoint) REACHABLE("a verified read started from a checkpoint");
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
    // later records unreadable:
    // restart at the last index entry past the damage (its chain seeded from that frame,
    // as at a resume point). Reads of the damaged range itself still fail.
    const Error& e = result.error();
    const Segment& seg = s.segments[si];
    if (!e.offset || *e.offset >= from || e.segment != seg.name) return result;
    StartPoint next = sp;
    for (const format::IndexEntry& entry : seg.entries) {
      if (entry.offset > *e.offset && entry.offset <= from && entry.offset > next.offset) {
        next = StartPoint{};
        next.offset = entry.offset;
        next.byte_pos = entry.byte_pos;
        next.from_resume = true;
      }
    }
    if (next.offset == sp.offset) return result;
    SOMETIMES(true, "a verified read restarted past damage");
    sp = next;
  }
}

Result<std::vector<Record>> Store::Impl::read_from(Stream& s, std::size_t si, StartPoint sp,
                                                   std::uint64_t from, std::uint64_t max_bytes,
                                                   std::vector<Record>& out) {
  out.clear();
  std::uint64_t expected = sp.offset;
  std::uint64_t pos = sp.byte_pos;
  ChainHash hash = sp.from_frontier ? sp.seed : s.segments[si].anchor;
  bool seeded = !sp.from_resume && (sp.from_checkpoint || sp.from_frontier || s.segments[si].anchor_known);
  std::uint64_t total = 0;
  bool done = false;

  for (; si < s.segments.size() && !done; ++si) {
    Segment& seg = s.segments[si];
    if (pos == 0) {  // entering the next segment: its anchor must continue the chain
      if (seg.base_offset != expected) {
        return located(Errc::corruption, s, seg, 0, expected,
                       fmt::format("offsets {}..{} are missing", expected, seg.base_offset));
      }
      if (seg.anchor_known && seeded && seg.anchor != hash) {
        return located(Errc::corruption, s, seg, 0, expected,
                       "segment anchor does not continue the chain");
      }
      pos = format::kSegmentHeaderBytes;
      if (seg.anchor_known) {
        hash = seg.anchor;
        seeded = true;
      }
    }
    CAIRN_ASSIGN_OR_RETURN(fs::File * file, segment_file(s, seg));
    // Read ahead about what this read needs (from the start point, which is at most an
    // index interval or a checkpoint before `from`), not a whole scan window.
    const std::size_t window = static_cast<std::size_t>(std::clamp<std::uint64_t>(
        max_bytes + options.index_interval_bytes + 2 * format::kFrameHeaderBytes, 64 * 1024,
        FrameReader::kDefaultWindowBytes));
    FrameReader reader(*file, seg.size_bytes, options.max_record_bytes, window);
    bool first_frame = true;
    while (expected < seg.next_offset) {
      auto decoded = reader.at(pos);
      if (!decoded.ok()) {  // name where the read failed, so callers can read past it
        return located(decoded.error().code, s, seg, pos, expected, decoded.error().message);
      }
      const format::FrameDecode& d = *decoded;
      if (d.status != format::FrameStatus::ok) {
        return located(Errc::corruption, s, seg, pos, expected, format::frame_status_name(d.status));
      }
      const format::FrameHeader& h = d.header;
      if (h.offset != expected) {
        return located(Errc::corruption, s, seg, pos, expected,
                       fmt::format("frame holds offset {} where offset {} belongs", h.offset, expected));
      }
      if (first_frame && sp.from_checkpoint && expected == sp.offset) {
        auto cp = format::decode_checkpoint(d.payload);
        bool consistent = cp && cp->chain_hash == h.prev_hash && cp->record_count == h.offset;
        if (!consistent && !canary_on(Canary::checkpoint_hash_unverified)) {
          return located(Errc::corruption, s, seg, pos, expected,
                         "checkpoint payload disagrees with its frame");
        }
        hash = cp ? cp->chain_hash : h.prev_hash;
        seeded = true;
      }
      if (seeded && h.prev_hash != hash) {
        return located(Errc::corruption, s, seg, pos, expected,
                       fmt::format("chain break: prev_hash of offset {} does not match the chain",
                                   expected));
      }
      hash = hasher.next(h.prev_hash, h.offset, static_cast<RecordKind>(h.kind), h.timestamp_us,
                         d.payload);
      seeded = true;
      first_frame = false;
      if (expected >= from) {
        out.push_back(Record{h.offset, h.timestamp_us, static_cast<RecordKind>(h.kind),
                             Bytes(d.payload.begin(), d.payload.end())});
        total += d.payload.size();
      }
      pos += d.frame_bytes;
      ++expected;
      if (!out.empty() && total >= max_bytes) {
        done = true;
        break;
      }
    }
    if (expected >= s.next_offset) done = true;
    if (!done) pos = 0;
    // Check the link that vouches for the last record read: the next frame's prev_hash,
    // the next segment's anchor, or the stream's head.
    if (done && !canary_on(Canary::checkpoint_hash_unverified)) {
      bool linked = true;
      if (expected < seg.next_offset) {
        CAIRN_ASSIGN_OR_RETURN(format::FrameDecode next, reader.at(pos));
        linked = next.status == format::FrameStatus::ok && next.header.prev_hash == hash;
      } else if (si + 1 < s.segments.size()) {
        const Segment& after = s.segments[si + 1];
        linked = !after.anchor_known || after.anchor == hash;
      } else {
        linked = s.head == hash;
      }
      if (!linked) {
        return located(Errc::corruption, s, seg, pos, expected - 1,
                       fmt::format("chain does not continue after offset {}", expected - 1));
      }
    }
    if (done && seeded && expected < seg.next_offset) {
      s.frontier = VerifiedFrontier{true, seg.base_offset, expected, pos, hash};
    }
  }
  ALWAYS(!out.empty() && out.front().offset == from, "a verified read starts at the requested offset",
         {"stream", s.id}, {"from", from});
  for (std::size_t i = 1; i < out.size(); ++i) {
    ALWAYS(out[i].offset == out[i - 1].offset + 1, "a verified read returns contiguous offsets",
           {"stream", s.id}, {"offset", out[i].offset});
  }
  return std::move(out);
}

Result<std::vector<Record>> Store::read(std::uint64_t stream, std::uint64_t from_offset,
                                        std::uint64_t max_bytes) {
  if (impl_->closed) return make_error(Errc::closed, "the store is closed");
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  return impl_->read(*s, from_offset, max_bytes);
}

Result<std::uint64_t> Store::offset_for_time(std::uint64_t stream, std::uint64_t t_us) {
  Impl& im = *impl_;
  if (im.closed) return make_error(Errc::closed, "the store is closed");
  CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(stream));
  for (Segment& seg : s->segments) {
    if (seg.empty() || seg.last_ts < t_us) continue;
    // Timestamps never decrease, so the sparse time index narrows the scan to one stride.
    std::uint64_t pos = format::kSegmentHeaderBytes;
    std::uint64_t expected = seg.base_offset;
    for (const format::IndexEntry& e : seg.entries) {
      if (e.timestamp_us >= t_us) break;
      pos = e.byte_pos;
      expected = e.offset;
    }
    CAIRN_ASSIGN_OR_RETURN(fs::File * file, im.segment_file(*s, seg));
    FrameReader reader(*file, seg.size_bytes, im.options.max_record_bytes);
    while (expected < seg.next_offset) {
      CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(pos));
      if (d.status != format::FrameStatus::ok || d.header.offset != expected) {
        return im.located(Errc::corruption, *s, seg, pos, expected,
                          d.status != format::FrameStatus::ok
                              ? format::frame_status_name(d.status)
                              : "frame offset out of sequence");
      }
      if (d.header.timestamp_us >= t_us) return expected;
      pos += d.frame_bytes;
      ++expected;
    }
  }
  return s->next_offset;
}

Result<std::vector<Record>> Store::read_by_time(std::uint64_t stream, std::uint64_t t_us,
                                                std::uint64_t max_bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t offset, offset_for_time(stream, t_us));
  return read(stream, offset, max_bytes);
}

Status Store::Impl::verify_stream(Stream& s, VerifyReport& out) {
  ChainHash running{};
  bool running_known = false;
  std::uint64_t expected = s.first_offset();
  for (Segment& seg : s.segments) {
    auto add = [&](std::uint64_t byte_pos, std::uint64_t offset, std::string what) {
      out.findings.push_back(Finding{s.id, seg.name, byte_pos, offset, offset + 1, std::move(what)});
    };
    CAIRN_ASSIGN_OR_RETURN(fs::File * file, segment_file(s, seg));
    CAIRN_ASSIGN_OR_RETURN(std::uint64_t file_size, file->size());
    Bytes head(format::kSegmentHeaderBytes);
    CAIRN_ASSIGN_OR_RETURN(std::size_t got, fs::read_full(*file, 0, head));
    head.resize(got);
    format::HeaderDecode hd = format::decode_segment_header(head);
    bool header_ok = hd.status == format::HeaderStatus::ok && hd.header.stream_id == s.id &&
                     hd.header.base_offset == seg.base_offset;
    if (!header_ok) add(0, seg.base_offset, "segment header is invalid");
    if (seg.base_offset != expected) {
      add(0, expected, fmt::format("offsets {}..{} are missing", expected, seg.base_offset));
    } else if (header_ok && running_known && hd.header.anchor != running) {
      add(0, seg.base_offset, "segment anchor does not match the previous segment's last chain hash");
    }
    ScanInput in;
    in.stream = s.id;
    in.segment = seg.name;
    in.base_offset = seg.base_offset;
    in.anchor = header_ok ? hd.header.anchor : running;
    in.anchor_known = header_ok || running_known;
    in.file_size = file_size;
    in.max_record_bytes = options.max_record_bytes;
    in.index_interval_bytes = options.index_interval_bytes;
    CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan_segment(*file, in, hasher));
    const bool log_damaged = !r.damage.empty() || r.tail_bytes > 0;
    for (Finding& f : r.damage) out.findings.push_back(std::move(f));
    if (r.tail_bytes > 0) {
      add(r.valid_end, r.next_offset,
          fmt::format("{} bytes after the last complete batch: {}", r.tail_bytes, r.tail_reason));
    }
    if (seg.sealed && !log_damaged) {  // a damaged log explains a disagreeing index
      const std::string idx_name = format::index_file_name(seg.base_offset);
      auto bytes = fs::read_file(fs, fs::join_path(s.dir, idx_name), 1ull << 30);
      if (bytes.ok()) {
        auto sum = format::decode_index(*bytes, idx_name);
        if (!sum.ok()) {
          add(0, seg.base_offset, "index sidecar unreadable (rebuilt on next open): " + sum.error().message);
        } else if (sum->next_offset != r.next_offset || sum->last_hash != r.last_hash ||
                   sum->segment_bytes != r.valid_end) {
          add(0, seg.base_offset, "index sidecar disagrees with the log (the log wins)");
        }
      }
    }
    out.records += r.records;
    out.bytes += file_size;
    out.segments += 1;
    expected = r.next_offset;
    running = r.last_hash;
    running_known = true;
  }
  if (running_known && expected == s.next_offset && running != s.head) {
    out.findings.push_back(Finding{s.id, s.active().name, s.active().size_bytes, s.next_offset - 1,
                                      s.next_offset, "the last record does not hash to the chain head"});
  }
  return {};
}

Result<VerifyReport> Store::verify(std::optional<std::uint64_t> stream) {
  Impl& im = *impl_;
  if (im.closed) return make_error(Errc::closed, "the store is closed");
  VerifyReport report;
  if (stream) {
    CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(*stream));
    CAIRN_TRY(im.verify_stream(*s, report));
  } else {
    for (auto& [id, s] : im.streams) CAIRN_TRY(im.verify_stream(s, report));
  }
  if (!report.clean()) REACHABLE("verify reported a finding");
  return report;
}

Result<std::uint64_t> Store::repair(std::uint64_t stream) {
  Impl& im = *impl_;
  CAIRN_TRY(im.check_writable());
  CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(stream));
  VerifyReport report;
  CAIRN_TRY(im.verify_stream(*s, report));
  // The first finding that concerns the log itself (index findings need no repair).
  const Finding* first = nullptr;
  std::size_t first_seg = 0;
  for (const Finding& f : report.findings) {
    if (f.what.rfind("index sidecar", 0) == 0) continue;
    for (std::size_t i = 0; i < s->segments.size(); ++i) {
      if (s->segments[i].name != f.segment) continue;
      if (!first || i < first_seg || (i == first_seg && f.byte_pos < first->byte_pos)) {
        first = &f;
        first_seg = i;
      }
    }
  }
  if (!first) return s->next_offset;
  const std::uint64_t cut = std::max<std::uint64_t>(first->byte_pos, format::kSegmentHeaderBytes);
  const std::string dir = s->dir;
  for (std::size_t i = first_seg; i < s->segments.size(); ++i) {
    Segment& seg = s->segments[i];
    const std::string path = fs::join_path(dir, seg.name);
    if (i == first_seg && first->byte_pos >= format::kSegmentHeaderBytes) {
      // Keep the cut bytes beside the log, then cut.
      CAIRN_ASSIGN_OR_RETURN(fs::File * file, im.segment_file(*s, seg));
      CAIRN_ASSIGN_OR_RETURN(std::uint64_t size, file->size());
      Bytes tail(static_cast<std::size_t>(size > cut ? size - cut : 0));
      CAIRN_ASSIGN_OR_RETURN(std::size_t n, fs::read_full(*file, cut, tail));
      tail.resize(n);
      const std::string q = fs::join_path(dir, fmt::format("{}.quarantine-{}", seg.name, cut));
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> qf,
                             im.fs.open(q, fs::OpenOptions{.create = true, .truncate = true}));
      CAIRN_TRY(fs::write_all(*qf, 0, tail));
      CAIRN_TRY(qf->sync());
      CAIRN_TRY(file->truncate(cut));
      CAIRN_TRY(file->sync());
    } else {
      seg.file.reset();
      CAIRN_TRY(im.fs.rename(path, path + ".quarantined"));
    }
    Status idx = im.fs.unlink(fs::join_path(dir, format::index_file_name(seg.base_offset)));
    if (!idx.ok() && idx.error().code != Errc::not_found) return std::move(idx).error();
  }
  CAIRN_TRY(im.fs.sync_dir(dir));
  im.streams.erase(stream);
  CAIRN_TRY(im.recover_stream(stream, dir));
  return im.streams.at(stream).next_offset;
}

}  // namespace cairn
