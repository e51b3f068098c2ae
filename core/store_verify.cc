// Store::verify: every frame of every segment through the same scan and header checks
// recovery uses (so both name the same byte and offset), each sealed segment against the
// manifest, and every index sidecar entry against the frame it names.
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "core/chain_ahead.h"
#include "core/frame_reader.h"
#include "core/scan.h"
#include "core/segment_check.h"
#include "core/store.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

Finding index_finding(const Stream& s, const Segment& seg, std::uint64_t offset, std::string what) {
  return Finding{s.id, format::index_file_name(seg.base_offset), 0, offset, offset + 1,
                 "index sidecar " + std::move(what) + " (the log wins; rebuilt by repair or a writer's use)",
                 FindingKind::index};
}

}  // namespace

Status Store::Impl::check_sidecar(const Stream& s, const Segment& seg, FrameReader& reader, const ScanResult& r,
                                  std::vector<Finding>& out) {
  const std::string idx = format::index_file_name(seg.base_offset);
  auto bytes = fs::read_file(fs, fs::join_path(s.dir, idx), 1ull << 30);
  if (!bytes.ok()) return {};  // missing: rebuilt on open; unreadable now: nothing to judge
  auto sum = format::decode_index(*bytes, idx);
  if (!sum.ok()) {
    out.push_back(index_finding(s, seg, seg.base_offset, "is unreadable: " + sum.error().message));
    return {};
  }
  if (sum->segment_bytes != r.valid_end || sum->next_offset != r.next_offset || sum->last_hash != r.last_hash ||
      sum->stream_id != s.id || sum->base_offset != seg.base_offset) {
    out.push_back(index_finding(s, seg, seg.base_offset, "disagrees with the log about the segment's extent"));
    return {};
  }
  for (const format::IndexEntry& e : sum->entries) {
    CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(e.byte_pos));
    if (d.status != format::FrameStatus::ok || d.header.offset != e.offset || d.header.timestamp_us != e.timestamp_us) {
      out.push_back(index_finding(s, seg, e.offset, fmt::format("entry for offset {} at byte {} lies", e.offset, e.byte_pos)));
      return {};
    }
  }
  for (const format::CheckpointEntry& c : sum->checkpoints) {
    CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(c.byte_pos));
    if (d.status != format::FrameStatus::ok || d.header.offset != c.offset ||
        d.header.kind != static_cast<std::uint8_t>(RecordKind::checkpoint)) {
      out.push_back(index_finding(s, seg, c.offset, fmt::format("checkpoint entry for offset {} at byte {} lies", c.offset, c.byte_pos)));
      return {};
    }
  }
  return {};
}

namespace {

// A sealed segment's frames against what the manifest recorded when it was sealed.
void compare_manifest(const Stream& s, const Segment& seg, std::uint64_t file_size, const ScanResult& r,
                      std::vector<Finding>& out) {
  const manifest::SegmentEntry& e = seg.recorded;
  if (file_size != e.size_bytes) {
    out.push_back(Finding{s.id, seg.name, std::min(file_size, e.size_bytes), r.next_offset, e.next_offset,
                          file_size < e.size_bytes
                              ? fmt::format("sealed segment is {} bytes shorter than the manifest says", e.size_bytes - file_size)
                              : fmt::format("sealed segment has {} bytes past its size in the manifest", file_size - e.size_bytes)});
  } else if (r.next_offset != e.next_offset || r.last_hash != e.last_hash) {
    out.push_back(Finding{s.id, seg.name, r.valid_end, r.next_offset, e.next_offset,
                          "sealed segment's frames disagree with the manifest (offset or chain hash)"});
  }
}

}  // namespace

Result<ByteView> Store::Impl::read_whole(Stream& s, Segment& seg, std::uint64_t size_bytes,
                                         std::unique_ptr<ChainAhead>& ahead) {
  CAIRN_ASSIGN_OR_RETURN(fs::File * file, segment_file(s, seg));
  const auto size = static_cast<std::size_t>(size_bytes);
  if (const fs::Mapping* m = sealed_mapping(seg, *file, size_bytes)) {
    ahead = std::make_unique<ChainAhead>(m->bytes().first(size), max_record_bytes, options.verify_threads);
    ahead->published(size_bytes, true);
    return m->bytes().first(size);
  }
  if (verify_buffer_bytes < size) {
    // Uninitialized (the reads fill what is used). Touching fresh memory costs about half
    // as much as hashing it on a virtualized host, once per verify() call, not per segment.
    verify_buffer.reset(new std::uint8_t[size]);
    verify_buffer_bytes = size;
  }
  ahead = std::make_unique<ChainAhead>(ByteView(verify_buffer.get(), size), max_record_bytes, options.verify_threads);
  // In pieces, each handed to the helpers before the next is read.
  constexpr std::size_t kPieceBytes = 1 << 20;
  std::size_t got = 0;
  while (got < size) {
    const std::size_t want = std::min(kPieceBytes, size - got);
    auto n = fs::read_full(*file, got, std::span<std::uint8_t>(verify_buffer.get() + got, want));
    if (!n.ok()) return located(n.error().code, s, seg, got, seg.base_offset, n.error().message);
    got += *n;
    if (*n < want) break;  // the file is shorter
    ahead->published(got, false);
  }
  ahead->published(got, true);
  return ByteView(verify_buffer.get(), got);
}

Status Store::Impl::verify_stream(Stream& s, VerifyReport& out) {
  // The leaves of records retention removed: the spine is all that holds them.
  if (!s.segments.empty()) CAIRN_TRY(check_spine_leaves(s, 0, s.first_offset(), nullptr, out.findings));
  SegmentLink link;
  for (std::size_t i = 0; i < s.segments.size(); ++i) {
    Segment& seg = s.segments[i];
    if (i > 0 && s.gap_at(seg.base_offset - 1)) link = SegmentLink{};  // across a repair's gap
    if (seg.missing) {
      out.findings.push_back(seg.damage.front());
      link = SegmentLink{seg.next_offset, seg.last_hash};
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(fs::File * file, segment_file(s, seg));
    CAIRN_ASSIGN_OR_RETURN(SegmentProbe probe, probe_segment(*file));
    // The active segment up to what recovery kept (a live writer's tail is not ours to
    // judge), unless its tail is the damage that blocks the stream.
    const std::uint64_t size = seg.sealed || s.blocked ? probe.file_size : std::min(probe.file_size, seg.size_bytes);
    auto hc = check_segment_header(probe.head, s.id, seg.name, seg.base_offset, link);
    if (!hc.ok()) {
      out.findings.push_back(Finding{s.id, seg.name, format::kSegmentVersionPos, seg.base_offset, seg.base_offset + 1,
                                     hc.error().message});
      continue;
    }
    ScanInput in = scan_input(s, seg, size);
    in.anchor = hc->anchor;  // as the header states it (or the link, when it is damaged)
    if (seg.sealed && loaded && probe.file_size == seg.recorded.size_bytes) in.expected_last_hash = seg.recorded.last_hash;
    in.collect_leaves = true;  // the spine's entries are checked against them
    std::optional<FrameReader> reader;
    std::unique_ptr<ChainAhead> ahead;
    if (options.verify_threads > 1 && size <= 2 * options.max_segment_bytes) {
      // The whole segment in memory, its later frames hashed on helper threads meanwhile.
      CAIRN_ASSIGN_OR_RETURN(ByteView whole, read_whole(s, seg, size, ahead));
      in.file_size = whole.size();
      reader.emplace(whole, max_record_bytes, &read_buffers);
    } else {
      CAIRN_TRY(open_reader(s, seg, size, FrameReader::kDefaultWindowBytes, reader));
    }
    hasher.use_memo(ahead.get());
    Result<ScanResult> scanned = scan_segment(*reader, in, hasher);
    hasher.use_memo(nullptr);
    CAIRN_ASSIGN_OR_RETURN(ScanResult r, std::move(scanned));
    const std::size_t before = out.findings.size();
    out.findings.insert(out.findings.end(), hc->findings.begin(), hc->findings.end());
    out.findings.insert(out.findings.end(), r.damage.begin(), r.damage.end());
    if (seg.sealed && loaded && out.findings.size() == before) compare_manifest(s, seg, probe.file_size, r, out.findings);
    const bool sound = out.findings.size() == before;
    if (seg.sealed && sound) CAIRN_TRY(check_sidecar(s, seg, *reader, r, out.findings));
    // Leaves verified from a sound header only: a header or frame already found damaged is
    // the finding, not the spine.
    if (sound) CAIRN_TRY(check_spine_leaves(s, seg.base_offset, r.leaves.size(), &r.leaves, out.findings));
    out.records += r.records;
    out.bytes += size;
    out.segments += 1;
    link = SegmentLink{seg.sealed ? seg.next_offset : r.next_offset, seg.sealed ? seg.last_hash : r.last_hash};
  }
  for (const Finding& f : s.open_findings) {
    const bool known = std::any_of(out.findings.begin(), out.findings.end(), [&](const Finding& g) {
      return g.stream == f.stream && g.segment == f.segment && g.byte_pos == f.byte_pos;
    });
    if (!known) out.findings.push_back(f);
  }
  const Segment& act = s.active();
  if (!act.missing && !s.blocked && link.expected_anchor && *link.expected_anchor != s.head) {
    out.findings.push_back(Finding{s.id, act.name, act.size_bytes, s.next_offset - 1, s.next_offset,
                                   "the last record does not hash to the chain head"});
  }
  return {};
}

Result<VerifyReport> Store::verify(std::optional<std::uint64_t> stream) {
  Impl& im = *impl_;
  if (im.closed) return make_error(Errc::closed, "the store is closed");
  // verify_threads > 1 holds a segment in memory: released when verify returns.
  struct Release {
    Impl& im;
    ~Release() {
      im.verify_buffer.reset();
      im.verify_buffer_bytes = 0;
    }
  } release{im};
  VerifyReport report;
  if (stream) {
    CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(*stream));
    CAIRN_TRY(Impl::check_fresh(*s));
    CAIRN_TRY(im.verify_stream(*s, report));
  } else {
    // A writer rebuilt a missing or damaged manifest at open; a reader only reported it.
    for (const Finding& f : im.report.damage) {
      if (f.kind == FindingKind::manifest && im.read_only()) report.findings.push_back(f);
    }
    for (auto& [id, s] : im.streams) CAIRN_TRY(Impl::check_fresh(s));
    for (auto& [id, s] : im.streams) CAIRN_TRY(im.verify_stream(s, report));
  }
  if (!report.clean()) REACHABLE("verify reported a finding");
  if (std::any_of(report.findings.begin(), report.findings.end(), [](const Finding& f) { return f.kind == FindingKind::spine; })) {
    REACHABLE("verify reported a damaged spine entry");
  }
  return report;
}

}  // namespace cairn
