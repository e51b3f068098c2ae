#include "core/manifest.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/crc32c.h"
#include "core/format.h"
#include "core/le.h"

namespace cairn::manifest {
namespace {

void put_segment(std::uint8_t* q, const SegmentEntry& s) {
  le::put<std::uint64_t>(q, s.base_offset);
  le::put<std::uint64_t>(q + 8, s.next_offset);
  le::put<std::uint64_t>(q + 16, s.size_bytes);
  le::put<std::uint64_t>(q + 24, s.last_frame_pos);
  std::memcpy(q + 32, s.last_hash.data(), 32);
  q[64] = static_cast<std::uint8_t>(s.state);
}

SegmentEntry get_segment(const std::uint8_t* q) {
  SegmentEntry s;
  s.base_offset = le::get<std::uint64_t>(q);
  s.next_offset = le::get<std::uint64_t>(q + 8);
  s.size_bytes = le::get<std::uint64_t>(q + 16);
  s.last_frame_pos = le::get<std::uint64_t>(q + 24);
  std::memcpy(s.last_hash.data(), q + 32, 32);
  s.state = static_cast<SegmentState>(q[64]);
  return s;
}

bool zero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

// The structure of one segment entry: sizes and positions inside the file it describes.
// A sealed segment may be empty (next == base): a damaged one that recovery sealed when a
// rotation's successor turned up, recorded as it is.
std::string check_segment(const SegmentEntry& s, bool last) {
  const std::uint64_t header = format::kSegmentHeaderBytes;
  if (s.state != (last ? SegmentState::active : SegmentState::sealed)) {
    return last ? "its last segment is not active" : "a segment before the last is not sealed";
  }
  if (s.next_offset < s.base_offset || s.size_bytes < header) return "a segment extent is inconsistent";
  if (s.next_offset == s.base_offset) {
    if (s.last_frame_pos != 0) return "an empty segment names a last frame";
    if (last && s.size_bytes != header) return "an empty active segment has bytes";
    return {};
  }
  // Not every offset need have a frame (damage may have taken some), and the last one's
  // position is 0 when damage took it; any other position lies inside the file.
  if (s.last_frame_pos != 0 &&
      (s.last_frame_pos < header || s.last_frame_pos + format::kFrameHeaderBytes > s.size_bytes)) {
    return "a segment's last frame lies outside it";
  }
  return {};
}

// Segments ascend without overlapping; gaps (offsets repair removed) ascend and lie
// between segments. Offsets missing without a gap are allowed: they are damage that open
// reports (a segment lost, a damaged one recorded as it is).
std::string check_stream(const StreamEntry& st) {
  if (st.segments.empty()) return "a stream has no segments";
  if (st.first_offset != st.segments.front().base_offset) return "first_offset is not the first segment's base";
  for (std::size_t i = 0; i < st.segments.size(); ++i) {
    const bool last = i + 1 == st.segments.size();
    std::string why = check_segment(st.segments[i], last);
    if (!why.empty()) return why;
    if (!last && st.segments[i + 1].base_offset < st.segments[i].next_offset) return "segments overlap";
  }
  std::uint64_t at = st.first_offset;
  for (const Gap& g : st.gaps) {
    if (g.from_offset < at || g.to_offset <= g.from_offset || g.to_offset > st.active().base_offset) {
      return "a gap is out of order or outside the stream";
    }
    for (const SegmentEntry& s : st.segments) {
      if (g.from_offset < s.next_offset && s.base_offset < g.to_offset) return "a gap overlaps a segment";
    }
    at = g.to_offset;
  }
  for (const Pending& p : st.pending) {
    if (p.kind != PendingKind::install && p.kind != PendingKind::cut && p.kind != PendingKind::set_aside) {
      return "a pending operation has an unknown kind";
    }
    const bool listed = std::any_of(st.segments.begin(), st.segments.end(),
                                    [&](const SegmentEntry& s) { return s.base_offset == p.base_offset; });
    if (listed == (p.kind == PendingKind::set_aside)) return "a pending operation names the wrong segment";
  }
  return {};
}

}  // namespace

Bytes encode(const Manifest& m) {
  std::size_t size = kFixedBytes + 4;
  for (const StreamEntry& s : m.streams) {
    size += kStreamBytes + s.segments.size() * kSegmentBytes + s.gaps.size() * kGapBytes +
            s.pending.size() * kPendingBytes;
  }
  Bytes out(size, 0);
  std::uint8_t* p = out.data();
  std::memcpy(p, kMagic, 8);
  le::put<std::uint32_t>(p + 8, kVersion);
  le::put<std::uint32_t>(p + 12, m.clean_shutdown ? kFlagCleanShutdown : 0);
  le::put<std::uint64_t>(p + 16, m.generation);
  le::put<std::uint32_t>(p + 24, m.max_record_bytes);
  p[28] = m.compression;
  le::put<std::uint32_t>(p + 32, static_cast<std::uint32_t>(m.streams.size()));
  std::uint8_t* q = p + kFixedBytes;
  for (const StreamEntry& s : m.streams) {
    le::put<std::uint64_t>(q, s.stream_id);
    le::put<std::uint64_t>(q + 8, s.first_offset);
    le::put<std::uint32_t>(q + 16, static_cast<std::uint32_t>(s.segments.size()));
    le::put<std::uint32_t>(q + 20, static_cast<std::uint32_t>(s.gaps.size()));
    le::put<std::uint32_t>(q + 24, static_cast<std::uint32_t>(s.pending.size()));
    q += kStreamBytes;
    for (const SegmentEntry& g : s.segments) {
      put_segment(q, g);
      q += kSegmentBytes;
    }
    for (const Gap& g : s.gaps) {
      le::put<std::uint64_t>(q, g.from_offset);
      le::put<std::uint64_t>(q + 8, g.to_offset);
      q += kGapBytes;
    }
    for (const Pending& d : s.pending) {
      q[0] = static_cast<std::uint8_t>(d.kind);
      le::put<std::uint64_t>(q + 8, d.base_offset);
      le::put<std::uint64_t>(q + 16, d.size_bytes);
      q += kPendingBytes;
    }
  }
  le::put<std::uint32_t>(q, crc32c(ByteView(p, out.size() - 4)));
  return out;
}

Result<Manifest> decode(ByteView bytes, const std::string& file) {
  auto bad = [&](Errc code, const std::string& why) {
    Error e = make_error(code, "manifest " + why);
    e.segment = file;
    return e;
  };
  if (bytes.size() < kFixedBytes + 4) return bad(Errc::corruption, "is too short");
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, kMagic, 8) != 0) return bad(Errc::corruption, "has a bad magic");
  if (le::get<std::uint32_t>(p + bytes.size() - 4) != crc32c(bytes.first(bytes.size() - 4))) {
    return bad(Errc::corruption, "CRC32C mismatch");
  }
  const std::uint32_t version = le::get<std::uint32_t>(p + 8);
  if (version != kVersion) return bad(Errc::unsupported_format, fmt::format("has unknown version {}", version));
  const std::uint32_t flags = le::get<std::uint32_t>(p + 12);
  if ((flags & ~kFlagCleanShutdown) != 0 || !zero(p + 29, 3) || !zero(p + 36, 4)) {
    return bad(Errc::corruption, "has reserved bits set");
  }
  Manifest m;
  m.clean_shutdown = (flags & kFlagCleanShutdown) != 0;
  m.generation = le::get<std::uint64_t>(p + 16);
  m.max_record_bytes = le::get<std::uint32_t>(p + 24);
  m.compression = p[28];
  if (m.compression != 0) return bad(Errc::unsupported_format, fmt::format("names unknown codec {}", m.compression));
  const std::uint64_t stream_count = le::get<std::uint32_t>(p + 32);
  std::uint64_t pos = kFixedBytes;
  const std::uint64_t body_end = bytes.size() - 4;
  for (std::uint64_t i = 0; i < stream_count; ++i) {
    if (body_end - pos < kStreamBytes) return bad(Errc::corruption, "ends inside a stream entry");
    const std::uint8_t* q = p + pos;
    StreamEntry s;
    s.stream_id = le::get<std::uint64_t>(q);
    s.first_offset = le::get<std::uint64_t>(q + 8);
    const std::uint64_t segs = le::get<std::uint32_t>(q + 16);
    const std::uint64_t gaps = le::get<std::uint32_t>(q + 20);
    const std::uint64_t pending = le::get<std::uint32_t>(q + 24);
    pos += kStreamBytes;
    // Counts are checked against the bytes left before anything is allocated for them.
    if (segs * kSegmentBytes + gaps * kGapBytes + pending * kPendingBytes > body_end - pos) {
      return bad(Errc::corruption, fmt::format("stream {} counts exceed the file", s.stream_id));
    }
    for (std::uint64_t k = 0; k < segs; ++k, pos += kSegmentBytes) {
      if (!zero(p + pos + 65, 7)) return bad(Errc::corruption, "has reserved bytes set");
      s.segments.push_back(get_segment(p + pos));
    }
    for (std::uint64_t k = 0; k < gaps; ++k, pos += kGapBytes) {
      s.gaps.push_back(Gap{le::get<std::uint64_t>(p + pos), le::get<std::uint64_t>(p + pos + 8)});
    }
    for (std::uint64_t k = 0; k < pending; ++k, pos += kPendingBytes) {
      if (!zero(p + pos + 1, 7)) return bad(Errc::corruption, "has reserved bytes set");
      s.pending.push_back(Pending{static_cast<PendingKind>(p[pos]), le::get<std::uint64_t>(p + pos + 8),
                                  le::get<std::uint64_t>(p + pos + 16)});
    }
    if (!m.streams.empty() && s.stream_id <= m.streams.back().stream_id) {
      return bad(Errc::corruption, "streams are not in ascending order");
    }
    std::string why = check_stream(s);
    if (!why.empty()) return bad(Errc::corruption, fmt::format("stream {}: {}", s.stream_id, why));
    m.streams.push_back(std::move(s));
  }
  if (pos != body_end) return bad(Errc::corruption, "size does not match its counts");
  return m;
}

}  // namespace cairn::manifest
