#include "core/frame_cursor.h"

#include <fmt/format.h>

#include "core/canary.h"

namespace cairn {

FrameCursor::FrameCursor(FrameReader& reader, ChainHasher& hasher, std::uint64_t pos,
                         std::uint64_t offset, std::optional<ChainHash> seed)
    : reader_(reader), hasher_(hasher), pos_(pos), offset_(offset), seed_(seed) {}

Result<FrameCursor::Outcome> FrameCursor::next() {
  if (pos_ >= reader_.file_size()) return Outcome::end;
  CAIRN_ASSIGN_OR_RETURN(frame_, reader_.at(pos_));
  frame_pos_ = pos_;
  if (canary_on(Canary::zero_frames_accepted) && frame_.status != format::FrameStatus::ok) {
    CAIRN_TRY(plant_zero_frame());
  }
  if (frame_.status != format::FrameStatus::ok) {
    why_ = format::frame_status_name(frame_.status);
    return Outcome::bad_frame;
  }
  const format::FrameHeader& h = frame_.header;
  if (h.offset != offset_) {
    why_ = fmt::format("frame holds offset {} where offset {} belongs", h.offset, offset_);
    return Outcome::bad_frame;
  }
  if (seed_ && h.prev_hash != *seed_) {
    why_ = fmt::format("chain break: prev_hash of offset {} does not match the chain hash of the "
                       "record before it",
                       h.offset);
    return Outcome::chain_break;
  }
  accept();
  return Outcome::frame;
}

// Planted bug (canary zero_frames_accepted): a zero-filled frame header reads as an
// empty record of the expected offset, continuing the chain.
Status FrameCursor::plant_zero_frame() {
  CAIRN_ASSIGN_OR_RETURN(ByteView head, reader_.bytes(pos_, format::kFrameHeaderBytes));
  if (head.size() != format::kFrameHeaderBytes) return {};
  for (std::uint8_t b : head) {
    if (b != 0) return {};
  }
  frame_.status = format::FrameStatus::ok;
  frame_.header = format::FrameHeader{};
  frame_.header.offset = offset_;
  frame_.header.kind = static_cast<std::uint8_t>(RecordKind::data);
  frame_.header.flags = format::kFlagBatchEnd;
  frame_.header.prev_hash = seed_.value_or(ChainHash{});
  frame_.frame_bytes = format::kFrameHeaderBytes;
  frame_.payload = {};
  return {};
}

void FrameCursor::accept() {
  const format::FrameHeader& h = frame_.header;
  seed_ = hasher_.next(h.prev_hash, h.offset, static_cast<RecordKind>(h.kind), h.timestamp_us,
                       frame_.payload);
  pos_ = frame_pos_ + frame_.frame_bytes;
  offset_ = h.offset + 1;
}

void FrameCursor::jump(std::uint64_t pos, std::uint64_t offset) {
  pos_ = pos;
  offset_ = offset;
  seed_.reset();
}

}  // namespace cairn
