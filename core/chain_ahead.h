// Hashing one segment's chain on several threads. The chain is sequential, but every frame
// states the hash before it (prev_hash, core/FORMAT.md), so each frame's chain hash can be
// computed from the frame's own bytes, ahead of the scan that checks the links.
//
// ChainAhead covers a buffer that the calling thread fills with a whole segment, front to
// back (published() after each read). It walks the frame headers as the bytes arrive and
// cuts the segment into blocks (block_bytes); helper threads hash each block's frames as
// soon as the walk has passed it, so hashing overlaps the reading. The calling thread's
// scan (scan_segment with ChainHasher::use_memo, once the buffer is full) asks find() for
// each frame's hash: a block nobody has claimed yet it claims and hashes itself, and while
// a helper is still hashing the block it needs, it hashes a later unclaimed block instead
// of waiting idle. So the work balances itself whatever reading, hashing and the rest of
// the scan cost on the host.
//
// Nothing a helper computes decides anything: find() returns a hash only when the frame's
// stated fields are exactly the inputs asked for, and then it is the value the scan would
// compute itself (SHA-256 is a function of its input). A frame that is damaged, not where
// the walk found one, or compressed (the chain covers the payload decompressed) is hashed
// by the scan as without ChainAhead.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <vector>

#include "core/chain.h"
#include "core/types.h"

namespace cairn {

class ChainAhead final : public ChainMemo {
 public:
  // segment: the buffer a whole segment file is read into, header first (its bytes need
  // not be there yet). threads: the threads hashing, the caller's included (threads - 1
  // helpers; 1, or a segment of fewer than kMinBlocks blocks: none, and find() always
  // misses). REQUIRES: `segment` outlives this. Allocates 8 + 32 bytes per frame.
  ChainAhead(ByteView segment, std::uint32_t max_record_bytes, std::uint32_t threads);
  ~ChainAhead() override;  // stops the helpers and waits for them
  ChainAhead(const ChainAhead&) = delete;
  ChainAhead& operator=(const ChainAhead&) = delete;

  // The bytes [0, bytes) of the segment are in the buffer, and (`last`) no more will come.
  // REQUIRES: bytes never decreases; find() only after a last publication.
  void published(std::uint64_t bytes, bool last);

  const ChainHash* find(const ChainHash& prev, std::uint64_t offset, RecordKind kind, std::uint64_t timestamp_us,
                        ByteView payload) override;

  // A block holds the frames that start in block_bytes of the segment: a sixteenth of it,
  // a power of two in [kMinBlockBytes, kMaxBlockBytes] (64 KiB blocks in a 64 MiB
  // segment; small segments, such as the simulator's, still get several blocks).
  static constexpr std::size_t kMinBlockBytes = 4 << 10;
  static constexpr std::size_t kMaxBlockBytes = 64 << 10;
  static constexpr std::size_t kMinBlocks = 2;  // fewer: not worth a thread

 private:
  enum State : std::uint8_t { waiting, unclaimed, hashing, done };
  struct Block {
    std::atomic<std::uint8_t> state{waiting};
    std::uint64_t first_pos = 0;  // frames found by the walk start in [first_pos, end_pos)
    std::uint64_t end_pos = 0;
    std::vector<std::uint64_t> positions;  // filled by the thread that hashes the block
    std::vector<ChainHash> hashes;
    std::size_t cursor = 0;  // find()'s next frame in it
  };
  void ready(std::size_t block, std::uint64_t first_pos, std::uint64_t end_pos);
  bool claim(std::size_t block);
  void hash_block(std::size_t block);  // REQUIRES: claimed by this thread
  void wait_for(std::size_t block);    // hashing later blocks meanwhile
  void help();                         // a helper thread's loop
  std::size_t block_index(std::uint64_t pos) const;

  ByteView segment_;
  std::uint32_t max_record_bytes_;
  std::size_t block_bytes_ = kMaxBlockBytes;
  std::size_t blocks_count_ = 0;
  std::unique_ptr<Block[]> blocks_;    // null: no helpers
  std::uint64_t walk_pos_;             // the next frame the walk expects
  std::size_t walk_block_ = 0;         // the first block not yet ready
  std::uint64_t walk_block_first_ = 0; // the first frame the walk found in it (0: none yet)
  bool walk_stopped_ = false;
  std::atomic<bool> stop_{false};
  std::vector<std::future<void>> helpers_;
};

}  // namespace cairn
