#include "core/segment_check.h"

#include <fmt/format.h>

namespace cairn {

Result<HeaderCheck> check_segment_header(ByteView head, std::uint64_t stream, const std::string& name,
                                         std::uint64_t base, const SegmentLink& link) {
  const format::HeaderDecode hd = format::decode_segment_header(head);
  if (hd.status == format::HeaderStatus::bad_version) {
    // H1: a file written by another format version is refused, never guessed at.
    Error e = make_error(Errc::unsupported_format,
                         fmt::format("segment format version {} is not supported (this build reads "
                                     "version {})",
                                     hd.version, format::kVersion));
    e.stream = stream;
    e.segment = name;
    e.byte_pos = format::kSegmentVersionPos;
    return e;
  }
  HeaderCheck c;
  c.header_ok = hd.status == format::HeaderStatus::ok && hd.header.stream_id == stream &&
                hd.header.base_offset == base;
  if (c.header_ok) {
    c.anchor = hd.header.anchor;
  } else {
    // H2: the anchor seeds the segment's chain; best knowledge is the previous segment's
    // last hash, else none (the first frame's prev_hash seeds it, unverified).
    c.anchor = link.expected_anchor;
    c.findings.push_back(Finding{stream, name, 0, base, base + 1,
                                 "segment header is invalid (magic, CRC, stream or base offset)"});
  }
  if (link.expected_base && *link.expected_base != base) {
    const std::uint64_t a = std::min(*link.expected_base, base);
    const std::uint64_t b = std::max(*link.expected_base, base);
    c.findings.push_back(Finding{stream, name, 0, a, b,
                                 *link.expected_base < base
                                     ? fmt::format("offsets {}..{} are missing before this segment", a, b - 1)
                                     : fmt::format("segment overlaps offsets {}..{} of the previous one", a, b - 1)});
  } else if (c.header_ok && link.expected_anchor && *link.expected_anchor != *c.anchor) {
    // H3: the chain does not continue across the segment boundary.
    c.findings.push_back(Finding{stream, name, 0, base, base + 1,
                                 "segment anchor does not match the previous segment's last chain hash"});
  }
  return c;
}

Result<SegmentProbe> probe_segment(fs::File& file) {
  SegmentProbe p;
  CAIRN_ASSIGN_OR_RETURN(p.file_size, file.size());
  p.head.resize(format::kSegmentHeaderBytes);
  CAIRN_ASSIGN_OR_RETURN(std::size_t got, fs::read_full(file, 0, p.head));
  p.head.resize(got);
  return p;
}

}  // namespace cairn
