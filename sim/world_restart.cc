// Power loss, clean close, reopen (with other options now and then), crashes inside
// recovery, and the end-of-seed liveness check.
#include <algorithm>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/world.h"

namespace cairn::sim {
namespace {

constexpr int kOpenAttempts = 20;
constexpr int kCalmAfter = 10;  // attempts after which transient I/O faults pause for one open

}  // namespace

void World::restart(bool power_loss, bool after_clean_close) {
  oracle_.crashing(power_loss);
  store_.reset();
  in_flight_.clear();
  hold_left_ = 0;
  if (power_loss) {
    ++result_.crashes;
    note(fmt::format("restart after power loss ({})", fs_.powered_off() ? fs_.power_off_op() : "now"));
    fs_.restart();
    faults_.absorb(fs_.fault_log());
    model_.crash();
  } else {
    note("reopen without power loss");
  }
  if (workload_.chance_ppm(swarm_.reopen_options_ppm)) draw_reopen_options();
  bool crashed = power_loss;
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    bool retry = false;
    bool lost_power = false;
    if (open_once(attempt, retry, lost_power)) return after_open(crashed, after_clean_close);
    crashed = crashed || lost_power;
    if (!retry) return;
  }
  fail(fmt::format("the store could not be reopened after {} attempts", kOpenAttempts));
}

// One open. Returns true when the store is open; otherwise `retry` says whether another
// attempt makes sense and `lost_power` whether power failed inside recovery.
bool World::open_once(int attempt, bool& retry, bool& lost_power) {
  if (workload_.chance_ppm(swarm_.crash_in_recovery_ppm)) fs_.arm_power_off(workload_.range(1, 40));
  // After repeated I/O failures the operator fixes the hardware: this one open runs
  // without transient I/O faults (a store that cannot be read cannot be judged).
  const fs::SimConfig saved = fs_.config();
  if (attempt >= kCalmAfter) {
    note("open keeps failing: transient I/O faults off for this attempt");
    fs_.mutable_config().read_errors = false;
    fs_.mutable_config().write_errors = false;
    fs_.mutable_config().fsync_failures = false;
  }
  auto opened = Store::open(observed_, clock_, kStoreDir, store_options_);
  fs_.mutable_config() = saved;
  if (fs_.powered_off()) {
    ++result_.crashes_in_recovery;
    REACHABLE("sim: power lost during recovery");
    note("power lost during recovery");
    oracle_.crashing(true);
    oracle_.recovery_interrupted();
    if (opened.ok()) opened.value().reset();
    fs_.restart();
    faults_.absorb(fs_.fault_log());
    model_.crash();
    retry = lost_power = true;
    return false;
  }
  fs_.disarm_power_off();
  if (opened.ok()) {
    store_ = std::move(opened).value();
    return true;
  }
  const Error& e = opened.error();
  if ((e.code == Errc::io_error || e.code == Errc::no_space) && attempt + 1 < kOpenAttempts) {
    note("open failed (" + e.to_string() + "); replacing bad sectors, freeing space and retrying");
    oracle_.recovery_interrupted();  // what that open cut, its report went with it
    fs_.clear_sticky_read_errors();
    faults_.sectors_replaced();
    fs_.set_disk_full(false);
    disk_full_left_ = 0;
    retry = true;
    return false;
  }
  fail("the store could not be reopened: " + e.to_string());
  return false;
}

void World::after_open(bool crashed, bool after_clean_close) {
  faults_.absorb(fs_.fault_log());
  const RecoveryReport& rep = store_->recovery_report();
  note(fmt::format("recovered: {} torn tails, {} damage findings", rep.torn_tails.size(), rep.damage.size()));
  for (const TornTail& t : rep.torn_tails) {
    note(fmt::format("  torn tail: stream {} {} cut at byte {}: {} bytes, {} records from offset {}, {} possibly "
                     "acknowledged",
                     t.stream, t.segment, t.byte_pos, t.bytes_dropped, t.records_dropped, t.first_offset_dropped,
                     t.possibly_acknowledged));
    // After a clean close everything was synced: nothing can be torn but what a fault
    // touched at rest.
    if (after_clean_close && !faults_.any_touched(t.stream, 0, UINT64_MAX) && !faults_.file_touched(t.stream, t.segment)) {
      return fail(fmt::format("stream {}: recovery cut a torn tail after a clean close ({} at byte {})", t.stream,
                              t.segment, t.byte_pos));
    }
  }
  for (const Finding& f : rep.damage) note("  damage: " + f.to_string());
  for (const std::string& i : rep.invalid_indexes) note("  invalid index: " + i);
  for (const std::string& a : rep.actions) note("  action: " + a);
  for (std::uint64_t id : store_->streams()) {
    auto st = store_->stats(id);
    if (st.ok()) {
      note(fmt::format("  stream {}: offsets {}..{}, {} segments", id, st->first_offset, st->next_offset, st->segments));
    }
  }
  if (!rep.torn_tails.empty()) REACHABLE("sim: recovery truncated a torn tail");
  if (!rep.damage.empty()) REACHABLE("sim: recovery reported damage");
  std::string why = oracle_.check_recovery(*store_, final_check_, crashed);
  if (why.empty()) why = oracle_.check_proofs(*store_, "after a recovery");
  if (!why.empty()) return fail(why);
  // The operator repairs every stream open refused to append to, and now and then one
  // with other damage.
  repairs_.clear();
  blocked_ = rep.blocked_streams;
  for (std::uint64_t id : rep.blocked_streams) repairs_.push_back(id);
  for (const Finding& f : rep.damage) {
    if (f.kind == FindingKind::damage && std::find(repairs_.begin(), repairs_.end(), f.stream) == repairs_.end() &&
        workload_.chance_ppm(swarm_.repair_ppm)) {
      repairs_.push_back(f.stream);
    }
  }
}

// Reopening with other options: segment size, sync policy and record limit (a limit
// below records already written must still read them back).
void World::draw_reopen_options() {
  store_options_.max_segment_bytes = workload_.range(512, 16384);
  switch (workload_.below(4)) {
    case 0: store_options_.sync = SyncPolicy{SyncMode::always, 0, 0}; break;
    case 1: store_options_.sync = SyncPolicy{SyncMode::every, workload_.range(2, 16), 0}; break;
    case 2: store_options_.sync = SyncPolicy{SyncMode::every, 0, workload_.range(200, 4000)}; break;
    default: store_options_.sync = SyncPolicy{SyncMode::manual, 0, 0}; break;
  }
  const std::uint64_t top = std::max<std::uint32_t>(swarm_.record_bytes_max, 1);
  store_options_.max_record_bytes = static_cast<std::uint32_t>(workload_.range(std::max<std::uint64_t>(top / 2, 1), 2 * top));
  note(fmt::format("reopen with max_segment_bytes {}, sync {}, max_record_bytes {}", store_options_.max_segment_bytes,
                   to_string(store_options_.sync), store_options_.max_record_bytes));
  REACHABLE("sim: the store was reopened with other options");
}

// After each operation: power lost inside it, or an fsync failure the store must have
// turned into fail-stop; a fail-stopped store stays open a while (its refusals checked),
// then is reopened with or without a power loss.
void World::after_op(const char* what, std::uint64_t fsync_failures_before) {
  faults_.absorb(fs_.fault_log());
  faults_.settle();
  if (fs_.powered_off()) {
    const std::string& op = fs_.power_off_op();
    if (op.find(".tmp") != std::string::npos || op.rfind("rename", 0) == 0) {
      REACHABLE("sim: power lost while replacing a metadata file");
    }
    return restart(true);
  }
  if (!store_) return;
  if (fsync_failures() > fsync_failures_before && !store_->fail_stopped()) {
    return fail(fmt::format("{}: an fsync failed but the store did not become fail-stop", what));
  }
  if (!store_->fail_stopped() || hold_left_ > 0) return;
  hold_left_ = swarm_.fail_stop_hold_events;
  if (hold_left_ == 0) return restart(workload_.coin());
  note(fmt::format("fail-stop: the store stays open for {} events", hold_left_));
}

// A crash event: power loss now, within a window of operations, or right after a clean
// close.
void World::crash() {
  if (workload_.chance_ppm(swarm_.close_crash_ppm) && !store_->fail_stopped()) {
    const auto fsync_before = fsync_failures();
    Status st = store_->close();
    note(std::string("clean close: ") + (st.ok() ? "ok" : st.error().to_string()));
    if (fs_.powered_off()) return after_op("close", fsync_before);
    if (st.ok()) {
      std::string why = oracle_.after_sync(*store_);
      if (!why.empty()) return fail("after a clean close: " + why);
      REACHABLE("sim: power lost after a clean close");
    }
    return restart(true, st.ok());
  }
  if (workload_.coin()) {
    note("power loss now");
    fs_.arm_power_off(1);  // the next filesystem operation is the moment
    return;
  }
  const std::uint64_t n = workload_.range(1, std::max<std::uint32_t>(swarm_.power_off_window_ops, 1));
  note(fmt::format("power loss armed in {} operations", n));
  fs_.arm_power_off(n);
}

// The end of a seed: one last power loss with every fault family on; then the faults
// stop and the store must, within a stated bound (one open, one repair per stream with
// damage, then one append, one sync and one read per stream, each succeeding the first
// time), reopen, accept an append and serve it back verified; the oracle reads every
// record back and checks the files by FORMAT.md.
void World::liveness() {
  note("final power loss and check");
  final_check_ = true;
  oracle_.crashing(true);
  store_.reset();
  in_flight_.clear();
  ++result_.crashes;
  fs_.disarm_power_off();
  fs_.restart();
  faults_.absorb(fs_.fault_log());
  model_.crash();
  fs::SimConfig calm = fs_.config();
  calm.read_errors = calm.write_errors = calm.fsync_failures = calm.misdirected_writes = false;
  fs_.mutable_config() = calm;
  fs_.set_disk_full(false);
  fs_.clear_sticky_read_errors();
  faults_.sectors_replaced();
  auto opened = Store::open(observed_, clock_, kStoreDir, store_options_);
  if (!opened.ok()) return fail("with the faults stopped the store refused to open: " + opened.error().to_string());
  store_ = std::move(opened).value();
  after_open(true, false);
  // The operator repairs every stream with damage (a read across it fails until then).
  for (const Finding& f : store_->recovery_report().damage) {
    if (f.kind == FindingKind::damage && std::find(repairs_.begin(), repairs_.end(), f.stream) == repairs_.end()) {
      repairs_.push_back(f.stream);
    }
  }
  while (result_.passed && !repairs_.empty()) {
    const std::uint64_t stream = repairs_.back();
    auto done = store_->repair(stream);
    if (!done.ok()) return fail(fmt::format("stream {}: with the faults stopped, repair failed: {}", stream, done.error().to_string()));
    repairs_.pop_back();
    std::string why = oracle_.repaired(stream, *done);
    if (!why.empty()) return fail(why);
  }
  for (std::uint64_t s = 0; s < swarm_.streams && result_.passed; ++s) {
    const Bytes payload(1, static_cast<std::uint8_t>(0xa0 + s));
    const std::uint64_t since = faults_.seq();
    auto r = store_->append(s, payload);
    if (!r.ok()) return fail(fmt::format("stream {}: with the faults stopped, an append failed: {}", s, r.error().to_string()));
    oracle_.append_ok(s, {payload}, *r, since);
    if (Status st = store_->sync(); !st.ok()) return fail("with the faults stopped, sync failed: " + st.error().to_string());
    std::string why = oracle_.after_sync(*store_);
    auto back = store_->read(s, r->first_offset, 1);
    if (why.empty()) why = oracle_.check_read(s, r->first_offset, back, false);
    if (why.empty() && (!back.ok() || back->empty() || back->front().offset != r->first_offset)) {
      why = fmt::format("stream {}: the record just appended at {} does not read back", s, r->first_offset);
    }
    if (!why.empty()) return fail("with the faults stopped: " + why);
  }
  REACHABLE("sim: the store reopened, appended and read back once the faults stopped");
}

}  // namespace cairn::sim
