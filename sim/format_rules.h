// The simulator's own reading of core/FORMAT.md: the oracle judges the core with these,
// never with the core's code. CRC32C is ISA-L's crc32_iscsi (RFC 3720 §B.4), SHA-256 is
// OpenSSL's EVP (FIPS 180-4), and every field position below is typed from FORMAT.md's
// tables. Pure: bytes in, values out.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simfs/bytes.h"

namespace cairn::sim::rules {

using Hash = std::array<std::uint8_t, 32>;

inline constexpr std::uint64_t kHeaderBytes = 72;       // segment header
inline constexpr std::uint64_t kFrameHeaderBytes = 68;  // frame, before its payload
inline constexpr std::uint8_t kKindData = 1;
inline constexpr std::uint8_t kKindCheckpoint = 2;

// CRC32C of `data` (initial 0xFFFFFFFF, final inversion).
std::uint32_t crc32c(ByteView data);

// h(n) = SHA-256(h(n-1) || offset u64 LE || kind u8 || timestamp_us u64 LE || payload).
// Not thread-safe across threads sharing one instance; one per simulated run.
class Chain {
 public:
  Chain();
  ~Chain();
  Chain(const Chain&) = delete;
  Chain& operator=(const Chain&) = delete;
  Hash next(const Hash& prev, std::uint64_t offset, std::uint8_t kind, std::uint64_t timestamp_us,
            ByteView payload);
  // SHA-256 of a ‖ b ‖ c (one reused context: a fetched digest, no per-call lookup).
  Hash sha256(ByteView a, ByteView b = {}, ByteView c = {});

 private:
  struct Impl;
  Impl* impl_;
};

// A record frame (FORMAT.md "Record frame"), CRC-checked.
struct Frame {
  std::uint64_t pos = 0;     // byte position in its file
  std::uint64_t bytes = 0;   // 68 + payload length
  std::uint64_t offset = 0;
  std::uint64_t timestamp_us = 0;
  std::uint64_t durable_offset = 0;
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::uint8_t codec = 0;    // byte 34: 0 as written, 1 LZ4 block, 2 Zstandard frame
  Hash prev{};
  ByteView payload;          // into the buffer it was read from, or into `inflated`
  std::shared_ptr<const Bytes> inflated;  // a compressed payload, decompressed (shared by copies)
  bool batch_end() const { return (flags & 1) != 0; }
};

// The frame at `pos`, when its length is sane (<= max_record_bytes), it lies inside the
// buffer, its CRC matches and its kind, flags, codec and reserved bytes are ones cairn
// writes; a compressed payload (data records only: u32 LE size, then the codec's output)
// must decompress to exactly its stated size, at most max_record_bytes, and `payload` is
// then the record as written.
std::optional<Frame> frame_at(ByteView file, std::uint64_t pos, std::uint32_t max_record_bytes);
// A frame's header fields without the CRC check (for placing a write's frames cheaply).
// Nullopt when the buffer ends inside the header or the payload.
std::optional<Frame> frame_fields(ByteView file, std::uint64_t pos, std::uint32_t max_record_bytes);

// The position of the first valid frame (as frame_at) at or after `from`, searching byte
// by byte (how a reader resumes after a frame whose length it cannot trust).
std::optional<std::uint64_t> next_valid_frame(ByteView file, std::uint64_t from, std::uint32_t max_record_bytes);

// The frames of a segment file from its header on: valid ones (CRC-checked) with the
// offset they hold; a damaged one gets the offset after the valid frame before it
// (`base` for the first) and reaches to the next valid frame, found by its length when
// that leads to one, else by searching byte by byte (as a reader resumes).
struct WalkedFrame {
  Frame f;
  bool valid = false;
};
std::vector<WalkedFrame> walk_frames(ByteView file, std::uint64_t base, std::uint32_t max_record_bytes);

// Rewrites a frame's CRC to match its bytes (what a tamperer does). REQUIRES: a whole frame at pos.
void reseal_frame(Bytes& file, std::uint64_t pos);

// The segment header (FORMAT.md "Segment file"), CRC-checked.
struct SegmentHeader {
  std::uint64_t stream = 0;
  std::uint64_t base_offset = 0;
  Hash anchor{};
};
std::optional<SegmentHeader> segment_header(ByteView file);

// An index sidecar's entries (FORMAT.md "Index sidecar"): positions of entry `i`'s
// byte_pos field and of checkpoint entry `i`'s byte_pos field, when the file is
// well-formed (size and CRC); for lying to the store with a valid CRC.
struct IndexLayout {
  std::vector<std::uint64_t> entry_pos_fields;
  std::vector<std::uint64_t> checkpoint_pos_fields;
};
std::optional<IndexLayout> index_layout(ByteView file);
// Adds `delta` to the u64 at `field` and reseals the sidecar's CRC.
void shift_index_field(Bytes& file, std::uint64_t field, std::uint64_t delta);

// File names (FORMAT.md "Directory layout").
std::optional<std::uint64_t> stream_of_dir(const std::string& name);           // "stream-<20 digits>"
std::optional<std::uint64_t> segment_base(const std::string& name, const std::string& ext);  // "seg-<20>.<ext>"
std::string stream_dir(std::uint64_t stream);
std::string segment_name(std::uint64_t base);

}  // namespace cairn::sim::rules
