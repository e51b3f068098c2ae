// Per-record compression of frame payloads (FORMAT.md, "Record frame", byte 34). A
// compressed payload is stored as the uncompressed size (u32 LE) followed by the codec's
// output: LZ4 block format (lz4 1.9, LZ4_compress_default / LZ4_decompress_safe) or a
// Zstandard frame (RFC 8878, ZSTD_compress level 3 / ZSTD_decompressDCtx). The chain
// and the Merkle leaves cover the uncompressed payload; the frame CRC covers what is
// stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"

namespace cairn::codec {

enum class Codec : std::uint8_t { none = 0, lz4 = 1, zstd = 2 };
inline constexpr std::size_t kSizePrefixBytes = 4;

// "none", "lz4", "zstd".
const char* name(Codec c);
std::optional<Codec> parse(const std::string& text);
// Whether byte 34 of a frame may hold `v` (a codec this build reads).
constexpr bool known(std::uint8_t v) { return v <= 2; }

// Compresses `raw` into `out` (size prefix and codec output, replacing out's contents).
// False, leaving `out` unspecified, when that would not be smaller than `raw` (the record
// is then stored as it is) or the codec fails. REQUIRES: c != none.
bool compress(Codec c, ByteView raw, Bytes& out);

// Decompresses a stored payload into `out`. False when its size prefix is above
// `max_record_bytes` (checked before any allocation), or the bytes do not decode to
// exactly that many bytes. REQUIRES: c != none.
bool inflate(Codec c, ByteView stored, std::uint32_t max_record_bytes, Bytes& out);

}  // namespace cairn::codec
