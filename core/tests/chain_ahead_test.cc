// ChainAhead (core/chain_ahead.h): whatever pieces the segment arrives in and however many
// threads hash it, find() returns exactly ChainHasher::next of the frame's own fields, and
// nothing for inputs that are not a frame's own (another prev, another offset, a payload
// elsewhere in memory, a compressed frame).
#include <algorithm>

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "core/chain_ahead.h"
#include "core/format.h"

using namespace cairn;

namespace {

struct Built {
  Bytes segment;
  std::vector<std::size_t> frame_pos;  // where each frame starts
  std::vector<format::FrameHeader> headers;
};

// A segment of frames with random payload sizes (some of them marked compressed), each
// frame's prev_hash an arbitrary value: ChainAhead never links frames, the scan does.
Built build(const std::vector<std::uint32_t>& sizes, const std::vector<bool>& compressed) {
  Built b;
  format::encode_segment_header({7, 100, ChainHash{}}, b.segment);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    format::FrameHeader h;
    h.offset = 100 + i;
    h.timestamp_us = 1000 * i;
    h.kind = static_cast<std::uint8_t>(RecordKind::data);
    h.codec = compressed[i % compressed.size()] ? 1 : 0;
    for (std::size_t k = 0; k < h.prev_hash.size(); ++k) h.prev_hash[k] = static_cast<std::uint8_t>(i * 31 + k);
    Bytes payload(sizes[i], static_cast<std::uint8_t>(i));
    b.frame_pos.push_back(b.segment.size());
    b.headers.push_back(h);
    format::encode_frame(h, payload, b.segment);
  }
  return b;
}

ByteView payload_of(const Built& b, std::size_t i) {
  const std::uint8_t* p = b.segment.data() + b.frame_pos[i] + format::kFrameHeaderBytes;
  const std::size_t end = i + 1 < b.frame_pos.size() ? b.frame_pos[i + 1] : b.segment.size();
  return ByteView(p, end - b.frame_pos[i] - format::kFrameHeaderBytes);
}

}  // namespace

TEST_CASE("ChainAhead's hashes are ChainHasher::next of each frame's own fields") {
  rc::prop("pieces and threads change nothing", [] {
    const auto sizes = *rc::gen::container<std::vector<std::uint32_t>>(rc::gen::inRange<std::uint32_t>(0, 3000));
    const auto compressed = *rc::gen::nonEmpty(rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>()));
    const auto threads = *rc::gen::inRange<std::uint32_t>(1, 5);
    const auto piece = *rc::gen::inRange<std::size_t>(1, 40000);
    Built b = build(sizes, compressed);
    // The bytes arrive piece by piece into a buffer that held something else (helpers hash
    // as soon as a piece is published, never before).
    const Bytes whole = b.segment;
    std::fill(b.segment.begin(), b.segment.end(), std::uint8_t{0xee});
    ChainAhead ahead(b.segment, 1u << 20, threads);
    for (std::size_t got = 0; got < whole.size();) {
      const std::size_t n = std::min(piece, whole.size() - got);
      std::copy_n(whole.begin() + static_cast<std::ptrdiff_t>(got), n, b.segment.begin() + static_cast<std::ptrdiff_t>(got));
      got += n;
      ahead.published(got, false);
    }
    ahead.published(b.segment.size(), true);
    ChainHasher hasher;
    std::size_t hits = 0;
    for (std::size_t i = 0; i < b.headers.size(); ++i) {
      const format::FrameHeader& h = b.headers[i];
      const ByteView payload = payload_of(b, i);
      const auto kind = static_cast<RecordKind>(h.kind);
      const ChainHash* got = ahead.find(h.prev_hash, h.offset, kind, h.timestamp_us, payload);
      if (h.codec != 0) {
        RC_ASSERT(got == nullptr);  // the chain covers a compressed payload decompressed
        continue;
      }
      if (got == nullptr) {
        RC_ASSERT(threads == 1 || b.segment.size() <= ChainAhead::kMinBlockBytes + format::kSegmentHeaderBytes);
        continue;
      }
      ++hits;
      RC_ASSERT(*got == hasher.next(h.prev_hash, h.offset, kind, h.timestamp_us, payload));
      ChainHash other = h.prev_hash;
      other[0] ^= 1;
      RC_ASSERT(ahead.find(other, h.offset, kind, h.timestamp_us, payload) == nullptr);
      RC_ASSERT(ahead.find(h.prev_hash, h.offset + 1, kind, h.timestamp_us, payload) == nullptr);
      RC_ASSERT(ahead.find(h.prev_hash, h.offset, kind, h.timestamp_us + 1, payload) == nullptr);
      const Bytes copy(payload.begin(), payload.end());  // the same bytes elsewhere in memory
      RC_ASSERT(ahead.find(h.prev_hash, h.offset, kind, h.timestamp_us, copy) == nullptr);
    }
    RC_TAG(hits > 0 ? "hits" : "no hits");
  });
}

TEST_CASE("ChainAhead over a segment cut inside a frame hashes the whole frames before the cut") {
  const Built b = build(std::vector<std::uint32_t>(200, 500), {false});
  const std::size_t cut = b.frame_pos[150] + 30;
  ChainAhead ahead(ByteView(b.segment).first(cut), 1u << 20, 2);
  ahead.published(cut, true);
  ChainHasher hasher;
  for (std::size_t i = 0; i < 150; ++i) {
    const format::FrameHeader& h = b.headers[i];
    const ChainHash* got = ahead.find(h.prev_hash, h.offset, RecordKind::data, h.timestamp_us, payload_of(b, i));
    REQUIRE(got != nullptr);
    CHECK(*got == hasher.next(h.prev_hash, h.offset, RecordKind::data, h.timestamp_us, payload_of(b, i)));
  }
}

TEST_CASE("ChainAhead stops its helpers when dropped before the segment has arrived") {
  const Built b = build(std::vector<std::uint32_t>(400, 300), {false});
  for (std::uint32_t threads : {2u, 4u}) {
    ChainAhead ahead(b.segment, 1u << 20, threads);
    ahead.published(b.segment.size() / 3, false);
    const format::FrameHeader& h = b.headers[0];
    // Not yet published in full: find() may only miss or be right, never wait forever.
    const ChainHash* got = ahead.find(h.prev_hash, h.offset, RecordKind::data, h.timestamp_us, payload_of(b, 0));
    if (got != nullptr) CHECK(*got == ChainHasher().next(h.prev_hash, h.offset, RecordKind::data, h.timestamp_us, payload_of(b, 0)));
  }  // the destructor returns (ctest's timeout would say otherwise)
}
