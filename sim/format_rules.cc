#include "sim/format_rules.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <isa-l/crc.h>
#include <lz4.h>
#include <zstd.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

namespace cairn::sim::rules {
namespace {

std::uint64_t u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::optional<std::uint64_t> digits20(const std::string& s) {
  if (s.size() != 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

std::uint32_t crc32c(ByteView data) {
  unsigned int reg = 0xFFFFFFFFu;
  for (std::size_t at = 0; at < data.size();) {
    const std::size_t n = std::min<std::size_t>(data.size() - at, INT_MAX);
    reg = crc32_iscsi(const_cast<unsigned char*>(data.data() + at), static_cast<int>(n), reg);
    at += n;
  }
  return ~reg;
}

struct Chain::Impl {
  const EVP_MD* md = nullptr;
  EVP_MD* fetched = nullptr;  // OpenSSL 3: fetched once (EVP_sha256() would look it up per digest)
  EVP_MD_CTX* ctx = nullptr;
};

Chain::Chain() : impl_(new Impl) {
#if OPENSSL_VERSION_MAJOR >= 3
  impl_->fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->md = impl_->fetched;
#else
  impl_->md = EVP_sha256();  // OpenSSL 1.1.1 (the OSS-Fuzz base image)
#endif
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->md == nullptr || impl_->ctx == nullptr) {
    std::fprintf(stderr, "cairn-sim: OpenSSL cannot provide SHA-256\n");  // an installation fault
    std::abort();
  }
}

Chain::~Chain() {
  EVP_MD_CTX_free(impl_->ctx);
#if OPENSSL_VERSION_MAJOR >= 3
  EVP_MD_free(impl_->fetched);
#endif
  delete impl_;
}

Hash Chain::next(const Hash& prev, std::uint64_t offset, std::uint8_t kind, std::uint64_t timestamp_us,
                 ByteView payload) {
  std::uint8_t fields[17];
  for (int i = 0; i < 8; ++i) fields[i] = static_cast<std::uint8_t>(offset >> (8 * i));
  fields[8] = kind;
  for (int i = 0; i < 8; ++i) fields[9 + i] = static_cast<std::uint8_t>(timestamp_us >> (8 * i));
  return sha256(ByteView(prev.data(), prev.size()), ByteView(fields, sizeof(fields)), payload);
}

Hash Chain::sha256(ByteView a, ByteView b, ByteView c) {
  Hash out{};
  unsigned int len = 0;
  const bool ok = EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) == 1 &&
                  EVP_DigestUpdate(impl_->ctx, a.data(), a.size()) == 1 &&
                  EVP_DigestUpdate(impl_->ctx, b.data(), b.size()) == 1 &&
                  EVP_DigestUpdate(impl_->ctx, c.data(), c.size()) == 1 &&
                  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len) == 1;
  if (!ok) {
    std::fprintf(stderr, "cairn-sim: SHA-256 failed\n");
    std::abort();
  }
  return out;
}

std::optional<Frame> frame_fields(ByteView file, std::uint64_t pos, std::uint32_t max_record_bytes) {
  if (pos > file.size() || file.size() - pos < kFrameHeaderBytes) return std::nullopt;
  const std::uint8_t* p = file.data() + pos;
  const std::uint32_t len = u32(p + 4);
  if (len > max_record_bytes || file.size() - pos - kFrameHeaderBytes < len) return std::nullopt;
  Frame f;
  f.pos = pos;
  f.bytes = kFrameHeaderBytes + len;
  f.offset = u64(p + 8);
  f.timestamp_us = u64(p + 16);
  f.durable_offset = u64(p + 24);
  f.kind = p[32];
  f.flags = p[33];
  std::memcpy(f.prev.data(), p + 36, 32);
  f.payload = file.subspan(static_cast<std::size_t>(pos + kFrameHeaderBytes), len);
  return f;
}

// Decompresses a frame's stored payload (LZ4 block or Zstandard frame after a u32 size),
// pointing `payload` at the result. False when the size is above the limit or the body
// does not decode to exactly that size.
static bool inflate(Frame& f, std::uint32_t max_record_bytes) {
  if (f.payload.size() < 4) return false;
  const std::uint32_t size = u32(f.payload.data());
  if (size > max_record_bytes) return false;
  auto out = std::make_shared<Bytes>(size);
  const ByteView body = f.payload.subspan(4);
  bool ok = false;
  if (f.codec == 1) {
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(body.data()), reinterpret_cast<char*>(out->data()),
                                      static_cast<int>(body.size()), static_cast<int>(size));
    ok = n >= 0 && static_cast<std::uint32_t>(n) == size;
  } else {
    // One context per thread: ZSTD_decompress would create (and clear) one per call.
    thread_local std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    const std::size_t n = ZSTD_decompressDCtx(dctx.get(), out->data(), size, body.data(), body.size());
    ok = !ZSTD_isError(n) && n == size;
  }
  if (!ok) return false;
  f.payload = ByteView(out->data(), out->size());
  f.inflated = std::move(out);
  return true;
}

std::optional<Frame> frame_at(ByteView file, std::uint64_t pos, std::uint32_t max_record_bytes) {
  auto f = frame_fields(file, pos, max_record_bytes);
  if (!f) return std::nullopt;
  const std::uint8_t* p = file.data() + pos;
  if (u32(p) != crc32c(file.subspan(static_cast<std::size_t>(pos + 4), static_cast<std::size_t>(f->bytes - 4)))) {
    return std::nullopt;
  }
  f->codec = p[34];
  if ((f->kind != kKindData && f->kind != kKindCheckpoint) || (f->flags & ~1u) != 0 || f->codec > 2 || p[35] != 0 ||
      (f->codec != 0 && f->kind != kKindData)) {
    return std::nullopt;
  }
  if (f->codec != 0 && !inflate(*f, max_record_bytes)) return std::nullopt;
  return f;
}

std::optional<std::uint64_t> next_valid_frame(ByteView file, std::uint64_t from, std::uint32_t max_record_bytes) {
  for (std::uint64_t p = from; p + kFrameHeaderBytes <= file.size(); ++p) {
    if (frame_at(file, p, max_record_bytes)) return p;
  }
  return std::nullopt;
}

std::vector<WalkedFrame> walk_frames(ByteView file, std::uint64_t base, std::uint32_t max_record_bytes) {
  std::vector<WalkedFrame> out;
  std::uint64_t pos = kHeaderBytes;
  std::uint64_t expected = base;
  while (pos < file.size()) {
    if (auto f = frame_at(file, pos, max_record_bytes)) {
      out.push_back(WalkedFrame{*f, true});
      expected = f->offset + 1;
      pos += f->bytes;
      continue;
    }
    const auto fields = frame_fields(file, pos, max_record_bytes);
    std::optional<std::uint64_t> resume;
    if (fields && frame_at(file, pos + fields->bytes, max_record_bytes)) resume = pos + fields->bytes;
    if (!resume) resume = next_valid_frame(file, pos + 1, max_record_bytes);
    Frame damaged;
    damaged.pos = pos;
    damaged.bytes = resume.value_or(file.size()) - pos;
    damaged.offset = expected++;
    out.push_back(WalkedFrame{damaged, false});
    if (!resume) break;
    pos = *resume;
  }
  return out;
}

void reseal_frame(Bytes& file, std::uint64_t pos) {
  const std::uint64_t bytes = kFrameHeaderBytes + u32(file.data() + pos + 4);
  put32(file.data() + pos, crc32c(ByteView(file).subspan(static_cast<std::size_t>(pos + 4), static_cast<std::size_t>(bytes - 4))));
}

std::optional<SegmentHeader> segment_header(ByteView file) {
  if (file.size() < kHeaderBytes || std::memcmp(file.data(), "CAIRNSEG", 8) != 0) return std::nullopt;
  if (u32(file.data() + 8) != 1 || u32(file.data() + 64) != crc32c(file.first(64))) return std::nullopt;
  SegmentHeader h;
  h.stream = u64(file.data() + 16);
  h.base_offset = u64(file.data() + 24);
  std::memcpy(h.anchor.data(), file.data() + 32, 32);
  return h;
}

std::optional<IndexLayout> index_layout(ByteView file) {
  if (file.size() < 108 || std::memcmp(file.data(), "CAIRNIDX", 8) != 0) return std::nullopt;
  const std::uint64_t entries = u32(file.data() + 12);
  const std::uint64_t checkpoints = u32(file.data() + 96);
  if (file.size() != 104 + 24 * entries + 16 * checkpoints + 4) return std::nullopt;
  if (u32(file.data() + file.size() - 4) != crc32c(file.first(file.size() - 4))) return std::nullopt;
  IndexLayout l;
  for (std::uint64_t i = 0; i < entries; ++i) l.entry_pos_fields.push_back(104 + 24 * i + 8);
  for (std::uint64_t i = 0; i < checkpoints; ++i) l.checkpoint_pos_fields.push_back(104 + 24 * entries + 16 * i + 8);
  return l;
}

void shift_index_field(Bytes& file, std::uint64_t field, std::uint64_t delta) {
  const std::uint64_t v = u64(file.data() + field) + delta;
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(field) + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  put32(file.data() + file.size() - 4, crc32c(ByteView(file).first(file.size() - 4)));
}

std::optional<std::uint64_t> stream_of_dir(const std::string& name) {
  if (name.rfind("stream-", 0) != 0) return std::nullopt;
  return digits20(name.substr(7));
}

std::optional<std::uint64_t> segment_base(const std::string& name, const std::string& ext) {
  if (name.size() != 24 + 1 + ext.size() || name.rfind("seg-", 0) != 0 || name.substr(24) != "." + ext) {
    return std::nullopt;
  }
  return digits20(name.substr(4, 20));
}

std::string stream_dir(std::uint64_t stream) { return fmt::format("stream-{:020}", stream); }
std::string segment_name(std::uint64_t base) { return fmt::format("seg-{:020}.log", base); }

}  // namespace cairn::sim::rules
