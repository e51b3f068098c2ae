// Decodes a store written by the core using only the rules of core/FORMAT.md: its own
// bitwise CRC32C, OpenSSL's one-shot SHA256(), and field offsets typed in from the doc.
// Nothing from core/format.h is used for decoding.
#include <catch2/catch.hpp>

#include <openssl/sha.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/tests/test_env.h"

using namespace cairn;

namespace {

// RFC 3720 §B.4 CRC32C, bit by bit (reflected polynomial 0x82F63B78).
std::uint32_t doc_crc32c(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::uint64_t u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t u32(const std::uint8_t* p) { return static_cast<std::uint32_t>(u64(p) & 0xFFFFFFFFu); }

struct DocRecord {
  std::uint64_t offset;
  std::uint8_t kind;
  std::string payload;
  std::array<std::uint8_t, 32> hash;  // h(offset)
};

// Decodes one segment file per FORMAT.md, checking header, frames and chain from `hash`.
std::vector<DocRecord> decode_segment(const std::vector<std::uint8_t>& f, std::uint64_t stream,
                                      std::uint64_t base, std::array<std::uint8_t, 32>& hash) {
  std::vector<DocRecord> out;
  REQUIRE(f.size() >= 72);
  REQUIRE(std::memcmp(f.data(), "CAIRNSEG", 8) == 0);
  REQUIRE(u32(&f[8]) == 1);
  REQUIRE(u64(&f[16]) == stream);
  REQUIRE(u64(&f[24]) == base);
  REQUIRE(std::memcmp(&f[32], hash.data(), 32) == 0);  // anchor continues the chain
  REQUIRE(u32(&f[64]) == doc_crc32c(f.data(), 64));
  std::size_t pos = 72;
  std::uint64_t expected = base;
  while (pos < f.size()) {
    REQUIRE(pos + 68 <= f.size());
    const std::uint32_t len = u32(&f[pos + 4]);
    REQUIRE(pos + 68 + len <= f.size());
    REQUIRE(u32(&f[pos]) == doc_crc32c(&f[pos + 4], 64 + len));
    const std::uint64_t offset = u64(&f[pos + 8]);
    const std::uint64_t ts = u64(&f[pos + 16]);
    const std::uint8_t kind = f[pos + 32];
    REQUIRE(offset == expected);
    REQUIRE((kind == 1 || kind == 2));
    REQUIRE((f[pos + 33] & ~1u) == 0);
    REQUIRE(std::memcmp(&f[pos + 36], hash.data(), 32) == 0);
    std::vector<std::uint8_t> in(hash.begin(), hash.end());
    for (int i = 0; i < 8; ++i) in.push_back(static_cast<std::uint8_t>(offset >> (8 * i)));
    in.push_back(kind);
    for (int i = 0; i < 8; ++i) in.push_back(static_cast<std::uint8_t>(ts >> (8 * i)));
    in.insert(in.end(), f.begin() + static_cast<long>(pos + 68), f.begin() + static_cast<long>(pos + 68 + len));
    SHA256(in.data(), in.size(), hash.data());
    std::string payload(f.begin() + static_cast<long>(pos + 68), f.begin() + static_cast<long>(pos + 68 + len));
    if (kind == 2) {  // checkpoint: h(offset-1) then the record count
      REQUIRE(len == 40);
      REQUIRE(std::memcmp(&f[pos + 68], &f[pos + 36], 32) == 0);
      REQUIRE(u64(&f[pos + 68 + 32]) == offset);
    }
    out.push_back({offset, kind, payload, hash});
    pos += 68 + len;
    ++expected;
  }
  return out;
}

}  // namespace

TEST_CASE("a store decodes by the rules of FORMAT.md alone") {
  cairn::testing::PosixEnv env;
  Options o = cairn::testing::small_options();
  o.checkpoint_interval = 7;
  std::vector<std::string> written;
  {
    auto store = cairn::testing::open_store(env, o);
    for (std::uint64_t i = 0; i < 120; ++i) {
      written.push_back(to_string(cairn::testing::payload_for(5, i, 20 + i % 50)));
      env.clock.advance_us(3);
      REQUIRE(store->append(5, to_bytes(written.back())).ok());
    }
    REQUIRE(store->close().ok());
  }
  const std::string dir = env.dir + "/stream-00000000000000000005";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() > 1);
  std::array<std::uint8_t, 32> hash{};
  std::vector<std::string> data;
  std::uint64_t next = 0;
  std::uint64_t checkpoints = 0;
  struct Seen {
    std::uint64_t base, next, size;
    std::array<std::uint8_t, 32> last;
  };
  std::vector<Seen> seen;
  std::vector<std::array<std::uint8_t, 32>> chain;  // h(0), h(1), ...
  for (const std::string& name : files) {
    REQUIRE(name.size() == 28);
    const std::uint64_t base = std::stoull(name.substr(4, 20));
    REQUIRE(base == next);
    std::ifstream in(dir + "/" + name, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    for (const DocRecord& r : decode_segment(bytes, 5, base, hash)) {
      if (r.kind == 1) data.push_back(r.payload);
      if (r.kind == 2) ++checkpoints;
      chain.push_back(r.hash);
      next = r.offset + 1;
    }
    seen.push_back(Seen{base, next, bytes.size(), hash});
    // A sealed segment's sidecar: exact size, CRC, and last_hash equal to the chain here.
    if (name != files.back()) {
      std::ifstream idx(dir + "/" + name.substr(0, 24) + ".idx", std::ios::binary);
      std::vector<std::uint8_t> ib((std::istreambuf_iterator<char>(idx)), {});
      REQUIRE(ib.size() >= 108);
      REQUIRE(std::memcmp(ib.data(), "CAIRNIDX", 8) == 0);
      REQUIRE(ib.size() == 104 + 24 * u32(&ib[12]) + 16 * u32(&ib[96]) + 4);
      REQUIRE(u32(&ib[ib.size() - 4]) == doc_crc32c(ib.data(), ib.size() - 4));
      CHECK(u64(&ib[32]) == bytes.size());
      CHECK(u64(&ib[40]) == next);
      CHECK(std::memcmp(&ib[64], hash.data(), 32) == 0);
    }
  }
  CHECK(data == written);
  CHECK(checkpoints == 120 / 7);  // a checkpoint after every 7 data records

  // The manifest, by its table in FORMAT.md: after a clean close it lists every segment
  // with its size and last chain hash, and the recovery point is the stream's end.
  std::ifstream min(env.dir + "/MANIFEST", std::ios::binary);
  std::vector<std::uint8_t> m((std::istreambuf_iterator<char>(min)), {});
  REQUIRE(m.size() >= 44);
  REQUIRE(std::memcmp(m.data(), "CAIRNMAN", 8) == 0);
  CHECK(u32(&m[8]) == 1);
  CHECK(u32(&m[12]) == 1);  // clean shutdown
  CHECK(u32(&m[24]) == o.max_record_bytes);
  CHECK(m[28] == 0);
  REQUIRE(u32(&m[m.size() - 4]) == doc_crc32c(m.data(), m.size() - 4));
  REQUIRE(u32(&m[32]) == 1);
  const std::uint8_t* st = &m[40];
  CHECK(u64(st) == 5);
  CHECK(u64(st + 8) == 0);  // first retained offset
  REQUIRE(u32(st + 16) == seen.size());
  CHECK(u32(st + 20) == 0);  // no gaps
  CHECK(u32(st + 24) == 0);  // nothing pending
  REQUIRE(m.size() == 40 + 32 + 72 * seen.size() + 4);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const std::uint8_t* e = st + 32 + 72 * i;
    CHECK(u64(e) == seen[i].base);
    CHECK(u64(e + 8) == seen[i].next);
    CHECK(u64(e + 16) == seen[i].size);
    CHECK(std::memcmp(e + 32, seen[i].last.data(), 32) == 0);
    CHECK(e[64] == (i + 1 == seen.size() ? 2 : 1));
  }

  // The spine, by its table: a 32-byte header, then per offset its chain hash and a CRC
  // of (offset, hash); after a clean close it holds every record's leaf.
  std::ifstream sin(dir + "/spine", std::ios::binary);
  std::vector<std::uint8_t> sp((std::istreambuf_iterator<char>(sin)), {});
  REQUIRE(sp.size() == 32 + 36 * chain.size());
  CHECK(std::memcmp(sp.data(), "CAIRNSPN", 8) == 0);
  CHECK(u32(&sp[8]) == 1);
  CHECK(u32(&sp[12]) == 36);
  CHECK(u64(&sp[16]) == 5);
  CHECK(u32(&sp[28]) == doc_crc32c(sp.data(), 28));
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const std::uint8_t* e = &sp[32 + 36 * i];
    CHECK(std::memcmp(e, chain[i].data(), 32) == 0);
    std::uint8_t in[40];
    for (int b = 0; b < 8; ++b) in[b] = static_cast<std::uint8_t>(i >> (8 * b));
    std::memcpy(in + 8, e, 32);
    CHECK(u32(e + 32) == doc_crc32c(in, 40));
  }
}
