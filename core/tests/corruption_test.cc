// Corruption on real files: each test damages bytes the way a disk or an attacker would
// and checks the exact outcome the design requires (torn tail cut and reported; damage
// reported, never cut; tampering caught by the chain; unknown versions refused).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/crc32c.h"
#include "core/format.h"
#include "core/le.h"
#include "core/tests/test_env.h"

using namespace cairn;
using cairn::testing::open_store;
using cairn::testing::payload_for;
using cairn::testing::PosixEnv;
using cairn::testing::small_options;

namespace {

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_all_bytes(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::vector<std::string> segments(const PosixEnv& env, std::uint64_t stream) {
  std::vector<std::string> out;
  std::string dir = env.dir + "/" + format::stream_dir_name(stream);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Byte position of the k-th frame of a segment file (walking the length fields).
std::uint64_t frame_pos(const Bytes& file, std::uint64_t k) {
  std::uint64_t pos = format::kSegmentHeaderBytes;
  for (std::uint64_t i = 0; i < k; ++i) pos += format::kFrameHeaderBytes + le::get<std::uint32_t>(&file[pos + 4]);
  return pos;
}

// Rewrites a frame's CRC so it matches its (edited) contents: what a tamperer does.
void fix_crc(Bytes& file, std::uint64_t pos) {
  std::uint32_t len = le::get<std::uint32_t>(&file[pos + 4]);
  std::uint32_t crc = crc32c(ByteView(&file[pos + 4], format::kFrameHeaderBytes - 4 + len));
  le::put<std::uint32_t>(&file[pos], crc);
}

Options no_checkpoints() {
  Options o = small_options();
  o.checkpoint_interval = 0;
  return o;
}

void fill(PosixEnv& env, std::uint64_t n, const Options& o = no_checkpoints()) {
  auto store = open_store(env, o);
  for (std::uint64_t i = 0; i < n; ++i) REQUIRE(store->append(1, payload_for(1, i)).ok());
  REQUIRE(store->close().ok());
}

// Appends (each acknowledged durable, sync=always) and stops without close(), as a
// writer that died: the manifest keeps the recovery point of the open (offset 0), so the
// last records are proven durable only by the frames after them.
void fill_then_die(PosixEnv& env, std::uint64_t n) {
  auto store = open_store(env, no_checkpoints());
  for (std::uint64_t i = 0; i < n; ++i) REQUIRE(store->append(1, payload_for(1, i)).ok());
}

}  // namespace

TEST_CASE("after a writer died, a flipped byte in the last frame is a torn tail, reported as possibly acknowledged") {
  PosixEnv env;
  fill_then_die(env, 10);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs.back());
  const std::uint64_t last = frame_pos(file, 9);
  file[last + 80] ^= 0x01;
  write_all_bytes(segs.back(), file);

  auto store = open_store(env, no_checkpoints());
  const RecoveryReport& rep = store->recovery_report();
  REQUIRE(rep.torn_tails.size() == 1);
  CHECK(rep.damage.empty());
  CHECK(rep.torn_tails[0].byte_pos == last);
  CHECK(rep.torn_tails[0].bytes_dropped == file.size() - last);
  CHECK(rep.torn_tails[0].first_offset_dropped == 9);
  // Record 9 was acknowledged durable; nothing after it proves so, and the recovery point
  // is older: the store cannot tell a flip from a torn write, and says so.
  CHECK(rep.torn_tails[0].possibly_acknowledged == 1);
  CHECK(rep.to_string().find("possibly acknowledged (offsets 9..9)") != std::string::npos);
  CHECK(read_all(segs.back()).size() == last);
  CHECK(store->stats(1)->next_offset == 9);
  auto next = store->append(1, payload_for(1, 9));
  REQUIRE(next.ok());
  CHECK(next->first_offset == 9);
  CHECK(store->verify()->clean());
}

TEST_CASE("after a clean close, a flipped byte in the last frame is damage: not cut, appends wait for repair") {
  PosixEnv env;
  fill(env, 10);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs.back());
  const std::uint64_t last = frame_pos(file, 9);
  file[last + 80] ^= 0x01;
  write_all_bytes(segs.back(), file);

  auto store = open_store(env, no_checkpoints());
  const RecoveryReport& rep = store->recovery_report();
  CHECK(rep.torn_tails.empty());
  REQUIRE(rep.damage.size() == 1);
  CHECK(rep.damage[0].byte_pos == last);
  CHECK(rep.damage[0].offset == 9);
  CHECK(rep.blocked_streams == std::vector<std::uint64_t>{1});
  CHECK(read_all(segs.back()) == file);  // nothing was cut
  auto refused = store->append(1, payload_for(1, 10));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::corruption);
  CHECK(refused.error().byte_pos == last);
  CHECK(store->read(1, 9, 1).error().byte_pos == last);
  auto v = store->verify(1);
  REQUIRE(v.ok());
  REQUIRE(v->findings.size() == 1);
  CHECK(v->findings[0].byte_pos == last);

  auto r = store->repair(1);
  REQUIRE(r.ok());
  REQUIRE(r->removals.size() == 1);
  CHECK(r->removals[0].byte_pos == last);
  CHECK(r->removals[0].first_offset == 9);
  CHECK(r->next_offset == 10);  // offset 9 is never reused
  auto next = store->append(1, payload_for(1, 10));
  REQUIRE(next.ok());
  CHECK(next->first_offset == 10);
  CHECK(store->verify()->clean());
}

TEST_CASE("after a clean close, a shortened or extended active segment is damage, never a torn tail") {
  PosixEnv env;
  fill(env, 10);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs.back());
  const std::uint64_t pos5 = frame_pos(file, 5);
  Bytes changed = file;
  SECTION("cut in the middle of a frame") { changed.resize(pos5 + 30); }
  SECTION("cut at a frame boundary") { changed.resize(pos5); }
  SECTION("zeros appended") { changed.resize(file.size() + 700, 0); }
  write_all_bytes(segs.back(), changed);
  auto store = open_store(env, no_checkpoints());
  const RecoveryReport& rep = store->recovery_report();
  CHECK(rep.torn_tails.empty());
  REQUIRE_FALSE(rep.damage.empty());
  CHECK(rep.blocked_streams == std::vector<std::uint64_t>{1});
  CHECK(read_all(segs.back()) == changed);  // nothing was cut
  CHECK(store->append(1, payload_for(1, 10)).error().code == Errc::corruption);
  CHECK_FALSE(store->verify()->clean());
}

TEST_CASE("after a writer died, a tail cut mid-frame or extended with zeros is a torn tail") {
  PosixEnv env;
  fill_then_die(env, 10);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs.back());
  const std::uint64_t last = frame_pos(file, 9);
  SECTION("cut inside the last frame") {
    file.resize(last + 30);
  }
  SECTION("zeros after the last frame") {
    file.resize(file.size() + 700, 0);
  }
  write_all_bytes(segs.back(), file);
  auto store = open_store(env, no_checkpoints());
  REQUIRE(store->recovery_report().torn_tails.size() == 1);
  CHECK(store->recovery_report().damage.empty());
  std::uint64_t next = store->stats(1)->next_offset;
  CHECK((next == 9 || next == 10));
  CHECK(store->verify()->clean());
}

TEST_CASE("a flip inside durable data followed by valid data is damage: reported, never cut") {
  PosixEnv env;
  fill(env, 20);
  auto segs = segments(env, 1);
  REQUIRE(segs.size() == 1);
  Bytes file = read_all(segs[0]);
  const std::uint64_t pos5 = frame_pos(file, 5);
  file[pos5 + 75] ^= 0x40;  // inside record 5's payload
  write_all_bytes(segs[0], file);

  auto store = open_store(env, no_checkpoints());
  const RecoveryReport& rep = store->recovery_report();
  CHECK(rep.torn_tails.empty());
  REQUIRE(rep.damage.size() == 1);
  CHECK(rep.damage[0].stream == 1);
  CHECK(rep.damage[0].byte_pos == pos5);
  CHECK(rep.damage[0].offset == 5);
  CHECK(rep.damage[0].end_offset == 6);
  CHECK(read_all(segs[0]).size() == file.size());  // nothing was cut
  CHECK(store->stats(1)->next_offset == 20);

  auto bad = store->read(1, 5, 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::corruption);
  CHECK(bad.error().stream == 1u);
  CHECK(bad.error().byte_pos == pos5);
  CHECK(bad.error().offset == 5u);
  CHECK(bad.error().segment == format::segment_file_name(0));
  auto before = store->read(1, 2, 1);  // 2..3 verified through record 3's successor link
  REQUIRE(before.ok());
  auto after = store->read(1, 6, 1 << 20);
  REQUIRE(after.ok());
  CHECK(after->size() == 14);
  CHECK((*after)[0].payload == payload_for(1, 6));

  auto v = store->verify();
  REQUIRE(v.ok());
  REQUIRE(v->findings.size() == 1);
  CHECK(v->findings[0].byte_pos == pos5);
  auto next = store->append(1, payload_for(1, 20));
  REQUIRE(next.ok());
  CHECK(next->first_offset == 20);

  SECTION("repair removes only the damaged record, keeps its bytes, and never reuses its offset") {
    const std::uint64_t pos6 = frame_pos(file, 6);
    auto preview = store->repair(1, true);
    REQUIRE(preview.ok());
    REQUIRE(preview->removals.size() == 1);
    CHECK(read_all(segs[0]).size() == file.size() + (pos6 - pos5));  // a dry run changes nothing
    auto r = store->repair(1);
    REQUIRE(r.ok());
    REQUIRE(r->removals.size() == 1);
    CHECK(r->removals[0].byte_pos == pos5);
    CHECK(r->removals[0].bytes == pos6 - pos5);
    CHECK(r->removals[0].first_offset == 5);
    CHECK(r->removals[0].end_offset == 6);
    CHECK(r->removals[0].kept_as == preview->removals[0].kept_as);
    REQUIRE(r->lost_offsets.size() == 1);
    CHECK(r->lost_offsets[0] == std::pair<std::uint64_t, std::uint64_t>{5, 6});
    CHECK(r->next_offset == 21);
    const Bytes kept = read_all(env.dir + "/" + format::stream_dir_name(1) + "/" + r->removals[0].kept_as);
    CHECK(kept == Bytes(file.begin() + static_cast<long>(pos5), file.begin() + static_cast<long>(pos6)));
    CHECK(store->verify()->clean());
    CHECK(store->read(1, 5, 1).error().code == Errc::not_found);
    auto rest = store->read(1, 6, 1 << 20);
    REQUIRE(rest.ok());
    CHECK(rest->size() == 15);
    CHECK(rest->back().payload == payload_for(1, 20));
    auto again = store->append(1, payload_for(1, 21));
    REQUIRE(again.ok());
    CHECK(again->first_offset == 21);
    REQUIRE(store->close().ok());
    auto reopened = open_store(env, no_checkpoints());
    CHECK(reopened->recovery_report().clean());
    CHECK(reopened->verify()->clean());
    CHECK(reopened->read(1, 0, 1 << 20)->size() == 5);
  }
}

TEST_CASE("a payload edited with its CRC fixed is caught by the chain") {
  PosixEnv env;
  fill(env, 12);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs[0]);
  const std::uint64_t pos4 = frame_pos(file, 4);
  file[pos4 + format::kFrameHeaderBytes + 3] ^= 0x20;  // edit record 4's payload
  fix_crc(file, pos4);
  write_all_bytes(segs[0], file);

  auto store = open_store(env, no_checkpoints());
  const RecoveryReport& rep = store->recovery_report();
  CHECK(rep.torn_tails.empty());
  REQUIRE(rep.damage.size() == 1);
  CHECK(rep.damage[0].what.find("chain break") != std::string::npos);
  // The frame whose link fails is named; record 4 (whose content changed) or 5 is suspect.
  CHECK(rep.damage[0].offset == 5);
  CHECK(rep.damage[0].what.find("record 4 or 5 was changed") != std::string::npos);
  auto read4 = store->read(1, 4, 1);
  REQUIRE_FALSE(read4.ok());
  CHECK(read4.error().code == Errc::corruption);
  CHECK(read4.error().byte_pos == rep.damage[0].byte_pos);  // the same byte everywhere
  auto v = store->verify();
  REQUIRE_FALSE(v->clean());
  CHECK(v->findings[0].what.find("chain break") != std::string::npos);
  CHECK(v->findings[0].byte_pos == rep.damage[0].byte_pos);
  auto r = store->repair(1);  // removes record 4, whose bytes no longer hash to the chain
  REQUIRE(r.ok());
  REQUIRE(r->removals.size() == 1);
  CHECK(r->removals[0].first_offset == 4);
  CHECK(r->removals[0].end_offset == 5);
  CHECK(store->verify()->clean());
  CHECK(store->read(1, 5, 1).ok());
}

TEST_CASE("the last record tampered while the store is open is never served") {
  PosixEnv env;
  auto store = open_store(env, no_checkpoints());
  for (std::uint64_t i = 0; i < 5; ++i) REQUIRE(store->append(1, payload_for(1, i)).ok());
  auto segs = segments(env, 1);
  Bytes file = read_all(segs[0]);
  const std::uint64_t pos4 = frame_pos(file, 4);
  file[pos4 + format::kFrameHeaderBytes] ^= 0x01;
  fix_crc(file, pos4);
  write_all_bytes(segs[0], file);
  auto r = store->read(1, 4, 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::corruption);
  CHECK(r.error().message.find("chain") != std::string::npos);
  CHECK_FALSE(store->verify()->clean());
}

TEST_CASE("damage inside a sealed segment is reported by reads and verify, never cut") {
  PosixEnv env;
  fill(env, 200);
  auto segs = segments(env, 1);
  REQUIRE(segs.size() >= 3);
  Bytes file = read_all(segs[0]);
  REQUIRE(file.size() > 30 * 108);  // record 20 lies inside the first segment
  const std::uint64_t pos = frame_pos(file, 20);
  file[pos + 70] ^= 0x08;
  write_all_bytes(segs[0], file);

  SECTION("the default open trusts the checked index and finds it on read") {
    auto store = open_store(env, no_checkpoints());
    CHECK(store->recovery_report().damage.empty());
    auto r = store->read(1, 20, 1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::corruption);
    CHECK(r.error().byte_pos == pos);
    CHECK(r.error().offset == 20u);
    CHECK(store->read(1, 21, 1).ok());
    auto v = store->verify();
    REQUIRE(v->findings.size() == 1);
    CHECK(v->findings[0].segment == format::segment_file_name(0));
  }
  SECTION("a full scan on open reports it") {
    Options o = no_checkpoints();
    o.full_scan_on_open = true;
    auto store = open_store(env, o);
    REQUIRE(store->recovery_report().damage.size() == 1);
    CHECK(store->recovery_report().damage[0].offset == 20);
    CHECK(store->recovery_report().torn_tails.empty());
  }
  CHECK(read_all(segs[0]).size() == file.size());
}

TEST_CASE("the last frame of a sealed segment damaged is damage, not a torn tail") {
  PosixEnv env;
  fill(env, 200);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs[0]);
  file[file.size() - 3] ^= 0x02;
  write_all_bytes(segs[0], file);
  std::filesystem::remove(segs[0].substr(0, segs[0].size() - 3) + "idx");
  auto store = open_store(env, no_checkpoints());
  CHECK(store->recovery_report().torn_tails.empty());
  REQUIRE_FALSE(store->recovery_report().damage.empty());
  CHECK(read_all(segs[0]).size() == file.size());
}

TEST_CASE("an unknown format version is a clear error, never a guess") {
  PosixEnv env;
  fill(env, 3);
  auto segs = segments(env, 1);
  Bytes file = read_all(segs[0]);
  le::put<std::uint32_t>(&file[8], 9);
  le::put<std::uint32_t>(&file[64], crc32c(ByteView(file).first(64)));
  write_all_bytes(segs[0], file);
  auto store = Store::open(env.fs(), env.clock, env.dir, no_checkpoints());
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == Errc::unsupported_format);
  CHECK(store.error().segment == format::segment_file_name(0));
  CHECK(store.error().message.find("version 9") != std::string::npos);
}

TEST_CASE("missing, short or inconsistent indexes are rebuilt from the log") {
  PosixEnv env;
  fill(env, 200);
  auto segs = segments(env, 1);
  std::string idx0 = segs[0].substr(0, segs[0].size() - 3) + "idx";
  std::string idx1 = segs[1].substr(0, segs[1].size() - 3) + "idx";
  REQUIRE(std::filesystem::exists(idx0));
  std::filesystem::remove(idx0);
  Bytes i1 = read_all(idx1);
  i1.resize(i1.size() / 2);
  write_all_bytes(idx1, i1);
  auto store = open_store(env, no_checkpoints());
  CHECK(store->recovery_report().indexes_rebuilt == 2);
  CHECK(store->recovery_report().clean());
  CHECK(std::filesystem::exists(idx0));
  auto r = store->read(1, 0, 1 << 20);
  REQUIRE(r.ok());
  CHECK(store->verify()->clean());
}

TEST_CASE("an index entry that lies with a valid CRC is caught by verify and when used, and loses to the log") {
  PosixEnv env;
  {
    auto store = open_store(env, no_checkpoints());
    for (std::uint64_t i = 0; i < 200; ++i) {
      env.clock.advance_us(10);  // distinct timestamps, so reads by time use the index
      REQUIRE(store->append(1, payload_for(1, i)).ok());
    }
    REQUIRE(store->close().ok());
  }
  auto segs = segments(env, 1);
  std::string idx0 = segs[0].substr(0, segs[0].size() - 3) + "idx";
  auto sum = format::decode_index(read_all(idx0), "idx").value();
  REQUIRE(sum.entries.size() >= 3);
  const format::IndexEntry middle = sum.entries[sum.entries.size() / 2];
  sum.entries[sum.entries.size() / 2].byte_pos += 1;  // a well-formed index that lies
  write_all_bytes(idx0, format::encode_index(sum));
  auto store = open_store(env, no_checkpoints());
  CHECK(store->recovery_report().clean());
  auto v = store->verify();
  REQUIRE(v.ok());
  REQUIRE(v->findings.size() == 1);
  CHECK(v->findings[0].kind == FindingKind::index);
  CHECK(v->findings[0].offset == middle.offset);
  // Reads by time used to fail on good log data here ("frame length above max_record_bytes").
  auto at = store->offset_for_time(1, middle.timestamp_us + 1);
  REQUIRE(at.ok());
  CHECK(*at == middle.offset + 1);
  CHECK(store->read(1, middle.offset, 1)->front().payload == payload_for(1, middle.offset));
  REQUIRE_FALSE(store->recovery_report().invalid_indexes.empty());  // caught at use, rebuilt
  CHECK(store->verify()->clean());
  CHECK(format::decode_index(read_all(idx0), "idx")->entries[sum.entries.size() / 2].byte_pos == middle.byte_pos);
}

TEST_CASE("a segment whose creation was cut short is removed") {
  PosixEnv env;
  fill(env, 5);
  std::string dir = env.dir + "/" + format::stream_dir_name(1);
  write_all_bytes(dir + "/" + format::segment_file_name(5), Bytes(30, 0));
  write_all_bytes(dir + "/leftover.idx.tmp", Bytes(3, 1));
  auto store = open_store(env, no_checkpoints());
  CHECK(store->recovery_report().clean());
  CHECK(store->recovery_report().actions.size() == 2);
  CHECK_FALSE(std::filesystem::exists(dir + "/" + format::segment_file_name(5)));
  CHECK(store->stats(1)->next_offset == 5);
  REQUIRE(store->append(1, payload_for(1, 5)).ok());
}

TEST_CASE("damage to the first record of a batch, with later batches after it, is damage") {
  // Regression: frames of one batch share a durable_offset, so the frame right after the
  // damaged one (same batch) alone cannot show the range was durable; later batches do.
  PosixEnv env;
  {
    auto store = open_store(env, no_checkpoints());
    for (std::uint64_t b = 0; b < 5; ++b) {
      std::vector<Bytes> batch;
      for (std::uint64_t i = 0; i < 4; ++i) batch.push_back(payload_for(1, b * 4 + i));
      REQUIRE(store->append(1, batch).ok());
    }
    REQUIRE(store->close().ok());
  }
  auto segs = segments(env, 1);
  Bytes file = read_all(segs[0]);
  const std::uint64_t pos8 = frame_pos(file, 8);  // first record of the third batch
  file[pos8 + 90] ^= 0x04;
  write_all_bytes(segs[0], file);
  auto store = open_store(env, no_checkpoints());
  CHECK(store->recovery_report().torn_tails.empty());
  REQUIRE(store->recovery_report().damage.size() == 1);
  CHECK(store->recovery_report().damage[0].offset == 8);
  CHECK(store->stats(1)->next_offset == 20);
}
