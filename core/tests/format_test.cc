// Codec tests: CRC32C vector, frame/header/index/checkpoint round trips (RapidCheck), and
// decoders that never read outside their input or trust a length.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <cstring>

#include "core/chain.h"
#include "core/crc32c.h"
#include "core/format.h"

using namespace cairn;
using namespace cairn::format;

namespace {

ChainHash gen_hash() {
  auto v = *rc::gen::container<std::vector<std::uint8_t>>(32, rc::gen::arbitrary<std::uint8_t>());
  ChainHash h{};
  std::memcpy(h.data(), v.data(), 32);
  return h;
}

}  // namespace

TEST_CASE("crc32c matches the RFC 3720 check value and composes") {
  Bytes digits = to_bytes("123456789");
  CHECK(crc32c(digits) == 0xE3069283u);
  CHECK(crc32c(ByteView(digits).subspan(4), crc32c(ByteView(digits).first(4))) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
}

TEST_CASE("the chain hash matches SHA-256 over the documented field order") {
  ChainHasher hasher;
  ChainHash prev{};
  prev[0] = 7;
  Bytes payload = to_bytes("abc");
  Bytes manual(prev.begin(), prev.end());
  std::uint8_t fields[17] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0};
  manual.insert(manual.end(), fields, fields + 17);
  manual.insert(manual.end(), payload.begin(), payload.end());
  CHECK(hasher.next(prev, 5, RecordKind::data, 9, payload) == hasher.sha256(manual));
  CHECK(hex(hasher.sha256(to_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("frames round-trip and every single-bit flip is caught") {
  rc::prop("encode then decode gives the same fields", [] {
    FrameHeader h;
    h.offset = *rc::gen::arbitrary<std::uint64_t>();
    h.timestamp_us = *rc::gen::arbitrary<std::uint64_t>();
    h.durable_offset = *rc::gen::arbitrary<std::uint64_t>();
    h.kind = *rc::gen::element<std::uint8_t>(1, 2);
    h.flags = *rc::gen::element<std::uint8_t>(0, kFlagBatchEnd);
    h.prev_hash = gen_hash();
    const auto payload = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
    Bytes buf;
    encode_frame(h, payload, buf);
    RC_ASSERT(buf.size() == kFrameHeaderBytes + payload.size());
    FrameDecode d = decode_frame(buf, 1u << 20);
    RC_ASSERT(d.status == FrameStatus::ok);
    RC_ASSERT(d.header.offset == h.offset);
    RC_ASSERT(d.header.timestamp_us == h.timestamp_us);
    RC_ASSERT(d.header.durable_offset == h.durable_offset);
    RC_ASSERT(d.header.kind == h.kind);
    RC_ASSERT(d.header.flags == h.flags);
    RC_ASSERT(d.header.prev_hash == h.prev_hash);
    RC_ASSERT(Bytes(d.payload.begin(), d.payload.end()) == payload);
    RC_ASSERT(d.frame_bytes == buf.size());

    const std::size_t bit = *rc::gen::inRange<std::size_t>(0, buf.size() * 8);
    buf[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    FrameDecode bad = decode_frame(buf, 1u << 20);
    RC_ASSERT(bad.status != FrameStatus::ok);
  });
}

TEST_CASE("a frame cut anywhere decodes as truncated, never ok") {
  FrameHeader h;
  h.offset = 3;
  h.kind = 1;
  Bytes buf;
  encode_frame(h, to_bytes("payload bytes"), buf);
  for (std::size_t n = 0; n < buf.size(); ++n) {
    FrameDecode d = decode_frame(ByteView(buf).first(n), 1u << 20);
    CHECK(d.status == FrameStatus::truncated);
  }
}

TEST_CASE("a length above max_record_bytes is corruption, not an allocation") {
  FrameHeader h;
  h.kind = 1;
  Bytes buf;
  encode_frame(h, Bytes(100, 'x'), buf);
  CHECK(decode_frame(buf, 99).status == FrameStatus::bad_length);
  buf[4] = 0xff;
  buf[5] = 0xff;
  buf[6] = 0xff;
  buf[7] = 0xff;  // payload_len = 4 GiB - 1
  CHECK(decode_frame(buf, 1u << 20).status == FrameStatus::bad_length);
}

TEST_CASE("a zero-filled region is never a valid frame") {
  Bytes zeros(kFrameHeaderBytes + 64, 0);
  CHECK(decode_frame(zeros, 1u << 20).status == FrameStatus::bad_crc);
}

TEST_CASE("segment headers round-trip; magic, CRC and version are checked") {
  rc::prop("header round trip", [] {
    SegmentHeader h{*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>(),
                    gen_hash()};
    Bytes buf;
    encode_segment_header(h, buf);
    RC_ASSERT(buf.size() == kSegmentHeaderBytes);
    HeaderDecode d = decode_segment_header(buf);
    RC_ASSERT(d.status == HeaderStatus::ok);
    RC_ASSERT(d.header.stream_id == h.stream_id);
    RC_ASSERT(d.header.base_offset == h.base_offset);
    RC_ASSERT(d.header.anchor == h.anchor);
  });
  Bytes buf;
  encode_segment_header({1, 2, {}}, buf);
  Bytes bad_magic = buf;
  bad_magic[0] = 'X';
  CHECK(decode_segment_header(bad_magic).status == HeaderStatus::bad_magic);
  Bytes bad_crc = buf;
  bad_crc[20] ^= 1;
  CHECK(decode_segment_header(bad_crc).status == HeaderStatus::bad_crc);
  Bytes v2 = buf;
  v2[8] = 2;
  std::uint32_t crc = crc32c(ByteView(v2).first(64));
  std::memcpy(v2.data() + 64, &crc, 4);  // little-endian host
  HeaderDecode d = decode_segment_header(v2);
  CHECK(d.status == HeaderStatus::bad_version);
  CHECK(d.version == 2);
  CHECK(decode_segment_header(ByteView(buf).first(71)).status == HeaderStatus::too_short);
}

TEST_CASE("index sidecars round-trip and reject inconsistent contents") {
  rc::prop("index round trip", [] {
    SegmentSummary s;
    s.stream_id = *rc::gen::arbitrary<std::uint64_t>();
    s.base_offset = *rc::gen::inRange<std::uint64_t>(0, 1u << 30);
    const auto n = *rc::gen::inRange<std::size_t>(0, 50);
    std::uint64_t pos = kSegmentHeaderBytes;
    std::uint64_t off = s.base_offset;
    for (std::size_t i = 0; i < n; ++i) {
      s.entries.push_back({off, pos, *rc::gen::arbitrary<std::uint64_t>()});
      if (*rc::gen::arbitrary<bool>()) s.checkpoints.push_back({off, pos});
      off += *rc::gen::inRange<std::uint64_t>(1, 100);
      pos += *rc::gen::inRange<std::uint64_t>(kFrameHeaderBytes, 10000);
    }
    s.next_offset = off;
    s.segment_bytes = pos;
    s.last_hash = gen_hash();
    Bytes bytes = encode_index(s);
    auto back = decode_index(bytes, "x.idx");
    RC_ASSERT(back.ok());
    RC_ASSERT(back->next_offset == s.next_offset);
    RC_ASSERT(back->segment_bytes == s.segment_bytes);
    RC_ASSERT(back->last_hash == s.last_hash);
    RC_ASSERT(back->entries.size() == s.entries.size());
    RC_ASSERT(back->checkpoints.size() == s.checkpoints.size());
    for (std::size_t i = 0; i < s.entries.size(); ++i) {
      RC_ASSERT(back->entries[i].byte_pos == s.entries[i].byte_pos);
      RC_ASSERT(back->entries[i].timestamp_us == s.entries[i].timestamp_us);
    }
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    bytes[at] ^= 0x10;
    RC_ASSERT(!decode_index(bytes, "x.idx").ok());
  });
  CHECK(decode_index(Bytes(10, 0), "short.idx").error().code == Errc::corruption);
}

TEST_CASE("checkpoint payloads round-trip and have one exact size") {
  CheckpointPayload c;
  c.chain_hash[3] = 9;
  c.record_count = 77;
  Bytes b = encode_checkpoint(c);
  auto back = decode_checkpoint(b);
  REQUIRE(back);
  CHECK(back->chain_hash == c.chain_hash);
  CHECK(back->record_count == 77);
  b.push_back(0);
  CHECK_FALSE(decode_checkpoint(b));
}

TEST_CASE("file names parse strictly") {
  CHECK(segment_file_name(42) == "seg-00000000000000000042.log");
  CHECK(parse_segment_name("seg-00000000000000000042.log", "log") == 42u);
  CHECK_FALSE(parse_segment_name("seg-00000000000000000042.idx", "log"));
  CHECK_FALSE(parse_segment_name("seg-0000000000000000042.log", "log"));
  CHECK_FALSE(parse_segment_name("seg-99999999999999999999.log", "log"));  // above u64
  CHECK(parse_stream_dir_name(stream_dir_name(7)) == 7u);
  CHECK_FALSE(parse_stream_dir_name("stream-abc"));
}

TEST_CASE("a segment header with non-zero reserved bytes is invalid (one encoding per header)") {
  // Regression: found by the metadata_load fuzz target; bytes 68..72 are outside the CRC.
  Bytes buf;
  encode_segment_header({7, 10, {}}, buf);
  Bytes tail = buf;
  tail[71] = 'a';
  CHECK(decode_segment_header(tail).status == HeaderStatus::bad_reserved);
  Bytes mid = buf;
  mid[12] = 1;
  std::uint32_t crc = crc32c(ByteView(mid).first(64));
  std::memcpy(mid.data() + 64, &crc, 4);
  CHECK(decode_segment_header(mid).status == HeaderStatus::bad_reserved);
}
