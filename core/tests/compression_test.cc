// Per-record compression: the codecs round-trip and refuse what they must; a compressed
// store reads back what was written (also reopened without compression), its chain and
// Merkle leaves cover the payloads as written, and a compressed frame whose stored size
// or body lies is corruption, never an allocation or wrong bytes.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "core/codec.h"
#include "core/format.h"
#include "core/frame_reader.h"
#include "core/tests/rfc9162.h"
#include "core/tests/test_env.h"

namespace cairn::testing {
namespace {

// A log record of about 450 bytes that repeats itself, as log records do.
Bytes text_line(std::uint64_t i) {
  std::string s;
  for (int k = 0; k < 6; ++k) {
    s += "2026-11-22 05:" + std::to_string(10 + (i + k) % 50) + ":00 status installed libexample-" +
         std::to_string((i + k) % 7) + ":amd64 1.2." + std::to_string(i % 13) + "-1\n";
  }
  return Bytes(s.begin(), s.end());
}

// The bytes of stream 3's segments after writing `records` with compression `c`.
template <typename Env>
std::uint64_t stored_bytes(Compression c, const std::vector<Bytes>& records) {
  Env env;
  Options o = small_options();
  o.compression = c;
  auto st = open_store(env, o);
  for (const Bytes& r : records) REQUIRE(st->append(3, r).ok());
  return st->stats(3)->bytes;
}

}  // namespace

TEST_CASE("lz4 and zstd payloads round-trip and are smaller, or are stored as written") {
  for (codec::Codec c : {codec::Codec::lz4, codec::Codec::zstd}) {
    rc::prop(codec::name(c), [c] {
      const auto raw = *rc::gen::container<Bytes>(rc::gen::inRange<std::uint8_t>(0, 4));
      Bytes stored, back;
      if (codec::compress(c, raw, stored)) {
        RC_ASSERT(stored.size() < raw.size());
        RC_ASSERT(codec::inflate(c, stored, static_cast<std::uint32_t>(raw.size()), back));
        RC_ASSERT(back == raw);
        if (!raw.empty()) RC_ASSERT(!codec::inflate(c, stored, static_cast<std::uint32_t>(raw.size() - 1), back));
      }
    });
  }
}

TEST_CASE("a stored size above max_record_bytes or a body that lies is corruption") {
  Bytes stored;
  const Bytes raw(4000, 'a');
  REQUIRE(codec::compress(codec::Codec::zstd, raw, stored));
  format::FrameHeader h;
  h.kind = 1;
  h.codec = 2;
  Bytes frame;
  format::encode_frame(h, stored, frame);
  CHECK(format::decode_frame(frame, 4000).status == format::FrameStatus::ok);
  CHECK(format::decode_frame(frame, 3999).status == format::FrameStatus::bad_fields);  // the size prefix
  Bytes out;
  Bytes lying = stored;
  lying[0] = 0xff;  // states 4095 bytes: does not decode to that size
  CHECK(!codec::inflate(codec::Codec::zstd, lying, 1 << 20, out));
  Bytes garbage = stored;
  garbage[garbage.size() / 2] ^= 0x5a;
  Bytes back;
  CHECK((!codec::inflate(codec::Codec::zstd, garbage, 1 << 20, back) || back != raw));
  h.codec = 3;  // no such codec
  frame.clear();
  format::encode_frame(h, stored, frame);
  CHECK(format::decode_frame(frame, 1 << 20).status == format::FrameStatus::bad_fields);
  h.codec = 1;  // a checkpoint is never compressed
  h.kind = 2;
  frame.clear();
  format::encode_frame(h, stored, frame);
  CHECK(format::decode_frame(frame, 1 << 20).status == format::FrameStatus::bad_fields);
}

TEMPLATE_TEST_CASE("a compressed store reads back what was written, with or without compression on reopen",
                   "[compression]", PosixEnv, SimEnv) {
  for (Compression c : {Compression::lz4, Compression::zstd}) {
    TestType env;
    Options o = small_options();
    o.compression = c;
    auto st = open_store(env, o);
    std::vector<Bytes> written;
    for (std::uint64_t i = 0; i < 200; ++i) {
      written.push_back(i % 5 == 4 ? payload_for(3, i, 9) : text_line(i));  // short ones stay as written
      REQUIRE(st->append(3, written.back()).ok());
    }
    const std::uint64_t plain = stored_bytes<TestType>(Compression::none, written);
    CHECK(st->stats(3)->bytes * 2 < plain);  // these records compress by more than half
    REQUIRE(st->close().ok());
    o.compression = Compression::none;
    st = open_store(env, o);
    REQUIRE(st->verify()->clean());
    std::vector<Bytes> back;
    rfc9162::Hash prev{};
    for (std::uint64_t at = 0; at < st->stats(3)->next_offset;) {
      auto recs = st->read(3, at, 1 << 20);
      REQUIRE(recs.ok());
      for (const Record& r : *recs) {
        if (r.kind == RecordKind::data) back.push_back(r.payload);
        // The chain (and the Merkle leaf) covers the payload as written.
        Bytes in(prev.begin(), prev.end());
        for (int k = 0; k < 8; ++k) in.push_back(static_cast<std::uint8_t>(r.offset >> (8 * k)));
        in.push_back(static_cast<std::uint8_t>(r.kind));
        for (int k = 0; k < 8; ++k) in.push_back(static_cast<std::uint8_t>(r.timestamp_us >> (8 * k)));
        in.insert(in.end(), r.payload.begin(), r.payload.end());
        prev = rfc9162::sha(in);
        auto proof = st->prove_inclusion(3, r.offset, r.offset + 1);
        REQUIRE(proof.ok());
        CHECK(proof->leaf_data == prev);
        at = r.offset + 1;
      }
    }
    CHECK(back == written);
  }
}

}  // namespace cairn::testing
