// The on-disk format of cairn, version 1 (prose in core/FORMAT.md; the numbers are here).
// All integers are little-endian. Everything here is pure: bytes in, values out; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "simfs/result.h"

namespace cairn::format {

inline constexpr std::uint32_t kVersion = 1;

// ---- Segment header: magic(8) version(4) reserved(4) stream_id(8) base_offset(8)
//      anchor(32) header_crc(4) reserved(4). header_crc = CRC32C of bytes [0, 64).
inline constexpr std::uint8_t kSegmentMagic[8] = {'C', 'A', 'I', 'R', 'N', 'S', 'E', 'G'};
inline constexpr std::size_t kSegmentHeaderBytes = 8 + 4 + 4 + 8 + 8 + 32 + 4 + 4;
static_assert(kSegmentHeaderBytes == 72);
inline constexpr std::size_t kSegmentVersionPos = 8;   // byte position of format_version
inline constexpr std::size_t kSegmentAnchorPos = 32;   // byte position of the anchor

struct SegmentHeader {
  std::uint64_t stream_id = 0;
  std::uint64_t base_offset = 0;  // offset of the segment's first record
  ChainHash anchor{};             // chain hash of the record before base_offset
};

// bad_reserved: a reserved field is not zero (version 1 writes zeros; bytes 68..72 are
// outside the CRC, so this is what keeps one header from having two encodings).
enum class HeaderStatus : std::uint8_t { ok, too_short, bad_magic, bad_crc, bad_version, bad_reserved };

struct HeaderDecode {
  HeaderStatus status = HeaderStatus::too_short;
  std::uint32_t version = 0;  // as stored (meaningful when the magic and CRC are right)
  SegmentHeader header;
};

void encode_segment_header(const SegmentHeader& h, Bytes& out);  // appends 72 bytes
// Decodes the first 72 bytes of `bytes`. bad_version is reported only for a header whose
// magic and CRC are right, i.e. a file written by another format version.
HeaderDecode decode_segment_header(ByteView bytes);

// ---- Record frame: frame_crc(4) payload_len(4) offset(8) timestamp_us(8)
//      durable_offset(8) kind(1) flags(1) codec(1) reserved(1) prev_hash(32) payload(payload_len).
// codec (core/codec.h): 0 the payload as written; 1 lz4, 2 zstd: the payload is stored as
// its uncompressed size (u32) and the codec's output.
// frame_crc = CRC32C of bytes [4, 68 + payload_len): every field and the payload.
// durable_offset: every offset of the stream below it was durable when the frame was
// written; recovery uses it to tell damage inside the durable range from a torn tail.
inline constexpr std::size_t kFrameHeaderBytes = 4 + 4 + 8 + 8 + 8 + 1 + 1 + 2 + 32;
static_assert(kFrameHeaderBytes == 68);
inline constexpr std::uint8_t kFlagBatchEnd = 0x01;  // last record of an atomic batch
inline constexpr std::uint8_t kKnownFlags = kFlagBatchEnd;

struct FrameHeader {
  std::uint32_t crc = 0;
  std::uint32_t payload_len = 0;
  std::uint64_t offset = 0;
  std::uint64_t timestamp_us = 0;
  std::uint64_t durable_offset = 0;
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::uint8_t codec = 0;  // codec::Codec of the stored payload
  ChainHash prev_hash{};
};

// Appends one frame (computing its CRC; h.crc and h.payload_len are ignored).
void encode_frame(const FrameHeader& h, ByteView payload, Bytes& out);

enum class FrameStatus : std::uint8_t {
  ok,
  truncated,     // the buffer ends inside the frame (or its header)
  bad_length,    // payload_len above max_record_bytes: corruption, never an allocation
  bad_crc,       // CRC32C mismatch
  bad_fields,    // CRC right but kind, flags, codec or reserved hold values never written,
                 // or a compressed payload's size above max_record_bytes
  bad_payload,   // a compressed payload that does not decompress to its stated size
};

struct FrameDecode {
  FrameStatus status = FrameStatus::truncated;
  FrameHeader header;
  ByteView payload;             // the stored payload: points into the input buffer (see FrameReader
                                // for the decompressed one)
  std::size_t frame_bytes = 0;  // kFrameHeaderBytes + payload_len when the length is sane
};

// Decodes the frame starting at buf[0]. Never reads outside buf.
FrameDecode decode_frame(ByteView buf, std::uint32_t max_record_bytes);

const char* frame_status_name(FrameStatus s);

// ---- Checkpoint payload: chain_hash(32) record_count(8). chain_hash = h(offset-1) and
//      record_count = offset of the checkpoint record itself.
inline constexpr std::size_t kCheckpointPayloadBytes = 32 + 8;
struct CheckpointPayload {
  ChainHash chain_hash{};
  std::uint64_t record_count = 0;
};
Bytes encode_checkpoint(const CheckpointPayload& c);
std::optional<CheckpointPayload> decode_checkpoint(ByteView payload);

// ---- Index sidecar of a sealed segment (seg-N.idx), replaced atomically:
//  magic "CAIRNIDX"(8) version(4) entry_count(4) stream_id(8) base_offset(8)
//  segment_bytes(8) next_offset(8) first_timestamp_us(8) last_timestamp_us(8)
//  last_hash(32) checkpoint_count(4) reserved(4)
//  entry_count x {offset(8) byte_pos(8) timestamp_us(8)}
//  checkpoint_count x {offset(8) byte_pos(8)}
//  file_crc(4) = CRC32C of every preceding byte.
inline constexpr std::uint8_t kIndexMagic[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'D', 'X'};
inline constexpr std::size_t kIndexFixedBytes = 8 + 4 + 4 + 8 * 6 + 32 + 4 + 4;
static_assert(kIndexFixedBytes == 104);
inline constexpr std::size_t kIndexEntryBytes = 24;
inline constexpr std::size_t kCheckpointEntryBytes = 16;

struct IndexEntry {
  std::uint64_t offset = 0;
  std::uint64_t byte_pos = 0;  // position of the frame in the segment file
  std::uint64_t timestamp_us = 0;
};

struct CheckpointEntry {
  std::uint64_t offset = 0;
  std::uint64_t byte_pos = 0;
};

// Everything a sealed segment's index file states about the segment.
struct SegmentSummary {
  std::uint64_t stream_id = 0;
  std::uint64_t base_offset = 0;
  std::uint64_t segment_bytes = 0;  // file size covered (header + frames)
  std::uint64_t next_offset = 0;    // one past the last record (== base when empty)
  std::uint64_t first_timestamp_us = 0;
  std::uint64_t last_timestamp_us = 0;
  ChainHash last_hash{};            // h(next_offset - 1), the next segment's anchor
  std::vector<IndexEntry> entries;  // ascending offset and byte_pos
  std::vector<CheckpointEntry> checkpoints;
};

Bytes encode_index(const SegmentSummary& s);
// Decodes and checks an index file: magic, version, exact size for its counts, CRC,
// entries ascending and inside [kSegmentHeaderBytes, segment_bytes). Errors: corruption
// or unsupported_format, naming `file`.
Result<SegmentSummary> decode_index(ByteView bytes, const std::string& file);

// ---- File names. Stream directories: "stream-<id, 20 digits>". Segment files:
//      "seg-<base offset, 20 digits>.log" and the index sidecar "...idx".
std::string stream_dir_name(std::uint64_t stream_id);
std::optional<std::uint64_t> parse_stream_dir_name(const std::string& name);
std::string segment_file_name(std::uint64_t base_offset);
std::string index_file_name(std::uint64_t base_offset);
// Parses "seg-<20 digits>.<ext>"; returns the base offset when ext matches.
std::optional<std::uint64_t> parse_segment_name(const std::string& name, const std::string& ext);

}  // namespace cairn::format
