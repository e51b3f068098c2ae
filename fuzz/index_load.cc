// Fuzz target: loading an index sidecar from arbitrary bytes. A sidecar that loads must
// re-encode to exactly the same bytes (the format has one encoding).
#include <cstdlib>
#include <cstring>

#include "core/format.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cairn::fuzz::reset_globals();
  auto sum = cairn::format::decode_index(cairn::ByteView(data, size), "fuzz.idx");
  if (sum.ok()) {
    cairn::Bytes again = cairn::format::encode_index(*sum);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  }
  return 0;
}
