#include "core/format.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/canary.h"
#include "core/codec.h"
#include "core/crc32c.h"
#include "core/le.h"

namespace cairn::format {
namespace {

// Planted bug (crc_skips_tail): the frame CRC leaves out the payload's last bytes.
std::size_t crc_skipped_tail(std::size_t payload_bytes) {
  return canary_on(Canary::crc_skips_tail) ? std::min<std::size_t>(payload_bytes, 4) : 0;
}

}  // namespace

void encode_segment_header(const SegmentHeader& h, Bytes& out) {
  std::size_t at = out.size();
  out.resize(at + kSegmentHeaderBytes, 0);
  std::uint8_t* p = out.data() + at;
  std::memcpy(p, kSegmentMagic, 8);
  le::put<std::uint32_t>(p + 8, kVersion);
  le::put<std::uint64_t>(p + 16, h.stream_id);
  le::put<std::uint64_t>(p + 24, h.base_offset);
  std::memcpy(p + 32, h.anchor.data(), 32);
  le::put<std::uint32_t>(p + 64, crc32c(ByteView(p, 64)));
}

HeaderDecode decode_segment_header(ByteView bytes) {
  HeaderDecode d;
  if (bytes.size() < kSegmentHeaderBytes) return d;
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, kSegmentMagic, 8) != 0) {
    d.status = HeaderStatus::bad_magic;
    return d;
  }
  if (le::get<std::uint32_t>(p + 64) != crc32c(ByteView(p, 64))) {
    d.status = HeaderStatus::bad_crc;
    return d;
  }
  d.version = le::get<std::uint32_t>(p + 8);
  if (d.version != kVersion) {
    d.status = HeaderStatus::bad_version;
    return d;
  }
  if (le::get<std::uint32_t>(p + 12) != 0 || le::get<std::uint32_t>(p + 68) != 0) {
    d.status = HeaderStatus::bad_reserved;
    return d;
  }
  d.header.stream_id = le::get<std::uint64_t>(p + 16);
  d.header.base_offset = le::get<std::uint64_t>(p + 24);
  std::memcpy(d.header.anchor.data(), p + 32, 32);
  d.status = HeaderStatus::ok;
  return d;
}

void encode_frame(const FrameHeader& h, ByteView payload, Bytes& out) {
  std::size_t at = out.size();
  out.resize(at + kFrameHeaderBytes + payload.size());
  std::uint8_t* p = out.data() + at;
  le::put<std::uint32_t>(p + 4, static_cast<std::uint32_t>(payload.size()));
  le::put<std::uint64_t>(p + 8, h.offset);
  le::put<std::uint64_t>(p + 16, h.timestamp_us);
  le::put<std::uint64_t>(p + 24, h.durable_offset);
  p[32] = h.kind;
  p[33] = h.flags;
  p[34] = h.codec;
  p[35] = 0;
  std::memcpy(p + 36, h.prev_hash.data(), 32);
  if (!payload.empty()) std::memcpy(p + kFrameHeaderBytes, payload.data(), payload.size());
  le::put<std::uint32_t>(p, crc32c(ByteView(p + 4, kFrameHeaderBytes - 4 + payload.size() - crc_skipped_tail(payload.size()))));
}

FrameDecode decode_frame(ByteView buf, std::uint32_t max_record_bytes) {
  FrameDecode d;
  if (buf.size() < kFrameHeaderBytes) return d;  // truncated
  const std::uint8_t* p = buf.data();
  FrameHeader& h = d.header;
  h.crc = le::get<std::uint32_t>(p);
  h.payload_len = le::get<std::uint32_t>(p + 4);
  h.offset = le::get<std::uint64_t>(p + 8);
  h.timestamp_us = le::get<std::uint64_t>(p + 16);
  h.durable_offset = le::get<std::uint64_t>(p + 24);
  h.kind = p[32];
  h.flags = p[33];
  std::memcpy(h.prev_hash.data(), p + 36, 32);
  if (h.payload_len > max_record_bytes) {
    d.status = FrameStatus::bad_length;
    return d;
  }
  d.frame_bytes = kFrameHeaderBytes + h.payload_len;
  if (buf.size() < d.frame_bytes) return d;  // truncated
  if (crc32c(ByteView(p + 4, d.frame_bytes - 4 - crc_skipped_tail(h.payload_len))) != h.crc) {
    d.status = FrameStatus::bad_crc;
    return d;
  }
  h.codec = p[34];
  // A compressed payload states its size first: above the limit is corruption (checked
  // here, before anything is allocated for it).
  const bool compressed = h.codec != 0;
  const bool size_ok = !compressed || (h.payload_len >= codec::kSizePrefixBytes &&
                                       le::get<std::uint32_t>(p + kFrameHeaderBytes) <= max_record_bytes);
  if (!valid_kind(h.kind) || (h.flags & ~kKnownFlags) != 0 || !codec::known(h.codec) || p[35] != 0 || !size_ok ||
      (compressed && h.kind != static_cast<std::uint8_t>(RecordKind::data))) {
    d.status = FrameStatus::bad_fields;
    return d;
  }
  d.payload = ByteView(p + kFrameHeaderBytes, h.payload_len);
  d.status = FrameStatus::ok;
  return d;
}

const char* frame_status_name(FrameStatus s) {
  switch (s) {
    case FrameStatus::ok: return "ok";
    case FrameStatus::truncated: return "truncated frame";
    case FrameStatus::bad_length: return "frame length above max_record_bytes";
    case FrameStatus::bad_crc: return "frame CRC32C mismatch";
    case FrameStatus::bad_fields: return "frame fields invalid";
    case FrameStatus::bad_payload: return "compressed payload does not decompress";
  }
  return "?";
}

Bytes encode_checkpoint(const CheckpointPayload& c) {
  Bytes out(kCheckpointPayloadBytes);
  std::memcpy(out.data(), c.chain_hash.data(), 32);
  le::put<std::uint64_t>(out.data() + 32, c.record_count);
  return out;
}

std::optional<CheckpointPayload> decode_checkpoint(ByteView payload) {
  if (payload.size() != kCheckpointPayloadBytes) return std::nullopt;
  CheckpointPayload c;
  std::memcpy(c.chain_hash.data(), payload.data(), 32);
  c.record_count = le::get<std::uint64_t>(payload.data() + 32);
  return c;
}

Bytes encode_index(const SegmentSummary& s) {
  Bytes out(kIndexFixedBytes + s.entries.size() * kIndexEntryBytes +
            s.checkpoints.size() * kCheckpointEntryBytes + 4);
  std::uint8_t* p = out.data();
  std::memcpy(p, kIndexMagic, 8);
  le::put<std::uint32_t>(p + 8, kVersion);
  le::put<std::uint32_t>(p + 12, static_cast<std::uint32_t>(s.entries.size()));
  le::put<std::uint64_t>(p + 16, s.stream_id);
  le::put<std::uint64_t>(p + 24, s.base_offset);
  le::put<std::uint64_t>(p + 32, s.segment_bytes);
  le::put<std::uint64_t>(p + 40, s.next_offset);
  le::put<std::uint64_t>(p + 48, s.first_timestamp_us);
  le::put<std::uint64_t>(p + 56, s.last_timestamp_us);
  std::memcpy(p + 64, s.last_hash.data(), 32);
  le::put<std::uint32_t>(p + 96, static_cast<std::uint32_t>(s.checkpoints.size()));
  std::uint8_t* q = p + kIndexFixedBytes;
  for (const IndexEntry& e : s.entries) {
    le::put<std::uint64_t>(q, e.offset);
    le::put<std::uint64_t>(q + 8, e.byte_pos);
    le::put<std::uint64_t>(q + 16, e.timestamp_us);
    q += kIndexEntryBytes;
  }
  for (const CheckpointEntry& c : s.checkpoints) {
    le::put<std::uint64_t>(q, c.offset);
    le::put<std::uint64_t>(q + 8, c.byte_pos);
    q += kCheckpointEntryBytes;
  }
  le::put<std::uint32_t>(q, crc32c(ByteView(p, out.size() - 4)));
  return out;
}

Result<SegmentSummary> decode_index(ByteView bytes, const std::string& file) {
  auto bad = [&](Errc code, const std::string& why) {
    Error e = make_error(code, "index file " + why);
    e.segment = file;
    return e;
  };
  if (bytes.size() < kIndexFixedBytes + 4) return bad(Errc::corruption, "too short");
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, kIndexMagic, 8) != 0) return bad(Errc::corruption, "has a bad magic");
  const std::uint32_t version = le::get<std::uint32_t>(p + 8);
  const std::uint64_t entry_count = le::get<std::uint32_t>(p + 12);
  const std::uint64_t checkpoint_count = le::get<std::uint32_t>(p + 96);
  const std::uint64_t expect = kIndexFixedBytes + entry_count * kIndexEntryBytes +
                               checkpoint_count * kCheckpointEntryBytes + 4;
  if (expect != bytes.size()) return bad(Errc::corruption, "size does not match its counts");
  if (le::get<std::uint32_t>(p + bytes.size() - 4) != crc32c(bytes.first(bytes.size() - 4))) {
    return bad(Errc::corruption, "CRC32C mismatch");
  }
  if (version != kVersion) {
    return bad(Errc::unsupported_format, fmt::format("has unknown version {}", version));
  }
  SegmentSummary s;
  s.stream_id = le::get<std::uint64_t>(p + 16);
  s.base_offset = le::get<std::uint64_t>(p + 24);
  s.segment_bytes = le::get<std::uint64_t>(p + 32);
  s.next_offset = le::get<std::uint64_t>(p + 40);
  s.first_timestamp_us = le::get<std::uint64_t>(p + 48);
  s.last_timestamp_us = le::get<std::uint64_t>(p + 56);
  std::memcpy(s.last_hash.data(), p + 64, 32);
  if (s.next_offset < s.base_offset || s.segment_bytes < kSegmentHeaderBytes) {
    return bad(Errc::corruption, "summary is inconsistent");
  }
  // Counts are bounded by the file size checked above, so these reservations are too.
  s.entries.reserve(entry_count);
  const std::uint8_t* q = p + kIndexFixedBytes;
  for (std::uint64_t i = 0; i < entry_count; ++i, q += kIndexEntryBytes) {
    IndexEntry e{le::get<std::uint64_t>(q), le::get<std::uint64_t>(q + 8),
                 le::get<std::uint64_t>(q + 16)};
    bool ascending = s.entries.empty() || (e.offset > s.entries.back().offset &&
                                           e.byte_pos > s.entries.back().byte_pos);
    if (!ascending || e.offset < s.base_offset || e.offset >= s.next_offset ||
        e.byte_pos < kSegmentHeaderBytes || e.byte_pos >= s.segment_bytes) {
      return bad(Errc::corruption, fmt::format("entry {} is out of order or range", i));
    }
    s.entries.push_back(e);
  }
  for (std::uint64_t i = 0; i < checkpoint_count; ++i, q += kCheckpointEntryBytes) {
    CheckpointEntry c{le::get<std::uint64_t>(q), le::get<std::uint64_t>(q + 8)};
    bool ascending = s.checkpoints.empty() || c.offset > s.checkpoints.back().offset;
    if (!ascending || c.offset < s.base_offset || c.offset >= s.next_offset ||
        c.byte_pos < kSegmentHeaderBytes || c.byte_pos >= s.segment_bytes) {
      return bad(Errc::corruption, fmt::format("checkpoint entry {} is out of order or range", i));
    }
    s.checkpoints.push_back(c);
  }
  return s;
}

std::string stream_dir_name(std::uint64_t stream_id) {
  return fmt::format("stream-{:020}", stream_id);
}

namespace {

std::optional<std::uint64_t> parse_digits(const std::string& s) {
  if (s.size() != 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

std::optional<std::uint64_t> parse_stream_dir_name(const std::string& name) {
  if (name.rfind("stream-", 0) != 0) return std::nullopt;
  return parse_digits(name.substr(7));
}

std::string segment_file_name(std::uint64_t base_offset) {
  return fmt::format("seg-{:020}.log", base_offset);
}

std::string index_file_name(std::uint64_t base_offset) {
  return fmt::format("seg-{:020}.idx", base_offset);
}

std::optional<std::uint64_t> parse_segment_name(const std::string& name, const std::string& ext) {
  const std::string suffix = "." + ext;
  if (name.size() != 4 + 20 + suffix.size() || name.rfind("seg-", 0) != 0) return std::nullopt;
  if (name.compare(24, suffix.size(), suffix) != 0) return std::nullopt;
  return parse_digits(name.substr(4, 20));
}

}  // namespace cairn::format
