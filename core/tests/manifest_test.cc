// The manifest codec: every valid manifest round-trips; every single-bit flip, every cut
// and every structural lie is refused; counts in a damaged file never size an allocation.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "core/crc32c.h"
#include "core/format.h"
#include "core/le.h"
#include "core/manifest.h"

using namespace cairn;
using manifest::Manifest;
using manifest::SegmentEntry;
using manifest::SegmentState;
using manifest::StreamEntry;

namespace {

// A stream as the store writes one: ascending segments, each next to the one before or
// across a recorded gap, the last one active.
rc::Gen<StreamEntry> stream_gen(std::uint64_t id) {
  return rc::gen::exec([id] {
    StreamEntry s;
    s.stream_id = id;
    std::uint64_t base = *rc::gen::inRange<std::uint64_t>(0, 1000);
    s.first_offset = base;
    const int n = *rc::gen::inRange(1, 6);
    for (int i = 0; i < n; ++i) {
      const bool last = i + 1 == n;
      SegmentEntry e;
      e.base_offset = base;
      const std::uint64_t records = *rc::gen::inRange<std::uint64_t>(last ? 0 : 1, 50);
      e.next_offset = base + records;
      e.size_bytes = format::kSegmentHeaderBytes + records * 100;
      e.last_frame_pos = records == 0 ? 0 : e.size_bytes - 100;
      e.last_hash[static_cast<std::size_t>(*rc::gen::inRange(0, 32))] = *rc::gen::arbitrary<std::uint8_t>();
      e.state = last ? SegmentState::active : SegmentState::sealed;
      s.segments.push_back(e);
      const std::uint64_t gap = *rc::gen::element<std::uint64_t>(0, 0, 3);
      if (!last && gap > 0) s.gaps.push_back(manifest::Gap{e.next_offset, e.next_offset + gap});
      base = e.next_offset + gap;
    }
    if (*rc::gen::inRange(0, 4) == 0 && s.segments.size() > 1) {
      s.pending.push_back(manifest::Pending{manifest::PendingKind::cut, s.segments[0].base_offset,
                                            s.segments[0].size_bytes});
      s.pending.push_back(manifest::Pending{manifest::PendingKind::install, s.active().base_offset, 0});
    }
    return s;
  });
}

rc::Gen<Manifest> manifest_gen() {
  return rc::gen::exec([] {
    Manifest m;
    m.generation = *rc::gen::arbitrary<std::uint64_t>();
    m.clean_shutdown = *rc::gen::arbitrary<bool>();
    m.max_record_bytes = *rc::gen::inRange<std::uint32_t>(1, 1u << 30);
    const int n = *rc::gen::inRange(0, 4);
    for (int i = 0; i < n; ++i) m.streams.push_back(*stream_gen(static_cast<std::uint64_t>(i * 3 + 1)));
    return m;
  });
}

// Re-seals a hand-edited manifest with a correct CRC: a structural lie a checksum cannot see.
Bytes reseal(Bytes b) {
  le::put<std::uint32_t>(b.data() + b.size() - 4, crc32c(ByteView(b).first(b.size() - 4)));
  return b;
}

}  // namespace

TEST_CASE("manifest codec") {
  rc::prop("every valid manifest round-trips exactly", [] {
    const Manifest m = *manifest_gen();
    const Bytes b = manifest::encode(m);
    auto back = manifest::decode(b, "MANIFEST");
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == m);
    RC_ASSERT(manifest::encode(*back) == b);
  });

  rc::prop("every single-bit flip is refused", [] {
    const Bytes b = manifest::encode(*manifest_gen());
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, b.size());
    Bytes flipped = b;
    flipped[at] ^= static_cast<std::uint8_t>(1u << *rc::gen::inRange(0, 8));
    RC_ASSERT_FALSE(manifest::decode(flipped, "MANIFEST").ok());
  });

  rc::prop("every cut is refused", [] {
    const Bytes b = manifest::encode(*manifest_gen());
    const std::size_t keep = *rc::gen::inRange<std::size_t>(0, b.size());
    RC_ASSERT_FALSE(manifest::decode(ByteView(b).first(keep), "MANIFEST").ok());
  });
}

TEST_CASE("a manifest whose counts exceed the file is corruption, not an allocation") {
  Manifest m;
  m.streams.push_back(StreamEntry{7, 0, {SegmentEntry{0, 0, 72, 0, {}, SegmentState::active}}, {}, {}});
  Bytes b = manifest::encode(m);
  le::put<std::uint32_t>(b.data() + 40 + 16, 0xFFFFFFFFu);  // segment_count of stream 7
  auto r = manifest::decode(reseal(b), "MANIFEST");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::corruption);
  CHECK(r.error().message.find("exceed") != std::string::npos);
  Bytes many = manifest::encode(m);
  le::put<std::uint32_t>(many.data() + 32, 0x7FFFFFFFu);  // stream_count
  CHECK_FALSE(manifest::decode(reseal(many), "MANIFEST").ok());
}

TEST_CASE("structural lies with a valid CRC are refused, naming the stream") {
  Manifest m;
  StreamEntry s{9, 10, {SegmentEntry{10, 20, 1072, 972, {}, SegmentState::sealed},
                        SegmentEntry{20, 25, 572, 472, {}, SegmentState::active}}, {}, {}};
  m.streams.push_back(s);
  REQUIRE(manifest::decode(manifest::encode(m), "MANIFEST").ok());
  auto refuse = [](Manifest bad, const char* why) {
    auto r = manifest::decode(manifest::encode(bad), "MANIFEST");
    INFO(why);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("stream 9") != std::string::npos);
  };
  Manifest overlap = m;
  overlap.streams[0].segments[1].base_offset = 15;
  refuse(overlap, "segments overlap");
  Manifest two_active = m;
  two_active.streams[0].segments[0].state = SegmentState::active;
  refuse(two_active, "an active segment before the last");
  Manifest moved_first = m;
  moved_first.streams[0].first_offset = 11;
  refuse(moved_first, "first offset is not the first base");
  Manifest outside = m;
  outside.streams[0].segments[0].last_frame_pos = 2000;
  refuse(outside, "last frame past the end");
  Manifest gap_over = m;
  gap_over.streams[0].gaps.push_back(manifest::Gap{12, 14});
  refuse(gap_over, "a gap over a segment");
  Manifest aside_listed = m;
  aside_listed.streams[0].pending.push_back(manifest::Pending{manifest::PendingKind::set_aside, 10, 0});
  refuse(aside_listed, "setting aside a listed segment");
}

TEST_CASE("an unknown version or codec is unsupported_format, never a guess") {
  Manifest m;
  Bytes b = manifest::encode(m);
  le::put<std::uint32_t>(b.data() + 8, 2);
  CHECK(manifest::decode(reseal(b), "MANIFEST").error().code == Errc::unsupported_format);
  Bytes c = manifest::encode(m);
  c[28] = 1;
  CHECK(manifest::decode(reseal(c), "MANIFEST").error().code == Errc::unsupported_format);
}
