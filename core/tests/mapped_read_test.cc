// Options::mapped_reads: sealed segments read through File::map give the same records,
// the same verify() report and the same damage (stream, segment, byte, offset) as pread.
#include <catch2/catch.hpp>

#include "core/format.h"
#include "core/tests/test_env.h"

using namespace cairn;
using cairn::testing::PosixEnv;
using cairn::testing::SimEnv;

namespace {

Options mapped(bool on) {
  Options o = testing::small_options();
  o.mapped_reads = on;
  return o;
}

template <typename Env>
void fill(Env& env, std::uint64_t records) {
  auto store = testing::open_store(env, mapped(false));
  for (std::uint64_t i = 0; i < records; ++i) {
    REQUIRE(store->append(1, std::vector<Bytes>{testing::payload_for(1, i, 90)}).ok());
  }
  REQUIRE(store->close().ok());
}

// Flips one bit of the payload of a record inside the first (sealed) segment.
template <typename Env>
void damage_first_segment(Env& env) {
  const std::string path = env.dir + "/" + format::stream_dir_name(1) + "/" + format::segment_file_name(0);
  auto f = env.fs().open(path, fs::OpenOptions{});
  REQUIRE(f.ok());
  const std::uint64_t pos = format::kSegmentHeaderBytes + 3 * (format::kFrameHeaderBytes + 90) + format::kFrameHeaderBytes + 5;
  std::uint8_t b = 0;
  REQUIRE((*f)->pread(pos, std::span<std::uint8_t>(&b, 1)).value() == 1);
  b ^= 0x10;
  REQUIRE(fs::write_all(**f, pos, ByteView(&b, 1)).ok());
  REQUIRE((*f)->sync().ok());
}

template <typename Env>
void same_as_pread(Env& env) {
  auto plain = testing::open_store(env, mapped(false));
  auto with_map = testing::open_store(env, [] {
    Options o = mapped(true);
    o.read_only = true;  // beside the writer (a read-only open takes no lock)
    return o;
  }());
  REQUIRE(plain->stats(1)->segments >= 5);
  auto a = plain->read(1, 3, 1u << 30);
  auto b = with_map->read(1, 3, 1u << 30);
  REQUIRE(a.ok() == b.ok());
  if (a.ok()) {
    REQUIRE(a->size() == b->size());
    for (std::size_t i = 0; i < a->size(); ++i) CHECK((*a)[i].payload == (*b)[i].payload);
  } else {
    CHECK(a.error().code == b.error().code);
    CHECK(a.error().segment == b.error().segment);
    CHECK(a.error().byte_pos == b.error().byte_pos);
    CHECK(a.error().offset == b.error().offset);
  }
  auto va = plain->verify();
  auto vb = with_map->verify();
  REQUIRE(va.ok());
  REQUIRE(vb.ok());
  REQUIRE(va->findings.size() == vb->findings.size());
  for (std::size_t i = 0; i < va->findings.size(); ++i) CHECK(va->findings[i].to_string() == vb->findings[i].to_string());
  CHECK(va->records == vb->records);
}

}  // namespace

TEMPLATE_TEST_CASE("mapped reads return what pread returns", "[mapped]", PosixEnv, SimEnv) {
  TestType env;
  fill(env, 300);
  same_as_pread(env);
}

TEMPLATE_TEST_CASE("mapped reads name damage where pread names it", "[mapped]", PosixEnv, SimEnv) {
  TestType env;
  fill(env, 300);
  damage_first_segment(env);
  {
    auto store = testing::open_store(env, mapped(true));
    auto before = store->read(1, 0, 1u << 30);  // what precedes the damage, as with pread
    REQUIRE(before.ok());
    CHECK(before->size() < 3);
    auto r = store->read(1, 3, 1u << 30);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::corruption);
    CHECK(r.error().offset == 3);
    CHECK(r.error().segment == format::segment_file_name(0));
  }
  same_as_pread(env);
}

TEST_CASE("sim: mapped reads go through File::map, once per sealed segment") {
  SimEnv env;
  fill(env, 300);
  auto store = testing::open_store(env, mapped(true));
  env.sim.set_trace(true);
  REQUIRE(store->read(1, 0, 1u << 30).ok());
  REQUIRE(store->read(1, 0, 1u << 30).ok());
  std::size_t maps = 0, preads_of_sealed = 0;
  const std::uint64_t sealed = store->stats(1)->segments - 1;
  for (const std::string& line : env.sim.trace()) {
    if (line.find(" map ") != std::string::npos) ++maps;
    if (line.find(" pread ") != std::string::npos && line.find(format::segment_file_name(0)) != std::string::npos) {
      ++preads_of_sealed;
    }
  }
  CHECK(maps == sealed);
  CHECK(preads_of_sealed == 0);
}
