// core/RECOVERY.md rows H, S and A: segment headers, sealed segments against the
// manifest, and the active segment's tail. One test per row, on SimFileSystem.
#include "core/crc32c.h"
#include "core/le.h"
#include "core/tests/recovery_env.h"

using namespace cairn;
using cairn::testing::frame_pos;
using cairn::testing::payload_for;
using cairn::testing::RecoveryEnv;

namespace {

// Edits one payload byte of the k-th frame and fixes its CRC: what a tamperer does.
void tamper(Bytes& file, std::uint64_t k) {
  const std::uint64_t pos = frame_pos(file, k);
  file[pos + format::kFrameHeaderBytes] ^= 0x01;
  const std::uint32_t len = le::get<std::uint32_t>(&file[pos + 4]);
  le::put<std::uint32_t>(&file[pos], crc32c(ByteView(&file[pos + 4], format::kFrameHeaderBytes - 4 + len)));
}

// A closed store whose stream 1 has at least three segments.
std::vector<std::uint64_t> three_segments(RecoveryEnv& env) {
  env.fill_closed(1, 200);
  auto bases = env.bases(1);
  REQUIRE(bases.size() >= 3);
  return bases;
}

}  // namespace

TEST_CASE("H1: a segment of another format version is unsupported_format, never a guess") {
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases[1]));
  f[8] = 9;
  le::put<std::uint32_t>(&f[64], crc32c(ByteView(f).first(64)));
  env.write(env.seg(1, bases[1]), f);
  auto s = env.try_open(env.options);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Errc::unsupported_format);
  CHECK(s.error().segment == format::segment_file_name(bases[1]));
}

TEST_CASE("H2: an invalid segment header is damage; its records stay readable through the chain") {
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases[1]));
  f[20] ^= 0xff;  // stream id: the header CRC no longer matches
  env.write(env.seg(1, bases[1]), f);
  auto s = env.open();
  REQUIRE(s->recovery_report().damage.size() == 1);
  CHECK(s->recovery_report().damage[0].what.find("header is invalid") != std::string::npos);
  CHECK(s->recovery_report().damage[0].byte_pos == 0);
  CHECK(s->read(1, bases[1], 1).ok());  // the anchor came from the previous segment
  auto r = s->repair(1);
  REQUIRE(r.ok());
  CHECK(r->lost_offsets.empty());  // the header is rewritten; no record goes
  CHECK(s->verify()->clean());
}

TEST_CASE("H2: an invalid header on the active segment blocks appends until repair") {
  // Found by the simulator: appends went on from an anchor read out of the damaged header.
  RecoveryEnv env;
  auto bases = three_segments(env);
  const std::uint64_t active = bases.back();
  Bytes f = env.read(env.seg(1, active));
  f[34] ^= 0x10;  // inside the anchor: the header CRC no longer matches
  env.write(env.seg(1, active), f);
  auto s = env.open();
  const RecoveryReport& rep = s->recovery_report();
  REQUIRE(rep.blocked_streams == std::vector<std::uint64_t>{1});
  CHECK(s->append(1, payload_for(1, 999)).error().code == Errc::corruption);
  const std::uint64_t next = s->stats(1)->next_offset;
  auto r = s->repair(1);
  REQUIRE(r.ok());
  CHECK(r->lost_offsets.empty());
  auto a = s->append(1, payload_for(1, next));
  REQUIRE(a.ok());
  CHECK(a->first_offset == next);
  CHECK(s->verify()->clean());
}

TEST_CASE("repair unblocks a stream whose damage is gone by the time it runs") {
  // Found by the simulator: a header rewrite cut short by a full disk still restored the
  // header's bytes; the next repair found nothing to do and left the stream blocked.
  RecoveryEnv env;
  auto bases = three_segments(env);
  const Bytes good = env.read(env.seg(1, bases.back()));
  Bytes bad = good;
  bad[34] ^= 0x10;
  env.write(env.seg(1, bases.back()), bad);
  auto s = env.open();
  REQUIRE(s->stats(1)->blocked);
  env.write(env.seg(1, bases.back()), good);
  auto r = s->repair(1);
  REQUIRE(r.ok());
  CHECK(r->removals.empty());
  CHECK_FALSE(s->stats(1)->blocked);
  CHECK(s->append(1, payload_for(1, 999)).ok());
}

TEST_CASE("a blocked stream refuses retention until it is repaired") {
  // Found by the simulator: purge removed files under the entry a blocked stream keeps as
  // it was read, and the next open found them missing.
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases.back()));
  f[34] ^= 0x10;  // the active segment's header: the stream is blocked
  env.write(env.seg(1, bases.back()), f);
  auto s = env.open();
  REQUIRE(s->stats(1)->blocked);
  auto p = s->purge(1, PurgeOptions{.older_than_us = {}, .max_total_bytes = 1});
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == Errc::corruption);
  CHECK(env.bases(1) == bases);
  REQUIRE(s->repair(1).ok());
  CHECK(s->purge(1, PurgeOptions{.older_than_us = {}, .max_total_bytes = 1}).ok());
}

TEST_CASE("H2: once retention removes a segment whose header was damaged, verify no longer reports it") {
  // Found by the simulator: what open found in a segment stayed in verify's report after
  // purge had removed the segment.
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases[0]));
  f[20] ^= 0xff;
  env.write(env.seg(1, bases[0]), f);
  auto s = env.open();
  REQUIRE(s->recovery_report().damage.size() == 1);
  REQUIRE(s->purge(1, PurgeOptions{.older_than_us = {}, .max_total_bytes = 1})->segments_removed == bases.size() - 1);
  auto v = s->verify();
  REQUIRE(v.ok());
  CHECK(v->clean());
}

TEST_CASE("H3: an anchor that does not continue the chain is damage") {
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases[2]));
  f[40] ^= 0x01;  // the anchor, with a valid header CRC
  le::put<std::uint32_t>(&f[64], crc32c(ByteView(f).first(64)));
  env.write(env.seg(1, bases[2]), f);
  auto s = env.open();
  REQUIRE(s->recovery_report().damage.size() >= 1);
  CHECK(s->recovery_report().damage[0].what.find("anchor") != std::string::npos);
  CHECK_FALSE(s->verify()->clean());
}

TEST_CASE("S1: a sealed segment shorter or longer than the manifest says is damage, never cut") {
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases[0]));
  Bytes changed = f;
  SECTION("shorter") { changed.resize(f.size() - 100); }
  SECTION("longer") { changed.resize(f.size() + 100, 0); }
  env.write(env.seg(1, bases[0]), changed);
  auto s = env.open();
  REQUIRE(s->recovery_report().damage.size() == 1);
  const Finding& d = s->recovery_report().damage[0];
  CHECK(d.what.find(changed.size() < f.size() ? "shorter" : "past its size") != std::string::npos);
  CHECK(env.read(env.seg(1, bases[0])) == changed);
  CHECK(s->recovery_report().blocked_streams.empty());  // sealed damage does not stop appends
  CHECK(s->append(1, payload_for(1, 200)).ok());
  CHECK(s->verify()->findings.size() == 1);
  CHECK(s->verify()->findings[0].byte_pos == d.byte_pos);
}

TEST_CASE("S2: a sealed segment's last record changed (its CRC fixed) is damage") {
  RecoveryEnv env;
  auto bases = three_segments(env);
  Bytes f = env.read(env.seg(1, bases[0]));
  const std::uint64_t last = bases[1] - bases[0] - 1;
  tamper(f, last);
  env.write(env.seg(1, bases[0]), f);
  auto s = env.open();
  REQUIRE(s->recovery_report().damage.size() == 1);
  CHECK(s->recovery_report().damage[0].offset == bases[1] - 1);
  auto r = s->read(1, bases[1] - 1, 1);
  REQUIRE_FALSE(r.ok());  // never served, although no later link in the file vouches
  CHECK(r.error().byte_pos == s->recovery_report().damage[0].byte_pos);
}

TEST_CASE("S3: a missing, short or disagreeing sidecar is rebuilt from the log") {
  RecoveryEnv env;
  auto bases = three_segments(env);
  env.remove(env.idx(1, bases[0]));
  Bytes short_idx = env.read(env.idx(1, bases[1]));
  short_idx.resize(short_idx.size() / 2);
  env.write(env.idx(1, bases[1]), short_idx);
  auto s = env.open();
  CHECK(s->recovery_report().clean());
  CHECK(s->recovery_report().indexes_rebuilt == 2);
  CHECK(env.exists(env.idx(1, bases[0])));
  CHECK(s->verify()->clean());
}

TEST_CASE("S4: a checkpoint entry that lies with a valid CRC never fails a read of good data") {
  RecoveryEnv env;
  env.options.checkpoint_interval = 5;
  auto bases = three_segments(env);
  auto sum = format::decode_index(env.read(env.idx(1, bases[0])), "idx").value();
  REQUIRE(sum.checkpoints.size() >= 2);
  const format::CheckpointEntry lie = sum.checkpoints[1];
  sum.checkpoints[1].byte_pos = sum.checkpoints[0].byte_pos;  // names another checkpoint
  env.write(env.idx(1, bases[0]), format::encode_index(sum));
  auto s = env.open();
  CHECK(s->recovery_report().clean());
  auto r = s->read(1, lie.offset + 1, 1);
  REQUIRE(r.ok());
  CHECK(r->front().offset == lie.offset + 1);
  REQUIRE(s->recovery_report().invalid_indexes.size() == 1);
  CHECK(format::decode_index(env.read(env.idx(1, bases[0])), "idx")->checkpoints[1].byte_pos == lie.byte_pos);
}

TEST_CASE("S4: repair rewrites a lying sidecar from the log, not from the lie") {
  // Found by the simulator: repair rewrote the sidecar from the hints it had just loaded,
  // which were the lie itself, and verify went on reporting it.
  RecoveryEnv env;
  env.options.checkpoint_interval = 5;
  auto bases = three_segments(env);
  auto sum = format::decode_index(env.read(env.idx(1, bases[0])), "idx").value();
  REQUIRE(sum.entries.size() >= 3);
  const format::IndexEntry truth = sum.entries[2];
  sum.entries[2].byte_pos += 1;
  env.write(env.idx(1, bases[0]), format::encode_index(sum));
  auto s = env.open();
  auto v = s->verify(1);
  REQUIRE(v.ok());
  REQUIRE_FALSE(v->clean());
  REQUIRE(s->repair(1).ok());
  v = s->verify(1);
  REQUIRE(v.ok());
  CHECK(v->clean());
  CHECK(format::decode_index(env.read(env.idx(1, bases[0])), "idx")->entries[2].byte_pos == truth.byte_pos);
}

TEST_CASE("A1, A2: after a clean close the active segment's size is known exactly") {
  RecoveryEnv env;
  env.fill_closed(1, 10);
  Bytes f = env.read(env.seg(1, 0));
  Bytes changed = f;
  SECTION("A1: shorter (at a frame boundary, so no frame looks torn)") { changed.resize(frame_pos(f, 6)); }
  SECTION("A2: longer") { changed.resize(f.size() + 40, 0); }
  env.write(env.seg(1, 0), changed);
  auto s = env.open();
  CHECK(s->recovery_report().torn_tails.empty());
  CHECK(s->recovery_report().blocked_streams == std::vector<std::uint64_t>{1});
  CHECK(env.read(env.seg(1, 0)) == changed);
  CHECK(s->append(1, payload_for(1, 10)).error().code == Errc::corruption);
}

TEST_CASE("A3: damage followed by later batches is damage: reported, the scan resumes after it") {
  RecoveryEnv env;
  env.fill_died(1, 20);
  Bytes f = env.read(env.seg(1, 0));
  f[frame_pos(f, 7) + 75] ^= 0x40;
  env.write(env.seg(1, 0), f);
  auto s = env.open();
  CHECK(s->recovery_report().torn_tails.empty());
  REQUIRE(s->recovery_report().damage.size() == 1);
  CHECK(s->recovery_report().damage[0].offset == 7);
  CHECK(s->stats(1)->next_offset == 20);
  CHECK(s->read(1, 8, 1 << 20)->size() == 12);
  CHECK(s->append(1, payload_for(1, 20))->first_offset == 20);
}

TEST_CASE("A3: the scan resumes at the lowest offset after damage, not at a later record's misplaced frame") {
  // Found by the simulator: a misdirected write left record 15's frame where record 8 was;
  // resuming at the first valid frame skipped the intact records 9..14 behind it.
  RecoveryEnv env;
  env.fill_died(1, 20);
  Bytes f = env.read(env.seg(1, 0));
  const std::uint64_t at7 = frame_pos(f, 7), at8 = frame_pos(f, 8), at15 = frame_pos(f, 15);
  REQUIRE(at15 - frame_pos(f, 14) == at8 - at7);  // frames of equal size
  f[at7 + 75] ^= 0x40;
  std::copy(f.begin() + static_cast<long>(at15), f.begin() + static_cast<long>(frame_pos(f, 16)), f.begin() + static_cast<long>(at8));
  env.write(env.seg(1, 0), f);
  auto s = env.open();
  REQUIRE_FALSE(s->recovery_report().damage.empty());
  CHECK(s->recovery_report().damage[0].offset == 7);
  auto r = s->read(1, 9, 1);
  REQUIRE(r.ok());
  CHECK(r->front().payload == payload_for(1, 9));
}

TEST_CASE("A4: a read by time finds the records of a damaged last batch before the damage") {
  // Found by the simulator: the blocked segment's last timestamp came from its last whole
  // batch, so offset_for_time skipped it and answered the next offset.
  RecoveryEnv env;
  {
    auto s = env.open();
    env.append(*s, 1, 0, 5);
    env.clock.advance_us(1000);
    REQUIRE(s->append(1, std::vector<Bytes>{payload_for(1, 5), payload_for(1, 6), payload_for(1, 7)}).ok());
    REQUIRE(s->close().ok());
  }
  Bytes f = env.read(env.seg(1, 0));
  f[frame_pos(f, 7) + 75] ^= 0x40;  // the batch's last record
  env.write(env.seg(1, 0), f);
  auto s = env.open();
  REQUIRE(s->recovery_report().blocked_streams == std::vector<std::uint64_t>{1});
  const std::uint64_t t = s->read(1, 5, 1).value()[0].timestamp_us;
  CHECK(s->offset_for_time(1, t).value() == 5);
}

TEST_CASE("A4: damage below the recovery point with nothing after it is never cut") {
  RecoveryEnv env;
  env.fill_closed(1, 10);  // the recovery point is the end
  Bytes f = env.read(env.seg(1, 0));
  f[frame_pos(f, 9) + 75] ^= 0x40;
  env.write(env.seg(1, 0), f);
  auto s = env.open();
  CHECK(s->recovery_report().torn_tails.empty());
  REQUIRE(s->recovery_report().damage.size() == 1);
  CHECK(s->recovery_report().damage[0].offset == 9);
  CHECK(s->recovery_report().blocked_streams == std::vector<std::uint64_t>{1});
  CHECK(env.read(env.seg(1, 0)) == f);
  CHECK(s->stats(1)->next_offset == 10);
  CHECK(s->read(1, 9, 1).error().code == Errc::corruption);
}

TEST_CASE("A5: a torn tail is cut; what it took may have been acknowledged inside the window only") {
  RecoveryEnv env;
  SECTION("manual sync, one sync, a flip in record 5 of 20: inside the window, possibly acknowledged") {
    env.options.sync = parse_sync_policy("manual").value();
    {
      auto s = env.open();
      env.append(*s, 1, 0, 20);
      REQUIRE(s->sync().ok());
    }
    Bytes f = env.read(env.seg(1, 0));
    f[frame_pos(f, 5) + 75] ^= 0x40;
    env.write(env.seg(1, 0), f);
    auto s = env.open();
    const RecoveryReport& rep = s->recovery_report();
    REQUIRE(rep.torn_tails.size() == 1);
    CHECK(rep.torn_tails[0].first_offset_dropped == 5);
    CHECK(rep.torn_tails[0].possibly_acknowledged == 15);  // offsets 5..19, all acknowledged by sync()
  }
  SECTION("the same with the recovery point advanced at every sync: damage, nothing cut") {
    env.options.sync = parse_sync_policy("manual").value();
    env.options.recovery_point_interval_bytes = 1;
    {
      auto s = env.open();
      env.append(*s, 1, 0, 20);
      REQUIRE(s->sync().ok());
    }
    Bytes f = env.read(env.seg(1, 0));
    f[frame_pos(f, 5) + 75] ^= 0x40;
    env.write(env.seg(1, 0), f);
    auto s = env.open();
    CHECK(s->recovery_report().torn_tails.empty());
    REQUIRE(s->recovery_report().damage.size() == 1);
    CHECK(s->recovery_report().damage[0].offset == 5);
    CHECK(s->stats(1)->next_offset == 20);
  }
  SECTION("records never synced, past the window: cut, not acknowledged") {
    env.options.sync = parse_sync_policy("manual").value();
    env.options.recovery_point_interval_bytes = 1;
    {
      auto s = env.open();
      env.append(*s, 1, 0, 5);
      REQUIRE(s->sync().ok());
      env.append(*s, 1, 5, 5);  // never synced; the crash tears record 7
    }
    Bytes f = env.read(env.seg(1, 0));
    f.resize(frame_pos(f, 7) + 20);
    env.write(env.seg(1, 0), f);
    auto s = env.open();
    REQUIRE(s->recovery_report().torn_tails.size() == 1);
    CHECK(s->recovery_report().torn_tails[0].first_offset_dropped == 7);
    CHECK(s->recovery_report().torn_tails[0].possibly_acknowledged == 0);
  }
  SECTION("without a manifest there is no recovery point: the window is unbounded") {
    // Found by the simulator: a durable, acknowledged checkpoint was cut after a lost
    // manifest and reported as 0 possibly acknowledged.
    env.options.sync = parse_sync_policy("manual").value();
    env.options.recovery_point_interval_bytes = 1;
    {
      auto s = env.open();
      env.append(*s, 1, 0, 10);
      REQUIRE(s->sync().ok());
    }
    env.remove(env.dir + "/MANIFEST");
    Bytes f = env.read(env.seg(1, 0));
    f[frame_pos(f, 9) + 75] ^= 0x40;  // the last record: nothing follows it
    env.write(env.seg(1, 0), f);
    auto s = env.open();
    REQUIRE(s->recovery_report().torn_tails.size() == 1);
    CHECK(s->recovery_report().torn_tails[0].first_offset_dropped == 9);
    CHECK(s->recovery_report().torn_tails[0].possibly_acknowledged == 1);
  }
}

TEST_CASE("A6: an intact frame that breaks the chain is damage naming that frame, never a torn tail") {
  RecoveryEnv env;
  env.fill_died(1, 12);
  Bytes f = env.read(env.seg(1, 0));
  tamper(f, 4);
  env.write(env.seg(1, 0), f);
  auto s = env.open();
  CHECK(s->recovery_report().torn_tails.empty());
  REQUIRE(s->recovery_report().damage.size() == 1);
  CHECK(s->recovery_report().damage[0].byte_pos == frame_pos(f, 5));
  CHECK(s->recovery_report().damage[0].offset == 5);
  CHECK(s->read(1, 4, 1).error().byte_pos == frame_pos(f, 5));
}

TEST_CASE("A7: after a failed fsync the kept bytes are written again, so they survive a crash") {
  RecoveryEnv env;
  env.options.sync = parse_sync_policy("manual").value();
  {
    auto s = env.open();
    env.append(*s, 1, 0, 6);
    env.sim.mutable_config().fsync_failures = true;
    env.sim.mutable_config().fsync_failure_ppm = 1'000'000;
    CHECK_FALSE(s->sync().ok());
    CHECK(s->fail_stopped());
    env.sim.mutable_config().fsync_failures = false;
  }
  // Reopened without a crash: the page cache still shows all six records, although the
  // failed fsync may have written none of them.
  auto reopened = env.open();
  const std::uint64_t kept = reopened->stats(1)->next_offset;
  reopened.reset();
  env.sim.mutable_config().lost_writes = true;
  env.sim.mutable_config().lost_write_ppm = 1'000'000;
  env.sim.crash();
  env.sim.mutable_config().lost_writes = false;
  auto s = env.open();
  CHECK(s->stats(1)->next_offset == kept);  // what recovery kept was made durable
  CHECK(s->read(1, 0, 1 << 20)->size() == kept);
}
