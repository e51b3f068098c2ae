#include "core/chain_ahead.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/format.h"
#include "core/le.h"

namespace cairn {
namespace {

constexpr std::size_t kLenPos = 4, kOffsetPos = 8, kTimestampPos = 16, kKindPos = 32, kCodecPos = 34, kPrevPos = 36;
constexpr std::uint64_t kFirstFrame = format::kSegmentHeaderBytes;


std::uint32_t payload_len(const std::uint8_t* frame) { return le::get<std::uint32_t>(frame + kLenPos); }

}  // namespace

ChainAhead::ChainAhead(ByteView segment, std::uint32_t max_record_bytes, std::uint32_t threads)
    : segment_(segment), max_record_bytes_(max_record_bytes), walk_pos_(kFirstFrame) {
  if (segment.size() <= kFirstFrame) return;
  block_bytes_ = std::clamp<std::size_t>(std::bit_ceil(segment.size() / 16), kMinBlockBytes, kMaxBlockBytes);
  blocks_count_ = block_index(segment.size() - 1) + 1;
  if (threads <= 1 || blocks_count_ < kMinBlocks) return;  // find() misses: the scan hashes
  blocks_ = std::make_unique<Block[]>(blocks_count_);
  for (std::uint32_t k = 1; k < threads; ++k) helpers_.push_back(std::async(std::launch::async, [this] { help(); }));
}

ChainAhead::~ChainAhead() {
  stop_.store(true, std::memory_order_relaxed);
  published(0, true);  // wakes helpers waiting for a block
  for (auto& h : helpers_) h.wait();
}

std::size_t ChainAhead::block_index(std::uint64_t pos) const {
  return static_cast<std::size_t>((pos - kFirstFrame) / block_bytes_);
}

void ChainAhead::published(std::uint64_t bytes, bool last) {
  if (!blocks_) return;
  const std::uint64_t have = std::min<std::uint64_t>(bytes, segment_.size());
  // Whole frames only, following each header's payload length (no CRC: a wrong guess
  // only makes find() miss).
  while (!walk_stopped_ && walk_pos_ + format::kFrameHeaderBytes <= have) {
    const std::uint64_t len = payload_len(segment_.data() + walk_pos_);
    const std::uint64_t end = walk_pos_ + format::kFrameHeaderBytes + len;
    if (len > max_record_bytes_ || end > segment_.size()) {
      walk_stopped_ = true;
      break;
    }
    if (end > have) break;
    for (const std::size_t b = block_index(walk_pos_); walk_block_ < b; ++walk_block_) {
      ready(walk_block_, walk_block_first_, walk_pos_);  // every frame of it found
      walk_block_first_ = 0;
    }
    if (walk_block_first_ == 0) walk_block_first_ = walk_pos_;
    walk_pos_ = end;
  }
  if (!last && !walk_stopped_) return;
  for (; walk_block_ < blocks_count_; ++walk_block_) {
    ready(walk_block_, walk_block_first_, walk_pos_);
    walk_block_first_ = 0;
  }
}

void ChainAhead::ready(std::size_t block, std::uint64_t first_pos, std::uint64_t end_pos) {
  Block& b = blocks_[block];
  b.first_pos = first_pos == 0 ? end_pos : first_pos;
  b.end_pos = end_pos;
  b.state.store(unclaimed, std::memory_order_release);
  b.state.notify_all();
}

bool ChainAhead::claim(std::size_t block) {
  std::uint8_t expected = unclaimed;
  return blocks_[block].state.load(std::memory_order_relaxed) == unclaimed &&
         blocks_[block].state.compare_exchange_strong(expected, hashing, std::memory_order_acq_rel);
}

void ChainAhead::hash_block(std::size_t block) {
  thread_local ChainHasher hasher;  // one EVP context per thread, not per block
  Block& b = blocks_[block];
  for (std::uint64_t pos = b.first_pos; pos < b.end_pos;) {
    const std::uint8_t* f = segment_.data() + pos;
    const std::uint32_t len = payload_len(f);
    ChainHash h{};
    if (f[kCodecPos] == 0) {  // compressed: find() never asks
      ChainHash prev;
      std::memcpy(prev.data(), f + kPrevPos, prev.size());
      h = hasher.next(prev, le::get<std::uint64_t>(f + kOffsetPos), static_cast<RecordKind>(f[kKindPos]),
                      le::get<std::uint64_t>(f + kTimestampPos), ByteView(f + format::kFrameHeaderBytes, len));
    }
    b.positions.push_back(pos);
    b.hashes.push_back(h);
    pos += format::kFrameHeaderBytes + len;
  }
  b.state.store(done, std::memory_order_release);
  b.state.notify_all();
}

void ChainAhead::help() {
  for (std::size_t b = 0; b < blocks_count_ && !stop_.load(std::memory_order_relaxed); ++b) {
    blocks_[b].state.wait(waiting, std::memory_order_acquire);
    if (!stop_.load(std::memory_order_relaxed) && claim(b)) hash_block(b);
  }
}

void ChainAhead::wait_for(std::size_t block) {
  std::size_t next = block + 1;
  while (blocks_[block].state.load(std::memory_order_acquire) != done) {
    while (next < blocks_count_ && !claim(next)) ++next;
    if (next < blocks_count_) {
      hash_block(next);  // a later block, hashed while a helper finishes this one
    } else {
      blocks_[block].state.wait(hashing, std::memory_order_acquire);
    }
  }
}

const ChainHash* ChainAhead::find(const ChainHash& prev, std::uint64_t offset, RecordKind kind, std::uint64_t timestamp_us,
                                  ByteView payload) {
  if (!blocks_) return nullptr;
  // Addresses compared as integers: a payload decompressed elsewhere is not in the segment.
  const auto at = reinterpret_cast<std::uintptr_t>(payload.data()), from = reinterpret_cast<std::uintptr_t>(segment_.data());
  if (at < from + kFirstFrame + format::kFrameHeaderBytes || at > from + segment_.size()) return nullptr;
  const std::uint64_t pos = at - from - format::kFrameHeaderBytes;
  // The inputs must be the frame's own fields (the scan's prev is the chain so far).
  const std::uint8_t* f = segment_.data() + pos;
  if (f[kCodecPos] != 0 || payload_len(f) != payload.size() || le::get<std::uint64_t>(f + kOffsetPos) != offset ||
      f[kKindPos] != static_cast<std::uint8_t>(kind) || le::get<std::uint64_t>(f + kTimestampPos) != timestamp_us ||
      std::memcmp(f + kPrevPos, prev.data(), prev.size()) != 0) {
    return nullptr;
  }
  const std::size_t bi = block_index(pos);
  Block& b = blocks_[bi];
  const std::uint8_t state = b.state.load(std::memory_order_acquire);
  if (state == waiting) return nullptr;  // not published: find() before the last publication
  if (state != done) {
    if (claim(bi)) {
      hash_block(bi);
    } else {
      wait_for(bi);
    }
  }
  std::size_t i = b.cursor;
  if (i >= b.positions.size() || b.positions[i] != pos) {
    i = static_cast<std::size_t>(std::lower_bound(b.positions.begin(), b.positions.end(), pos) - b.positions.begin());
  }
  if (i >= b.positions.size() || b.positions[i] != pos) return nullptr;  // not where the walk found a frame
  b.cursor = i + 1;
  return &b.hashes[i];
}

}  // namespace cairn
