// Fuzz target: recovery from arbitrary segment bytes. The input becomes the active (and,
// on the second pass, a sealed) segment of a stream on a fresh SimFileSystem; the store
// must open without crashing, and what it recovered must read back and verify, with
// every error a value.
#include <cstdlib>

#include "core/format.h"
#include "core/store.h"
#include "fuzz/fuzz_target.h"
#include "simfs/sim_filesystem.h"

namespace {

using namespace cairn;

void recover(const std::uint8_t* data, std::size_t size, bool sealed) {
  ManualClock clock(1'000'000);
  fs::SimFileSystem sim(fs::SimConfig{}, 1, &clock);
  const std::string dir = "/s/" + format::stream_dir_name(7);
  if (!sim.mkdir("/s").ok() || !sim.mkdir(dir).ok()) std::abort();
  auto f = sim.open(dir + "/" + format::segment_file_name(0), fs::OpenOptions{.create = true});
  if (!f.ok() || !fs::write_all(**f, 0, ByteView(data, size)).ok()) std::abort();
  if (sealed) {
    // A successor makes the input a sealed segment (scanned, since it has no sidecar).
    auto g = sim.open(dir + "/" + format::segment_file_name(1'000'000), fs::OpenOptions{.create = true});
    Bytes header;
    format::encode_segment_header({7, 1'000'000, {}}, header);
    if (!g.ok() || !fs::write_all(**g, 0, header).ok()) std::abort();
  }
  Options o;
  o.max_record_bytes = 1 << 16;
  o.create_if_missing = false;
  auto store = Store::open(sim, clock, "/s", o);
  if (!store.ok()) return;  // e.g. unsupported_format: an error value is fine
  auto st = (*store)->stats(7);
  if (!st.ok()) std::abort();
  std::uint64_t at = st->first_offset;
  // A fuzzed header can claim any base offset: skip past each failure instead of walking
  // offset by offset, and bound the attempts.
  for (int i = 0; i < 64 && at < st->next_offset; ++i) {
    auto r = (*store)->read(7, at, 1 << 16);
    if (!r.ok()) {
      const auto& e = r.error();
      at = (e.offset && *e.offset >= at) ? *e.offset + 1 : at + 1;
      continue;
    }
    if (r->empty() || r->front().offset != at) std::abort();
    at = r->back().offset + 1;
  }
  (void)(*store)->verify();
  if (!sealed) {
    auto appended = (*store)->append(7, to_bytes("after recovery"));
    if (!appended.ok() || appended->first_offset != st->next_offset) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cairn::fuzz::reset_globals();
  recover(data, size, false);
  recover(data, size, true);
  return 0;
}
