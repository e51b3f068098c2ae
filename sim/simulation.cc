#include "sim/simulation.h"

#include <algorithm>
#include <memory>
#include <queue>

#include <fmt/format.h>

#include "core/crc32c.h"
#include "core/format.h"
#include "core/le.h"
#include "core/manifest.h"
#include "core/store.h"
#include "properties/properties.h"
#include "sim/oracle.h"
#include "simfs/prng.h"

namespace cairn::sim {
namespace {

constexpr const char* kStoreDir = "/store";

// Property violations (a false ALWAYS in the core or the simulator) of the seed running
// on this thread.
thread_local std::string t_property_failure;

enum class Actor : std::uint8_t { writer, reader, checkpointer, syncer, retention, verifier, crasher, bitrot };

struct Event {
  std::uint64_t time_us;
  std::uint64_t seq;
  Actor actor;
  std::uint64_t stream;
  bool operator>(const Event& o) const { return time_us != o.time_us ? time_us > o.time_us : seq > o.seq; }
};

fs::SimConfig fs_config(const Swarm& s) {
  fs::SimConfig c;
  c.lost_writes = s.lost_writes;
  c.lost_write_ppm = s.lost_write_ppm;
  c.torn_writes = s.torn_writes;
  c.torn_write_ppm = s.torn_write_ppm;
  c.extension_garbage = s.extension_garbage;
  c.dir_reverts = s.dir_reverts;
  c.dir_revert_ppm = s.dir_revert_ppm;
  c.read_errors = s.read_errors;
  c.read_error_ppm = s.read_error_ppm;
  c.fsync_failures = s.fsync_failures;
  c.fsync_failure_ppm = s.fsync_failure_ppm;
  c.write_errors = s.write_errors;
  c.write_error_ppm = s.write_error_ppm;
  c.misdirected_writes = s.misdirected_writes;
  c.latency_min_us = 1;
  c.latency_max_us = s.latency_max_us;
  return c;
}

class Simulation {
 public:
  explicit Simulation(const SeedOptions& o)
      : opt_(o), swarm_(o.swarm), workload_(o.seed), faults_rng_(o.seed ^ 0xfa017'5eedull),
        clock_(1'000'000'000), fs_(fs_config(swarm_), faults_rng_, &clock_), oracle_(swarm_) {
    fs_.set_trace(o.trace);
    store_options_.max_segment_bytes = swarm_.max_segment_bytes;
    store_options_.index_interval_bytes = swarm_.index_interval_bytes;
    store_options_.checkpoint_interval = swarm_.checkpoint_interval;
    store_options_.sync = parse_sync_policy(swarm_.sync).value();
    store_options_.full_scan_on_open = swarm_.full_scan_on_open;
    store_options_.max_record_bytes = 1u << 20;
  }

  SeedResult run();

 private:
  void note(const std::string& line) { fs_.note("sim: " + line); }
  void fail(std::string why) {
    if (result_.passed) {
      result_.passed = false;
      result_.failure = std::move(why);
      note("FAILURE " + result_.failure);
    }
  }
  void schedule(Actor a, std::uint64_t stream, std::uint64_t mean_us) {
    const std::uint64_t delay = workload_.range(1, 2 * std::max<std::uint64_t>(mean_us, 1));
    queue_.push(Event{clock_.now_us() + delay, seq_++, a, stream});
  }
  std::uint64_t mean_of(Actor a) const;

  void restart(bool power_loss);
  void absorb_fault_log();
  void after_op(const char* what, std::uint64_t fsync_failures_before);
  void act(const Event& e);
  void write(std::uint64_t stream);
  void read(std::uint64_t stream);
  void checkpoint(std::uint64_t stream);
  void sync();
  void purge(std::uint64_t stream);
  void verify();
  void crash();
  void bitrot();
  void repair_next();
  std::string pick_file(const std::string& ext, std::uint64_t& stream);

  SeedOptions opt_;
  const Swarm& swarm_;
  Prng workload_;
  Prng faults_rng_;
  ManualClock clock_;
  fs::SimFileSystem fs_;
  Oracle oracle_;
  Options store_options_;
  std::unique_ptr<Store> store_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  std::size_t faults_seen_ = 0;
  bool final_check_ = false;  // the last restart of a seed reads every record back
  std::vector<std::uint64_t> repairs_;  // streams the operator will repair next
  std::vector<std::uint64_t> blocked_;  // streams the last open refused appends to, until repaired
  SeedResult result_;
};

std::uint64_t Simulation::mean_of(Actor a) const {
  switch (a) {
    case Actor::writer: return swarm_.write_interval_us;
    case Actor::reader: return swarm_.read_interval_us;
    case Actor::checkpointer: return swarm_.checkpoint_interval_us;
    case Actor::syncer: return swarm_.sync_interval_us;
    case Actor::retention: return swarm_.purge_interval_us;
    case Actor::verifier: return swarm_.verify_interval_us;
    case Actor::crasher:  // about one crash per 1e6 / crash_ppm writes
      return swarm_.crash_ppm > 0 ? swarm_.write_interval_us * 1'000'000ull / swarm_.crash_ppm
                                  : UINT64_MAX / 4;
    case Actor::bitrot: return swarm_.bitrot_interval_us;
  }
  return 1000;
}

// Tells the oracle about faults the filesystem injected on its own that damage data the
// store may already have called durable (a misdirected write can land on synced frames).
void Simulation::absorb_fault_log() {
  const auto& log = fs_.fault_log();
  for (; faults_seen_ < log.size(); ++faults_seen_) {
    const fs::FaultRecord& f = log[faults_seen_];
    if (f.family != fs::FaultFamily::misdirected_write) continue;
    const std::string prefix = std::string(kStoreDir) + "/";
    if (f.path.rfind(prefix, 0) != 0) continue;
    std::string rest = f.path.substr(prefix.size());
    if (rest.rfind(manifest::kFileName, 0) == 0) {
      oracle_.manifest_fault();
      continue;
    }
    auto id = format::parse_stream_dir_name(rest.substr(0, rest.find('/')));
    if (id) oracle_.at_rest(*id, rest.find(".idx") != std::string::npos);
    REACHABLE("sim: a write was misdirected");
  }
}

// Loses power (or, after a fail-stop, just reopens), then reopens the store, possibly
// losing power again inside recovery, and checks what recovery kept.
void Simulation::restart(bool power_loss) {
  store_.reset();
  if (power_loss) {
    ++result_.crashes;
    note(fmt::format("restart after power loss ({})", fs_.power_off_op()));
    fs_.restart();
  } else {
    note("reopen after fail-stop");
  }
  for (int attempt = 0; attempt < 20; ++attempt) {
    const bool crash_inside = workload_.chance_ppm(swarm_.crash_in_recovery_ppm);
    if (crash_inside) fs_.arm_power_off(workload_.range(1, 40));
    // After repeated I/O failures the operator fixes the hardware: this one open runs
    // without transient I/O faults (a store that cannot be read cannot be judged).
    const bool calm = attempt >= 10;
    const fs::SimConfig saved = fs_.config();
    if (calm) {
      note("open keeps failing: transient I/O faults off for this attempt");
      fs_.mutable_config().read_errors = false;
      fs_.mutable_config().write_errors = false;
      fs_.mutable_config().fsync_failures = false;
    }
    auto opened = Store::open(fs_, clock_, kStoreDir, store_options_);
    if (calm) fs_.mutable_config() = saved;
    if (fs_.powered_off()) {
      ++result_.crashes_in_recovery;
      REACHABLE("sim: power lost during recovery");
      note("power lost during recovery");
      if (opened.ok()) opened.value().reset();
      fs_.restart();
      continue;
    }
    fs_.disarm_power_off();
    if (!opened.ok()) {
      const Error& e = opened.error();
      if ((e.code == Errc::io_error || e.code == Errc::no_space) && attempt < 19) {
        note("open failed (" + e.to_string() + "); replacing bad sectors and retrying");
        fs_.clear_sticky_read_errors();
        fs_.restart();
        continue;
      }
      fail("the store could not be reopened: " + e.to_string());
      return;
    }
    store_ = std::move(opened).value();
    absorb_fault_log();
    const RecoveryReport& rep = store_->recovery_report();
    note(fmt::format("recovered: {} torn tails, {} damage findings", rep.torn_tails.size(), rep.damage.size()));
    for (const TornTail& t : rep.torn_tails) {
      note(fmt::format("  torn tail: stream {} {} cut at byte {}: {} bytes, {} records from offset {}", t.stream,
                       t.segment, t.byte_pos, t.bytes_dropped, t.records_dropped, t.first_offset_dropped));
    }
    for (const Finding& f : rep.damage) note("  damage: " + f.to_string());
    for (const std::string& i : rep.invalid_indexes) note("  invalid index: " + i);
    for (const std::string& a : rep.actions) note("  action: " + a);
    for (std::uint64_t id : store_->streams()) {
      auto st = store_->stats(id);
      if (st.ok()) {
        note(fmt::format("  stream {}: offsets {}..{}, {} segments, {} bytes", id, st->first_offset,
                         st->next_offset, st->segments, st->bytes));
      }
    }
    if (!rep.torn_tails.empty()) REACHABLE("sim: recovery truncated a torn tail");
    if (!rep.damage.empty()) REACHABLE("sim: recovery reported damage");
    std::string why = oracle_.check_recovery(*store_, final_check_);
    if (!why.empty()) fail(why);
    // The operator repairs every stream open refused to append to, and now and then one
    // with other damage.
    repairs_.clear();
    blocked_ = rep.blocked_streams;
    for (std::uint64_t id : rep.blocked_streams) repairs_.push_back(id);
    for (const Finding& f : rep.damage) {
      if (f.kind == FindingKind::damage && std::find(repairs_.begin(), repairs_.end(), f.stream) == repairs_.end() &&
          workload_.coin()) {
        repairs_.push_back(f.stream);
      }
    }
    return;
  }
  fail("the store could not be reopened after 20 attempts");
}

void Simulation::after_op(const char* what, std::uint64_t fsync_failures_before) {
  absorb_fault_log();
  if (fs_.powered_off()) {
    const std::string& op = fs_.power_off_op();
    if (op.find(".tmp") != std::string::npos || op.rfind("rename", 0) == 0) {
      REACHABLE("sim: power lost while replacing a metadata file");
    }
    if (op.rfind("sync_dir /store/stream-", 0) == 0 || op.find(".idx") != std::string::npos) {
      REACHABLE("sim: power lost during segment rotation or creation");
    }
    restart(true);
    return;
  }
  if (fs_.fault_count(fs::FaultFamily::fsync_failure) > fsync_failures_before && store_) {
    // A failed fsync must never be retried and trusted.
    if (!store_->fail_stopped()) {
      fail(fmt::format("{}: an fsync failed but the store did not become fail-stop", what));
      return;
    }
  }
  if (store_ && store_->fail_stopped()) restart(workload_.coin());
}

void Simulation::write(std::uint64_t stream) {
  const std::uint64_t n = workload_.range(1, std::max<std::uint32_t>(swarm_.batch_max, 1));
  std::vector<Bytes> batch;
  for (std::uint64_t i = 0; i < n; ++i) {
    Bytes p(workload_.range(swarm_.record_bytes_min, std::max(swarm_.record_bytes_min, swarm_.record_bytes_max)));
    for (auto& b : p) b = static_cast<std::uint8_t>(workload_.next_u64());
    batch.push_back(std::move(p));
  }
  const auto fsync_before = fs_.fault_count(fs::FaultFamily::fsync_failure);
  auto r = store_->append(stream, batch);
  if (r.ok()) {
    if (store_->fail_stopped()) return fail("an append succeeded on a fail-stopped store");
    oracle_.append_ok(stream, batch, *r);
    std::string why = oracle_.durable(stream, store_->durable_offset(stream).value());
    if (!why.empty()) return fail(why);
    note(fmt::format("append stream {} offsets {}..{} ok", stream, r->first_offset, r->last_offset));
  } else {
    const Error& e = r.error();
    note(fmt::format("append stream {} x{} failed: {}", stream, n, e.to_string()));
    const bool blocked = std::find(blocked_.begin(), blocked_.end(), stream) != blocked_.end();
    if (e.code == Errc::invalid_argument || e.code == Errc::record_too_large ||
        (e.code == Errc::corruption && !blocked)) {
      return fail("append failed unexpectedly: " + e.to_string());
    }
    if (blocked && std::find(repairs_.begin(), repairs_.end(), stream) == repairs_.end()) {
      repairs_.push_back(stream);  // the operator tries the repair again
    }
    if (e.code == Errc::no_space) REACHABLE("sim: an append ran out of space");
    oracle_.append_failed(stream, batch);
  }
  after_op("append", fsync_before);
}

void Simulation::read(std::uint64_t stream) {
  auto st = store_->stats(stream);
  if (!st.ok()) return;
  const std::uint64_t span = st->next_offset - st->first_offset;
  const std::uint64_t from = st->first_offset + workload_.below(span + 1);
  const std::uint64_t max_bytes = workload_.range(0, 4096);
  Result<std::vector<Record>> r = std::vector<Record>{};
  if (workload_.below(4) == 0 && span > 0) {
    // Read by time: the oracle knows offsets, so read the timestamp of `from` first.
    auto probe = store_->read(stream, from, 0);
    if (probe.ok() && !probe->empty()) {
      auto at = store_->offset_for_time(stream, probe->front().timestamp_us);
      if (fs_.powered_off()) return after_op("read", 0);
      if (at.ok()) {
        if (*at > from) return fail(fmt::format("stream {}: offset_for_time skipped past offset {}", stream, from));
        r = store_->read(stream, *at, max_bytes);
        if (fs_.powered_off()) return after_op("read", 0);
        std::string why = oracle_.check_read(stream, *at, r);
        if (!why.empty()) return fail(why);
        note(fmt::format("read_by_time stream {} -> offset {}", stream, *at));
        return after_op("read", fs_.fault_count(fs::FaultFamily::fsync_failure));
      }
      r = std::move(at).error();
    } else {
      r = probe;
    }
  } else {
    r = store_->read(stream, from, max_bytes);
  }
  if (fs_.powered_off()) return after_op("read", 0);
  std::string why = oracle_.check_read(stream, from, r);
  if (!why.empty()) return fail(why);
  note(fmt::format("read stream {} from {} -> {}", stream, from,
                   r.ok() ? std::to_string(r->size()) + " records" : r.error().to_string()));
  after_op("read", fs_.fault_count(fs::FaultFamily::fsync_failure));
}

void Simulation::checkpoint(std::uint64_t stream) {
  const auto fsync_before = fs_.fault_count(fs::FaultFamily::fsync_failure);
  auto r = store_->checkpoint(stream);
  if (r.ok()) {
    oracle_.checkpoint_ok(stream, *r);
    std::string why = oracle_.durable(stream, store_->durable_offset(stream).value());
    if (!why.empty()) return fail(why);
    note(fmt::format("checkpoint stream {} at {}", stream, *r));
  } else if (r.error().code != Errc::not_found) {
    oracle_.checkpoint_failed(stream);
    note("checkpoint failed: " + r.error().to_string());
  }
  after_op("checkpoint", fsync_before);
}

void Simulation::sync() {
  const auto fsync_before = fs_.fault_count(fs::FaultFamily::fsync_failure);
  Status st = store_->sync();
  note(std::string("sync ") + (st.ok() ? "ok" : st.error().to_string()));
  if (st.ok()) {
    for (std::uint64_t id : store_->streams()) {
      std::string why = oracle_.durable(id, store_->durable_offset(id).value());
      if (!why.empty()) return fail(why);
    }
  }
  after_op("sync", fsync_before);
}

void Simulation::purge(std::uint64_t stream) {
  const auto fsync_before = fs_.fault_count(fs::FaultFamily::fsync_failure);
  PurgeOptions p;
  if (workload_.coin()) {
    p.max_total_bytes = workload_.range(swarm_.max_segment_bytes, 6 * swarm_.max_segment_bytes);
  } else {
    p.older_than_us = workload_.range(1000, 200'000);
  }
  oracle_.purge_started(stream);
  auto r = store_->purge(stream, p);
  if (r.ok()) {
    auto st = store_->stats(stream);
    if (st.ok()) {
      std::string why = oracle_.purge_ok(stream, *st);
      if (!why.empty()) return fail(why);
    }
    note(fmt::format("purge stream {}: {} segments", stream, r->segments_removed));
  } else {
    note("purge failed: " + r.error().to_string());
  }
  after_op("purge", fsync_before);
}

void Simulation::verify() {
  auto r = store_->verify();
  if (fs_.powered_off()) return after_op("verify", 0);
  std::string why = oracle_.check_verify(r);
  if (!why.empty()) return fail(why);
  note(fmt::format("verify: {}", r.ok() ? std::to_string(r->findings.size()) + " findings" : r.error().to_string()));
  after_op("verify", fs_.fault_count(fs::FaultFamily::fsync_failure));
}

void Simulation::crash() {
  if (workload_.coin()) {
    note("power loss now");
    fs_.arm_power_off(1);
    // The next filesystem operation (whatever the store does next) is the moment.
    return;
  }
  const std::uint64_t n = workload_.range(1, std::max<std::uint32_t>(swarm_.power_off_window_ops, 1));
  note(fmt::format("power loss armed in {} operations", n));
  fs_.arm_power_off(n);
}

// A random durable file of the store with the given extension; sets `stream`.
std::string Simulation::pick_file(const std::string& ext, std::uint64_t& stream) {
  auto dirs = fs_.list_dir(kStoreDir);
  if (!dirs.ok() || dirs->empty()) return {};
  std::vector<std::pair<std::string, std::uint64_t>> files;
  for (const std::string& d : *dirs) {
    auto id = format::parse_stream_dir_name(d);
    if (!id) continue;
    auto names = fs_.list_dir(std::string(kStoreDir) + "/" + d);
    if (!names.ok()) continue;
    for (const std::string& n : *names) {
      if (format::parse_segment_name(n, ext)) files.emplace_back(std::string(kStoreDir) + "/" + d + "/" + n, *id);
    }
  }
  if (files.empty()) return {};
  const auto& pick = files[workload_.below(files.size())];
  stream = pick.second;
  return pick.first;
}

void Simulation::bitrot() {
  std::vector<int> modes;
  if (swarm_.bit_flips) modes.push_back(0);
  if (swarm_.tampering) modes.push_back(1);
  if (swarm_.index_lies) modes.push_back(2);
  if (modes.empty()) return;
  const int mode = modes[workload_.below(modes.size())];
  std::uint64_t stream = 0;
  if (mode == 0) {
    const bool idx = workload_.below(4) == 0;
    std::string path = pick_file(idx ? "idx" : "log", stream);
    auto data = path.empty() ? std::nullopt : fs_.durable_contents(path);
    if (!data || data->empty()) return;
    if (fs_.inject_bit_flip(path, workload_.below(data->size()), static_cast<unsigned>(workload_.below(8)))) {
      oracle_.at_rest(stream, idx);
      REACHABLE("sim: a bit flipped at rest");
    }
    return;
  }
  if (mode == 1) {
    // Edit one payload byte and fix the frame's CRC: only the chain can tell.
    std::string path = pick_file("log", stream);
    auto data = path.empty() ? std::nullopt : fs_.durable_contents(path);
    if (!data) return;
    // Only durable records with a durable successor: a chain can only expose an edit that
    // a later link vouches for.
    const auto& os = oracle_.streams();
    const std::uint64_t durable = os.count(stream) ? os.at(stream).durable : 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> frames;  // (byte_pos, offset)
    std::uint64_t pos = format::kSegmentHeaderBytes;
    while (pos < data->size()) {
      auto d = format::decode_frame(ByteView(*data).subspan(static_cast<std::size_t>(pos)), 1u << 20);
      if (d.status != format::FrameStatus::ok) break;
      if (d.header.payload_len > 0 && d.header.offset + 1 < durable) frames.emplace_back(pos, d.header.offset);
      pos += d.frame_bytes;
    }
    if (frames.empty()) return;
    const auto [f, tampered_offset] = frames[workload_.below(frames.size())];
    const std::uint32_t len = le::get<std::uint32_t>(data->data() + f + 4);
    Bytes frame(data->begin() + static_cast<long>(f), data->begin() + static_cast<long>(f + format::kFrameHeaderBytes + len));
    frame[format::kFrameHeaderBytes + workload_.below(len)] ^= static_cast<std::uint8_t>(1u << workload_.below(8));
    le::put<std::uint32_t>(frame.data(), crc32c(ByteView(frame).subspan(4)));
    if (fs_.inject_overwrite(path, f, frame)) {
      note(fmt::format("tampered stream {} offset {} (payload edited, CRC fixed)", stream, tampered_offset));
      oracle_.tampered(stream, tampered_offset);
      REACHABLE("sim: a payload was tampered with and its CRC fixed");
    }
    return;
  }
  // An index sidecar that lies with a valid CRC: a checkpoint or index entry moved.
  std::string path = pick_file("idx", stream);
  auto data = path.empty() ? std::nullopt : fs_.durable_contents(path);
  if (!data) return;
  auto sum = format::decode_index(*data, path);
  if (!sum.ok()) return;
  if (!sum->checkpoints.empty()) {
    sum->checkpoints[workload_.below(sum->checkpoints.size())].byte_pos += 1;
  } else if (sum->entries.size() >= 2) {
    sum->entries.back().byte_pos += 1;
  } else {
    return;
  }
  if (fs_.inject_overwrite(path, 0, format::encode_index(*sum))) {
    oracle_.at_rest(stream, true);
    REACHABLE("sim: an index sidecar was rewritten to lie");
  }
}

// The operator's repair: a dry run first, so the oracle knows what may go if power fails
// inside the repair itself, then the repair.
void Simulation::repair_next() {
  const std::uint64_t stream = repairs_.back();
  repairs_.pop_back();
  const auto fsync_before = fs_.fault_count(fs::FaultFamily::fsync_failure);
  auto plan = store_->repair(stream, true);
  if (fs_.powered_off()) return after_op("repair", fsync_before);
  if (!plan.ok()) {
    note("repair plan failed: " + plan.error().to_string());
    return after_op("repair", fsync_before);
  }
  oracle_.repair_planned(stream, *plan);
  auto done = store_->repair(stream);
  if (done.ok()) {
    std::string lost;
    for (const auto& [a, b] : done->lost_offsets) lost += fmt::format(" {}..{}", a, b - 1);
    note(fmt::format("repair stream {}: {} removals, offsets lost:{}, next offset {}", stream, done->removals.size(),
                     lost.empty() ? " none" : lost, done->next_offset));
    for (const std::string& step : done->steps) note("  repair step: " + step);
    REACHABLE("sim: the operator repaired a stream");
    std::string why = oracle_.repaired(stream, *done);
    if (!why.empty()) return fail(why);
    std::erase(blocked_, stream);
  } else {
    note("repair failed: " + done.error().to_string());
  }
  after_op("repair", fsync_before);
}

void Simulation::act(const Event& e) {
  if (!store_) return;
  switch (e.actor) {
    case Actor::writer: write(e.stream); break;
    case Actor::reader: read(e.stream); break;
    case Actor::checkpointer: checkpoint(e.stream); break;
    case Actor::syncer: sync(); break;
    case Actor::retention: purge(e.stream); break;
    case Actor::verifier: verify(); break;
    case Actor::crasher: crash(); break;
    case Actor::bitrot: bitrot(); break;
  }
}

SeedResult Simulation::run() {
  result_.seed = opt_.seed;
  set_canary(opt_.canary);
  note(fmt::format("seed {} events {}", opt_.seed, opt_.events));
  restart(false);
  for (std::uint64_t s = 0; s < swarm_.streams; ++s) {
    schedule(Actor::writer, s, mean_of(Actor::writer));
    schedule(Actor::reader, s, mean_of(Actor::reader));
    schedule(Actor::checkpointer, s, mean_of(Actor::checkpointer));
    schedule(Actor::retention, s, mean_of(Actor::retention));
  }
  for (Actor a : {Actor::syncer, Actor::verifier, Actor::crasher, Actor::bitrot}) schedule(a, 0, mean_of(a));
  while (result_.passed && result_.events < opt_.events && !queue_.empty() && store_) {
    if (!repairs_.empty()) {
      repair_next();
      continue;
    }
    Event e = queue_.top();
    queue_.pop();
    if (e.time_us > clock_.now_us()) clock_.set_us(e.time_us);
    ++result_.events;
    act(e);
    if (!t_property_failure.empty()) fail("property violated: " + t_property_failure);
    schedule(e.actor, e.stream, mean_of(e.actor));
  }
  // The end: one last power loss with every fault family still on, then a full check.
  if (result_.passed && store_) {
    note("final power loss and check");
    final_check_ = true;
    restart(true);
  }
  result_.digest = fs_.trace_digest();
  result_.fs_ops = fs_.ops();
  result_.sim_time_us = clock_.now_us();
  result_.records_acknowledged = oracle_.acknowledged_records();
  for (const fs::FaultRecord& f : fs_.fault_log()) ++result_.faults[static_cast<std::size_t>(f.family)];
  // Every fault family must be exercised somewhere in a campaign (the merged report).
  auto injected = [this](fs::FaultFamily f) { return result_.faults[static_cast<std::size_t>(f)] > 0; };
  SOMETIMES(injected(fs::FaultFamily::lost_write), "sim: a lost unsynced write was injected");
  SOMETIMES(injected(fs::FaultFamily::torn_write), "sim: a torn write was injected");
  SOMETIMES(injected(fs::FaultFamily::extension_garbage), "sim: a size extension survived as zeros or garbage");
  SOMETIMES(injected(fs::FaultFamily::dir_revert), "sim: a directory operation was reverted");
  SOMETIMES(injected(fs::FaultFamily::bit_flip), "sim: damage at rest was injected");
  SOMETIMES(injected(fs::FaultFamily::read_error), "sim: a read error was injected");
  SOMETIMES(injected(fs::FaultFamily::fsync_failure), "sim: an fsync failure was injected");
  SOMETIMES(injected(fs::FaultFamily::write_error), "sim: a write error was injected");
  SOMETIMES(injected(fs::FaultFamily::no_space), "sim: an out-of-space short write was injected");
  SOMETIMES(injected(fs::FaultFamily::misdirected_write), "sim: a misdirected write was injected");
  SOMETIMES(result_.crashes_in_recovery > 0, "sim: a crash landed inside recovery");
  if (opt_.trace) result_.trace = fs_.trace();
  set_canary(Canary::none);
  return result_;
}

}  // namespace

SeedResult run_seed(const SeedOptions& options) {
  t_property_failure.clear();
  Simulation sim(options);
  SeedResult r = sim.run();
  if (r.passed && !t_property_failure.empty()) {
    r.passed = false;
    r.failure = "property violated: " + t_property_failure;
  }
  return r;
}

void install_property_handler() {
  props::set_failure_handler([](const props::Site& site, std::initializer_list<props::Detail> details) {
    if (!t_property_failure.empty()) return;
    std::string text = fmt::format("{}:{}: {} [{}]", site.file(), site.line(), site.message(),
                                   site.condition_text());
    for (const props::Detail& d : details) text += fmt::format(" {}={}", d.key, d.json_value);
    t_property_failure = text;
  });
}

}  // namespace cairn::sim
