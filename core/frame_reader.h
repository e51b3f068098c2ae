// Reads frames out of a segment file through a window buffer, so a scan costs one large
// pread per window instead of one per frame. Payload views stay valid until the next call.
#pragma once

#include <cstdint>
#include <memory>

#include "core/format.h"
#include "simfs/filesystem.h"

namespace cairn {

class FrameReader {
 public:
  // REQUIRES: file outlives the reader; file_size is the size to read up to.
  // window_bytes: how much to read ahead per pread (sequential scans want a large window,
  // spot checks of a few frames a small one; a frame larger than the window is still
  // read whole).
  FrameReader(fs::File& file, std::uint64_t file_size, std::uint32_t max_record_bytes,
              std::size_t window_bytes = kDefaultWindowBytes);
  static constexpr std::size_t kDefaultWindowBytes = 1 << 20;

  // Decodes the frame at byte_pos (status truncated if the file ends inside it). A
  // compressed payload is decompressed: `payload` is then the record as written, valid
  // until the next call (status bad_payload when it does not decompress).
  // Errors: io_error from pread.
  Result<format::FrameDecode> at(std::uint64_t byte_pos);
  // The bytes [byte_pos, byte_pos + len) clipped to the file. Errors: io_error.
  Result<ByteView> bytes(std::uint64_t byte_pos, std::size_t len);
  std::uint64_t file_size() const { return file_size_; }

 private:
  Status fill(std::uint64_t byte_pos, std::size_t min_len);

  fs::File& file_;
  std::uint64_t file_size_;
  std::uint32_t max_record_bytes_;
  std::size_t window_bytes_;
  std::unique_ptr<std::uint8_t[]> window_;  // the bytes [window_pos_, window_pos_ + window_len_)
  std::size_t window_capacity_ = 0;
  std::size_t window_len_ = 0;
  std::uint64_t window_pos_ = 0;
  Bytes inflated_;  // the last compressed payload, decompressed
};

}  // namespace cairn
