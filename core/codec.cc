// LZ4 and Zstandard payloads with their size prefix (see codec.h).
#include "core/codec.h"

#include <lz4.h>
#include <zstd.h>

#include <limits>
#include <memory>

#include "core/le.h"

namespace cairn::codec {
namespace {

constexpr int kZstdLevel = 3;

// One decompression context per thread: no allocation per record.
ZSTD_DCtx* dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  return ctx.get();
}

ZSTD_CCtx* cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  return ctx.get();
}

}  // namespace

const char* name(Codec c) {
  switch (c) {
    case Codec::none: return "none";
    case Codec::lz4: return "lz4";
    case Codec::zstd: return "zstd";
  }
  return "?";
}

std::optional<Codec> parse(const std::string& text) {
  for (Codec c : {Codec::none, Codec::lz4, Codec::zstd}) {
    if (text == name(c)) return c;
  }
  return std::nullopt;
}

bool compress(Codec c, ByteView raw, Bytes& out) {
  if (raw.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  const std::size_t bound = c == Codec::lz4 ? static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(raw.size())))
                                            : ZSTD_compressBound(raw.size());
  out.resize(kSizePrefixBytes + bound);
  le::put<std::uint32_t>(out.data(), static_cast<std::uint32_t>(raw.size()));
  std::size_t n = 0;
  if (c == Codec::lz4) {
    const int r = LZ4_compress_default(reinterpret_cast<const char*>(raw.data()),
                                       reinterpret_cast<char*>(out.data() + kSizePrefixBytes),
                                       static_cast<int>(raw.size()), static_cast<int>(bound));
    if (r <= 0) return false;
    n = static_cast<std::size_t>(r);
  } else {
    n = ZSTD_compressCCtx(cctx(), out.data() + kSizePrefixBytes, bound, raw.data(), raw.size(), kZstdLevel);
    if (ZSTD_isError(n)) return false;
  }
  out.resize(kSizePrefixBytes + n);
  return out.size() < raw.size();
}

bool inflate(Codec c, ByteView stored, std::uint32_t max_record_bytes, Bytes& out) {
  if (stored.size() < kSizePrefixBytes) return false;
  const std::uint32_t raw = le::get<std::uint32_t>(stored.data());
  if (raw > max_record_bytes) return false;  // corruption, never an allocation
  const ByteView body = stored.subspan(kSizePrefixBytes);
  out.resize(raw);
  if (c == Codec::lz4) {
    if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
    const int r = LZ4_decompress_safe(reinterpret_cast<const char*>(body.data()), reinterpret_cast<char*>(out.data()),
                                      static_cast<int>(body.size()), static_cast<int>(raw));
    return r >= 0 && static_cast<std::uint32_t>(r) == raw;
  }
  const std::size_t r = ZSTD_decompressDCtx(dctx(), out.data(), raw, body.data(), body.size());
  return !ZSTD_isError(r) && r == raw;
}

}  // namespace cairn::codec
