// Reads reuse their buffers: counts heap allocations (a replaced global operator new)
// made by verify() and read(). The counts grow with the number of segments and with the
// results (records returned), never with the number of frames read; mapped or not.
#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include "core/store.h"
#include "core/tests/test_env.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// Every unaligned form is replaced, so each pointer is freed by the family that made it
// (the aligned forms stay the library's, new and delete alike).
namespace {
void* counted(std::size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace cairn {
namespace {

using testing::SimEnv;

constexpr std::uint64_t kRecords = 5000;  // of 200 bytes: about 1.3 MB in 256 KiB segments

std::unique_ptr<Store> filled(SimEnv& env, bool mapped) {
  Options o;
  o.max_segment_bytes = 256 * 1024;
  o.sync.mode = SyncMode::manual;
  o.mapped_reads = mapped;
  auto store = testing::open_store(env, o);
  for (std::uint64_t i = 0; i < kRecords; ++i) {
    REQUIRE(store->append(1, std::vector<Bytes>{testing::payload_for(1, i, 200)}).ok());
  }
  REQUIRE(store->sync().ok());
  return store;
}

template <typename F>
std::uint64_t allocations_of(F&& f) {
  const std::uint64_t before = g_allocations.load();
  f();
  return g_allocations.load() - before;
}

}  // namespace

TEST_CASE("verify allocates per segment, not per frame") {
  for (bool mapped : {false, true}) {
    SimEnv env;
    auto store = filled(env, mapped);
    REQUIRE(store->verify().ok());  // warm: buffers sized once
    Result<VerifyReport> got = VerifyReport{};
    const std::uint64_t n = allocations_of([&] { got = store->verify(); });
    REQUIRE(got.ok());
    const VerifyReport& report = *got;
    REQUIRE(report.clean());
    REQUIRE(report.records == kRecords + kRecords / 1024);  // and a checkpoint every 1024
    INFO("mapped " << mapped << ": " << report.segments << " segments, " << n << " allocations");
    REQUIRE(report.segments >= 5);
    // Per segment: its handle, sidecar, the scan's result vectors (index entries, the leaves
    // checked against the spine) growing geometrically. Per frame: nothing.
    CHECK(n <= 64 * report.segments);
    CHECK(n < kRecords / 10);
  }
}

TEST_CASE("a read allocates its results and nothing per frame") {
  for (bool mapped : {false, true}) {
    SimEnv env;
    auto store = filled(env, mapped);
    for (std::uint64_t from : {std::uint64_t{10}, std::uint64_t{2500}, kRecords - 1}) {
      REQUIRE(store->read(1, from, 1).ok());  // warm: the segment's handle (and mapping) opened
      Result<std::vector<Record>> got = std::vector<Record>{};
      const std::uint64_t one = allocations_of([&] { got = store->read(1, from, 1); });
      REQUIRE(got.ok());
      REQUIRE(got->size() == 1);
      INFO("mapped " << mapped << ": one record from " << from << ": " << one << " allocations");
      CHECK(one <= 2);  // the vector and the record's bytes
    }
    Result<std::vector<Record>> got = std::vector<Record>{};
    const std::uint64_t all = allocations_of([&] { got = store->read(1, 0, 1u << 30); });
    REQUIRE(got.ok());
    REQUIRE(got->size() == kRecords + kRecords / 1024);  // with the checkpoints
    INFO("mapped " << mapped << ": every record: " << all << " allocations");
    CHECK(all <= got->size() + 64);  // one per record returned, the vector's growth, the segments
  }
}

}  // namespace cairn
