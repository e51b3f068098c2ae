// Fuzz target: decoding one record frame from arbitrary bytes. A frame that decodes must
// re-encode to the same bytes; nothing may read outside the input or allocate by a length.
#include <cstdlib>
#include <cstring>

#include "core/codec.h"
#include "core/format.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cairn::fuzz::reset_globals();
  using namespace cairn::format;
  const cairn::ByteView in(data, size);
  FrameDecode d = decode_frame(in, 1u << 20);
  if (d.status == FrameStatus::ok) {
    if (d.frame_bytes > size) std::abort();
    cairn::Bytes again;
    encode_frame(d.header, d.payload, again);
    if (again.size() != d.frame_bytes || std::memcmp(again.data(), data, again.size()) != 0) std::abort();
  }
  // Every prefix of a valid frame is incomplete, never valid.
  if (d.status == FrameStatus::ok && d.frame_bytes > 0) {
    if (decode_frame(in.first(d.frame_bytes - 1), 1u << 20).status == FrameStatus::ok) std::abort();
  }
  // A compressed payload decompresses within its stated size (at most the limit), or not at all.
  if (d.status == FrameStatus::ok && d.header.codec != 0) {
    cairn::Bytes raw;
    if (cairn::codec::inflate(static_cast<cairn::codec::Codec>(d.header.codec), d.payload, 1u << 20, raw) &&
        raw.size() > (1u << 20)) {
      std::abort();
    }
  }
  (void)decode_checkpoint(in);
  return 0;
}
