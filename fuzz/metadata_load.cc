// Fuzz target: the fixed-size metadata of the format: segment headers and file names.
// A header that decodes re-encodes to the same 72 bytes; names parse strictly.
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/format.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cairn::fuzz::reset_globals();
  using namespace cairn::format;
  HeaderDecode h = decode_segment_header(cairn::ByteView(data, size));
  if (h.status == HeaderStatus::ok) {
    cairn::Bytes again;
    encode_segment_header(h.header, again);
    if (std::memcmp(again.data(), data, kSegmentHeaderBytes) != 0) std::abort();
  }
  const std::string name(reinterpret_cast<const char*>(data), size);
  if (auto base = parse_segment_name(name, "log")) {
    if (segment_file_name(*base) != name) std::abort();
  }
  if (auto id = parse_stream_dir_name(name)) {
    if (stream_dir_name(*id) != name) std::abort();
  }
  return 0;
}
