// FrameCursor: the one verified-frame iterator of the core. Recovery, verify, repair and
// reads all walk a segment's frames through it, so every caller names the same byte
// position, offset and reason for the same damage.
//
// From a start point (byte position, expected offset, optionally the chain hash before
// it) it decodes one frame at a time and checks, in this order:
//   1. the frame decodes (CRC32C over all of it, sane length and fields);
//   2. its offset is the expected one;
//   3. when the chain is seeded, its prev_hash equals the chain hash before it.
// A frame that passes all three advances the cursor and the chain. A failure of 1 or 2 is
// a `bad_frame` problem (the cursor does not move); a failure of 3 is a `chain_break`
// (the frame itself is intact: the caller may accept() it, reseeding the chain from its
// prev_hash, or stop).
//
// The cursor reads through the FrameReader it is given; it owns no I/O. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/chain.h"
#include "core/format.h"
#include "core/frame_reader.h"

namespace cairn {

class FrameCursor {
 public:
  enum class Outcome : std::uint8_t {
    frame,        // a verified frame; the cursor moved past it
    end,          // the position reached the end of the readable range
    bad_frame,    // the bytes at pos() are not the expected frame (see why())
    chain_break,  // the frame at pos() is intact but does not continue the chain
  };

  // REQUIRES: reader and hasher outlive the cursor. `seed`: the chain hash before
  // `offset`; without one, the first frame's prev_hash seeds the chain (unverified).
  FrameCursor(FrameReader& reader, ChainHasher& hasher, std::uint64_t pos, std::uint64_t offset,
              std::optional<ChainHash> seed);

  // Steps once. Errors: io_error from the reader (the cursor does not move).
  Result<Outcome> next();
  // After chain_break: takes the frame as it is (reseeding the chain from its prev_hash).
  void accept();
  // Moves to a later frame found by a resync; the chain is reseeded from that frame.
  void jump(std::uint64_t pos, std::uint64_t offset);

  // The frame of the last `frame`, `bad_frame` (when it decoded) or `chain_break` outcome.
  const format::FrameDecode& frame() const { return frame_; }
  std::uint64_t frame_pos() const { return frame_pos_; }
  // Why the last bad_frame / chain_break happened, in words.
  const std::string& why() const { return why_; }

  std::uint64_t pos() const { return pos_; }        // byte position of the next frame
  std::uint64_t offset() const { return offset_; }  // offset the next frame must hold
  bool seeded() const { return seed_.has_value(); }
  // h(offset() - 1) when seeded.
  const ChainHash& hash() const { return *seed_; }

 private:
  Status plant_zero_frame();

  FrameReader& reader_;
  ChainHasher& hasher_;
  std::uint64_t pos_;
  std::uint64_t offset_;
  std::optional<ChainHash> seed_;
  format::FrameDecode frame_;
  std::uint64_t frame_pos_ = 0;
  std::string why_;
};

}  // namespace cairn
