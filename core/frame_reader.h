// Reads frames out of a segment, either through a window buffer filled by pread (a scan
// costs one large pread per window instead of one per frame) or straight out of a
// read-only mapping of the file (fs::File::map: no copy). Payload views stay valid until
// the next call.
#pragma once

#include <cstdint>
#include <memory>

#include "core/format.h"
#include "simfs/filesystem.h"

namespace cairn {

// The buffers a FrameReader fills. A store keeps one set and lends it to each reader, so
// reads and scans allocate once, not once per call or per segment.
// Two readers may share one set (a read that checks a hint reads the same segment
// again): `window` says which reader filled it last, and any other refills it.
struct ReadBuffers {
  std::unique_ptr<std::uint8_t[]> window;
  std::size_t window_capacity = 0;  // bytes allocated in `window`
  std::uint64_t window_holder = 0;  // the reader whose bytes `window` holds (0: none)
  std::uint64_t readers = 0;        // readers lent these buffers so far: their numbers
  Bytes inflated;                   // the last compressed payload, decompressed
};

class FrameReader {
 public:
  // Over a file through pread. REQUIRES: file (and buffers, when given) outlive the
  // reader; file_size is the size to read up to. window_bytes: how much to read ahead per
  // pread (sequential scans want a large window, spot checks of a few frames a small one;
  // a frame larger than the window is still read whole). Without `buffers` the reader
  // owns its own.
  FrameReader(fs::File& file, std::uint64_t file_size, std::uint32_t max_record_bytes,
              std::size_t window_bytes = kDefaultWindowBytes, ReadBuffers* buffers = nullptr);
  // Over mapped bytes: mapped.size() is the size to read up to. REQUIRES: the mapping
  // (and buffers) outlive the reader.
  FrameReader(ByteView mapped, std::uint32_t max_record_bytes, ReadBuffers* buffers = nullptr);
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;
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

  fs::File* file_ = nullptr;  // null: reading `mapped_`
  ByteView mapped_;
  std::uint64_t file_size_;
  std::uint32_t max_record_bytes_;
  std::size_t window_bytes_ = 0;
  ReadBuffers own_;
  ReadBuffers& buf_;
  std::uint64_t number_;  // this reader's number among buf_'s readers (never 0)
  std::size_t window_len_ = 0;  // the window holds [window_pos_, window_pos_ + window_len_)
  std::uint64_t window_pos_ = 0;
};

}  // namespace cairn
