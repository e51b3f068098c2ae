// Options::verify_threads: sealed segments hashed on helper threads give the same verify()
// report, finding for finding and in the same order, as hashing them all on the calling
// thread, whatever the damage (bit flips anywhere, files cut short or removed).
#include <algorithm>
#include <filesystem>

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "core/format.h"
#include "core/tests/test_env.h"

using namespace cairn;
using cairn::testing::PosixEnv;
using cairn::testing::SimEnv;

namespace {

// Segments of ten blocks (ChainAhead block_bytes 16 KiB): enough for helper threads.
Options larger() {
  Options o = testing::small_options();
  o.max_segment_bytes = 160 << 10;
  return o;
}

Options threads(std::uint32_t n, bool mapped = false) {
  Options o = larger();
  o.read_only = true;
  o.verify_threads = n;
  o.mapped_reads = mapped;
  return o;
}

// Everything a report says, as text, in order.
std::vector<std::string> describe(const VerifyReport& r) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings) out.push_back(f.to_string() + " [" + finding_kind_name(f.kind) + "]");
  out.push_back("records " + std::to_string(r.records) + " bytes " + std::to_string(r.bytes) + " segments " +
                std::to_string(r.segments));
  return out;
}

template <typename Env>
Result<std::vector<std::string>> verify_with(Env& env, const Options& o) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::open(env.fs(), env.clock, env.dir, o));
  CAIRN_ASSIGN_OR_RETURN(VerifyReport r, store->verify());
  return describe(r);
}

template <typename Env>
void fill(Env& env, std::uint64_t streams, std::uint64_t records, std::size_t len, Compression c) {
  Options o = larger();
  o.compression = c;
  auto store = testing::open_store(env, o);
  for (std::uint64_t i = 0; i < records; ++i) {
    for (std::uint64_t s = 1; s <= streams; ++s) {
      REQUIRE(store->append(s, std::vector<Bytes>{testing::payload_for(s, i, len)}).ok());
    }
  }
  REQUIRE(store->close().ok());
}

// One change to the files at rest: a bit flipped, a file cut short, a file removed, or a
// frame tampered with (a payload, prev_hash or timestamp byte changed, its CRC fixed).
struct Damage {
  int what = 0;  // 0, 1, 2: flip; 3: cut; 4: remove; 5, 6, 7: tamper (payload, prev_hash, timestamp)
  std::size_t file = 0;
  std::uint64_t where = 0;
  unsigned bit = 0;
};

// Re-encodes the d.where-th frame of a segment file with one field changed.
void tamper(SimEnv& env, const std::string& path, const Damage& d) {
  const Bytes file = env.sim.current_contents(path).value_or(Bytes{});
  std::vector<std::pair<std::size_t, format::FrameDecode>> frames;
  for (std::size_t pos = format::kSegmentHeaderBytes; pos < file.size();) {
    format::FrameDecode f = format::decode_frame(ByteView(file).subspan(pos), 1u << 20);
    if (f.status != format::FrameStatus::ok) break;
    frames.emplace_back(pos, f);
    pos += f.frame_bytes;
  }
  if (frames.empty()) return;
  auto [pos, f] = frames[d.where % frames.size()];
  Bytes payload(f.payload.begin(), f.payload.end());
  if (d.what == 5 && !payload.empty()) payload[d.where % payload.size()] ^= static_cast<std::uint8_t>(1u << d.bit);
  if (d.what == 6) f.header.prev_hash[d.where % 32] ^= static_cast<std::uint8_t>(1u << d.bit);
  if (d.what == 7) f.header.timestamp_us ^= 1ull << d.bit;
  Bytes out;
  format::encode_frame(f.header, payload, out);
  env.sim.inject_overwrite(path, pos, out);
}

void apply(SimEnv& env, const Damage& d) {
  const std::vector<std::string> files = env.sim.visible_files(env.dir);
  if (files.empty()) return;
  const std::string& path = files[d.file % files.size()];
  const std::uint64_t size = env.sim.current_contents(path).value_or(Bytes{}).size();
  if (d.what <= 2) {
    if (size > 0) env.sim.inject_bit_flip(path, d.where % size, d.bit % 8);
  } else if (d.what == 3) {
    auto f = env.sim.open(path, fs::OpenOptions{});
    if (f.ok()) (void)(*f)->truncate(size == 0 ? 0 : d.where % size);
  } else if (d.what == 4) {
    (void)env.sim.unlink(path);
  } else if (path.ends_with(".log") && path.find("/seg-") != std::string::npos) {
    tamper(env, path, d);
  }
}

}  // namespace

TEST_CASE("verify on helper threads reports what one thread reports, also on damaged stores") {
  rc::prop("same report for 1, 2 and 3 threads, pread or mapped", [] {
    SimEnv env;
    const auto streams = *rc::gen::inRange<std::uint64_t>(1, 4);
    const auto records = *rc::gen::inRange<std::uint64_t>(1, 3000);
    const auto len = *rc::gen::inRange<std::size_t>(1, 300);
    const auto c = *rc::gen::element(Compression::none, Compression::lz4, Compression::zstd);
    fill(env, streams, records, len, c);
    const auto damages = *rc::gen::container<std::vector<Damage>>(
        *rc::gen::inRange<std::size_t>(0, 6), rc::gen::build<Damage>(rc::gen::set(&Damage::what, rc::gen::inRange(0, 8)),
                                                               rc::gen::set(&Damage::file, rc::gen::arbitrary<std::size_t>()),
                                                               rc::gen::set(&Damage::where, rc::gen::arbitrary<std::uint64_t>()),
                                                               rc::gen::set(&Damage::bit, rc::gen::inRange(0u, 8u))));
    for (const Damage& d : damages) apply(env, d);
    const auto one = verify_with(env, threads(1));
    for (std::uint32_t n : {2u, 3u}) {
      for (bool mapped : {false, true}) {
        const auto many = verify_with(env, threads(n, mapped));
        RC_ASSERT(one.ok() == many.ok());
        if (one.ok()) {
          RC_ASSERT(*one == *many);
        } else {
          RC_ASSERT(one.error().to_string() == many.error().to_string());
        }
      }
    }
  });
}

TEST_CASE("verify on helper threads finds damage in every sealed segment of a real directory") {
  PosixEnv env;
  {
    auto store = testing::open_store(env, larger());
    for (std::uint64_t i = 0; i < 12000; ++i) REQUIRE(store->append(1, std::vector<Bytes>{testing::payload_for(1, i, 100)}).ok());
    REQUIRE(store->close().ok());
  }
  // A byte in the middle of each of the first five segments (all sealed).
  std::vector<std::string> damaged;
  for (const auto& e : std::filesystem::directory_iterator(env.dir + "/" + format::stream_dir_name(1))) {
    damaged.push_back(e.path().string());
  }
  std::sort(damaged.begin(), damaged.end());
  std::erase_if(damaged, [](const std::string& p) { return !p.ends_with(".log") || p.find("/seg-") == std::string::npos; });
  REQUIRE(damaged.size() > 5);
  damaged.resize(5);
  for (const std::string& path : damaged) {
    auto f = env.fs().open(path, fs::OpenOptions{});
    REQUIRE(f.ok());
    const std::uint8_t b = 0xff;
    REQUIRE(fs::write_all(**f, (*f)->size().value() / 2, ByteView(&b, 1)).ok());
  }
  const auto one = verify_with(env, threads(1));
  const auto two = verify_with(env, threads(2));
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  CHECK(*one == *two);
  for (const std::string& path : damaged) {
    const std::string name = std::filesystem::path(path).filename().string();
    CHECK(std::count_if(one->begin(), one->end(), [&](const std::string& line) { return line.find(name) != std::string::npos; }) >= 1);
  }
}

TEST_CASE("verify_threads outside [1, 64] is refused at open") {
  SimEnv env;
  Options o = testing::small_options();
  o.verify_threads = 0;
  CHECK(Store::open(env.fs(), env.clock, env.dir, o).error().code == Errc::invalid_argument);
  o.verify_threads = 65;
  CHECK(Store::open(env.fs(), env.clock, env.dir, o).error().code == Errc::invalid_argument);
}
