// The workload and the users around the store: writers, readers, checkpoints, syncs,
// retention, verify, the operator's repairs, a read-only inspector beside the writer, a
// second writer that must be refused, and a disk that fills up for a while.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/world.h"

namespace cairn::sim {

bool World::blocked(std::uint64_t stream) const {
  return std::find(blocked_.begin(), blocked_.end(), stream) != blocked_.end();
}

std::vector<Bytes> World::draw_batch() {
  const std::uint64_t n = workload_.range(1, std::max<std::uint32_t>(swarm_.batch_max, 1));
  const std::uint64_t top = std::min<std::uint64_t>(std::max(swarm_.record_bytes_min, swarm_.record_bytes_max),
                                                    store_options_.max_record_bytes);
  std::vector<Bytes> batch;
  for (std::uint64_t i = 0; i < n; ++i) {
    Bytes p(workload_.range(std::min<std::uint64_t>(swarm_.record_bytes_min, top), top));
    // Eight payload bytes per draw; with compression on, each drawn word fills 32 bytes,
    // so that payloads compress (and some short ones still do not).
    const std::size_t stride = swarm_.compression == "none" ? 8 : 32;
    for (std::size_t at = 0; at < p.size(); at += stride) {
      const std::uint64_t word = workload_.next_u64();
      for (std::size_t k = at; k < std::min(p.size(), at + stride); k += 8) {
        std::memcpy(p.data() + k, &word, std::min<std::size_t>(8, p.size() - k));
      }
    }
    batch.push_back(std::move(p));
  }
  return batch;
}

// A fail-stopped store refuses writes with fail_stopped and touches nothing.
void World::refused_write(std::uint64_t stream, const std::vector<Bytes>& batch) {
  const std::uint64_t before = model_.mutations();
  auto r = store_->append(stream, batch);
  if (r.ok()) return fail("an append succeeded on a fail-stopped store");
  if (r.error().code != Errc::fail_stopped) return fail("a fail-stopped store refused an append with " + r.error().to_string());
  if (model_.mutations() != before) return fail("a fail-stopped store wrote to its files while refusing an append");
  oracle_.append_failed(stream, batch, false);
  REACHABLE("sim: a fail-stopped store refused a write");
}

void World::write(std::uint64_t stream) {
  std::vector<Bytes> batch = draw_batch();
  if (store_->fail_stopped()) return refused_write(stream, batch);
  const auto fsync_before = fsync_failures();
  const std::size_t faults_before = fs_.fault_log().size();
  const std::uint64_t since = faults_.seq();
  const bool pipelined = swarm_.pipelined_ppm > 0 && workload_.chance_ppm(swarm_.pipelined_ppm);
  auto r = pipelined ? store_->append_pipelined(stream, batch) : store_->append(stream, batch);
  bool wait_now = false;
  if (r.ok()) {
    oracle_.append_ok(stream, batch, *r, since);
    std::string why = pipelined ? after_pipelined(stream, *r) : oracle_.after_append(*store_, stream, *r, store_options_.sync);
    if (!why.empty()) return fail(why);
    note(fmt::format("{} stream {} offsets {}..{} ok", pipelined ? "append_pipelined" : "append", stream, r->first_offset,
                     r->last_offset));
    wait_now = pipelined && workload_.below(4) == 0;
  } else {
    const Error& e = r.error();
    note(fmt::format("append stream {} x{} failed: {}", stream, batch.size(), e.to_string()));
    const bool faulted = fs_.fault_log().size() > faults_before || fs_.powered_off();
    const bool is_blocked = blocked(stream);
    if (!((e.code == Errc::io_error || e.code == Errc::no_space) && faulted) && !(e.code == Errc::corruption && is_blocked)) {
      return fail("append failed with no fault to explain it: " + e.to_string());
    }
    if (is_blocked && std::find(repairs_.begin(), repairs_.end(), stream) == repairs_.end()) {
      repairs_.push_back(stream);  // the operator tries the repair again
    }
    if (e.code == Errc::no_space) REACHABLE("sim: an append ran out of space");
    oracle_.append_failed(stream, batch, fs_.powered_off() || store_->fail_stopped());
  }
  after_op("append", fsync_before);
  if (wait_now) wait_durable(stream);  // after_op may have reopened the store: then nothing is in flight
}

std::string World::after_pipelined(std::uint64_t stream, const AppendResult& r) {
  std::string why;
  if (auto it = in_flight_.find(stream); it != in_flight_.end()) {
    why = oracle_.after_pipelined(*store_, stream, it->second + 1, "the next pipelined append");
  }
  if (why.empty()) why = oracle_.check_claims(*store_);
  in_flight_[stream] = r.checkpoint_offset ? *r.checkpoint_offset : r.last_offset;
  return why;
}

void World::wait_durable(std::uint64_t stream) {
  auto it = in_flight_.find(stream);
  if (it == in_flight_.end()) return;
  const std::uint64_t last = it->second;
  in_flight_.erase(it);
  const auto fsync_before = fsync_failures();
  const std::size_t faults_before = fs_.fault_log().size();
  Status st = store_->wait_durable(stream, last);
  note(fmt::format("wait_durable stream {} offset {}: {}", stream, last, st.ok() ? "ok" : st.error().to_string()));
  if (st.ok()) {
    std::string why = oracle_.after_pipelined(*store_, stream, last + 1, "wait_durable");
    if (!why.empty()) return fail(why);
  } else {
    const bool faulted = fs_.fault_log().size() > faults_before || fs_.powered_off();
    const bool refused = st.error().code == Errc::fail_stopped && store_->fail_stopped();
    const bool full = st.error().code == Errc::no_space && fs_.disk_full();  // the recovery point's manifest
    const bool io = st.error().code == Errc::io_error || st.error().code == Errc::no_space;
    if (!(io && faulted) && !refused && !full) {
      return fail("wait_durable failed with no fault to explain it: " + st.error().to_string());
    }
  }
  after_op("wait_durable", fsync_before);
}

void World::read(std::uint64_t stream) {
  auto st = store_->stats(stream);
  if (!st.ok()) return;
  const std::uint64_t span = st->next_offset - st->first_offset;
  const std::uint64_t from = st->first_offset + workload_.below(span + 1);
  const std::uint64_t max_bytes = workload_.range(0, 4096);
  const auto reads_before = read_errors();
  auto done = [&](const Result<std::vector<Record>>& r, std::uint64_t at, const char* how) {
    if (fs_.powered_off()) return after_op("read", fsync_failures());
    if (!r.ok() && r.error().code == Errc::fail_stopped && store_->fail_stopped()) return;  // a failed repair's stale view
    std::string why = oracle_.check_read(stream, at, r, read_errors() > reads_before);
    if (!why.empty()) return fail(why);
    note(fmt::format("{} stream {} from {} -> {}", how, stream, at,
                     r.ok() ? std::to_string(r->size()) + " records" : r.error().to_string()));
    after_op("read", fsync_failures());
  };
  if (workload_.below(4) != 0 || span == 0) return done(store_->read(stream, from, max_bytes), from, "read");
  // Read by time: the timestamp of `from` first, then the lookup must land at or before
  // it, just after the last record older than it (timestamps as the store wrote them).
  auto probe = store_->read(stream, from, 0);
  if (!probe.ok() || probe->empty()) return done(probe, from, "read");
  const std::uint64_t t = probe->front().timestamp_us;
  auto at = store_->offset_for_time(stream, t);
  if (!at.ok()) return done(std::move(at).error(), from, "offset_for_time");
  std::string why = oracle_.check_time_lookup(stream, t, from, *at);
  if (!why.empty()) return fail(why);
  done(store_->read(stream, *at, max_bytes), *at, "read_by_time");
}

void World::checkpoint(std::uint64_t stream) {
  const std::uint64_t mutations = model_.mutations();
  const bool stopped = store_->fail_stopped();
  const auto fsync_before = fsync_failures();
  const std::size_t faults_before = fs_.fault_log().size();
  const std::uint64_t since = faults_.seq();
  auto r = store_->checkpoint(stream);
  if (stopped) {
    if (r.ok() || r.error().code != Errc::fail_stopped || model_.mutations() != mutations) {
      return fail("a fail-stopped store did not refuse a checkpoint cleanly");
    }
    return;
  }
  if (r.ok()) {
    oracle_.checkpoint_ok(stream, *r, since);
    std::string why = oracle_.after_append(*store_, stream, AppendResult{*r, *r, std::nullopt}, store_options_.sync);
    if (!why.empty()) return fail(why);
    note(fmt::format("checkpoint stream {} at {}", stream, *r));
  } else if (r.error().code != Errc::not_found) {
    const bool faulted = fs_.fault_log().size() > faults_before || fs_.powered_off();
    if (!faulted && !(r.error().code == Errc::corruption && blocked(stream))) {
      return fail("checkpoint failed with no fault to explain it: " + r.error().to_string());
    }
    oracle_.checkpoint_failed(stream, fs_.powered_off() || store_->fail_stopped());
    note("checkpoint failed: " + r.error().to_string());
  }
  after_op("checkpoint", fsync_before);
}

void World::sync() {
  const std::uint64_t mutations = model_.mutations();
  const bool stopped = store_->fail_stopped();
  const auto fsync_before = fsync_failures();
  Status st = store_->sync();
  note(std::string("sync ") + (st.ok() ? "ok" : st.error().to_string()));
  if (stopped) {
    if (st.ok() || st.error().code != Errc::fail_stopped || model_.mutations() != mutations) {
      return fail("a fail-stopped store did not refuse a sync cleanly (a failed fsync must never be retried)");
    }
    return;
  }
  if (st.ok()) {
    std::string why = oracle_.after_sync(*store_);
    if (!why.empty()) return fail(why);
  }
  after_op("sync", fsync_before);
}

void World::purge(std::uint64_t stream) {
  if (store_->fail_stopped()) return;
  const auto fsync_before = fsync_failures();
  PurgeOptions p;
  if (workload_.coin()) {
    p.max_total_bytes = workload_.range(swarm_.max_segment_bytes, 6 * swarm_.max_segment_bytes);
  } else {
    p.older_than_us = workload_.range(1000, 200'000);
  }
  const std::uint64_t now = clock_.now_us();
  const Oracle::PurgePlan plan = oracle_.plan_purge(stream, p, now);
  oracle_.purge_started(stream, plan.eligible > 0 ? plan.before[plan.eligible].base : 0);
  auto r = store_->purge(stream, p);
  if (r.ok()) {
    auto st = store_->stats(stream);
    if (st.ok()) {
      std::string why = oracle_.purge_ok(stream, p, now, plan, *st);
      if (why.empty()) why = oracle_.check_proofs(*store_, "after a purge");
      if (!why.empty()) return fail(why);
    }
    note(fmt::format("purge stream {}: {} segments", stream, r->segments_removed));
  } else {
    note("purge failed: " + r.error().to_string());
  }
  after_op("purge", fsync_before);
}

void World::verify() {
  const auto reads_before = read_errors();
  auto r = store_->verify();
  if (fs_.powered_off()) return after_op("verify", fsync_failures());
  if (!r.ok() && r.error().code == Errc::fail_stopped && store_->fail_stopped()) return;  // a failed repair's stale view
  std::string why = oracle_.check_verify(r, read_errors() > reads_before);
  if (!why.empty()) return fail(why);
  note(fmt::format("verify: {}", r.ok() ? std::to_string(r->findings.size()) + " findings" : r.error().to_string()));
  after_op("verify", fsync_failures());
}

// The operator's repair: a dry run first, so the oracle knows what may go if power fails
// inside the repair itself, then the repair.
void World::repair_next() {
  const std::uint64_t stream = repairs_.back();
  repairs_.pop_back();
  const auto fsync_before = fsync_failures();
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

// `cairn stat` / `cairn verify` beside the live writer: a read-only open that must see
// what the writer holds, report only damage a fault explains, and write nothing.
void World::inspect() {
  if (store_->fail_stopped()) return;
  const std::uint64_t mutations = model_.mutations();
  const auto reads_before = read_errors();
  Options ro = store_options_;
  ro.read_only = true;
  auto opened = Store::open(observed_, clock_, kStoreDir, ro);
  if (fs_.powered_off()) return after_op("inspect", fsync_failures());
  if (model_.mutations() != mutations) return fail("a read-only open changed the store's files");
  if (!opened.ok()) {
    faults_.absorb(fs_.fault_log());
    const bool explained =
        opened.error().code == Errc::io_error && (read_errors() > reads_before || faults_.any_unreadable());
    if (!explained) return fail("a read-only open beside the writer failed: " + opened.error().to_string());
    return note("inspect: " + opened.error().to_string());
  }
  Store& inspector = **opened;
  std::string why = oracle_.check_inspection(inspector, blocked_);
  if (why.empty() && workload_.below(4) == 0) {  // `cairn verify` beside the writer, one inspection in four
    const auto reads_mid = read_errors();
    auto report = inspector.verify();
    why = oracle_.check_verify(report, read_errors() > reads_mid);
  }
  if (fs_.powered_off()) return after_op("inspect", fsync_failures());
  if (why.empty() && model_.mutations() != mutations) why = "a read-only store wrote to the files while inspecting";
  if (!why.empty()) return fail("read-only inspection beside the writer: " + why);
  (void)inspector.close();
  note("inspect: a read-only open saw what the writer holds");
  REACHABLE("sim: a read-only inspection ran beside the writer");
  after_op("inspect", fsync_failures());
}

// A second writer must be refused (the lock) and must change nothing.
void World::second_writer() {
  const std::uint64_t mutations = model_.mutations();
  auto opened = Store::open(observed_, clock_, kStoreDir, store_options_);
  if (fs_.powered_off()) return after_op("second writer", fsync_failures());
  if (opened.ok()) return fail("a second writer opened the store beside a live one");
  if (opened.error().code != Errc::locked) return fail("a second writer was refused with " + opened.error().to_string());
  if (model_.mutations() != mutations) return fail("a refused second writer changed the store's files");
  note("second writer refused: " + opened.error().to_string());
  REACHABLE("sim: a second writer was refused");
}

void World::disk() {
  if (!swarm_.disk_full || fs_.disk_full()) return;
  fs_.set_disk_full(true);
  disk_full_left_ = std::max<std::uint32_t>(swarm_.disk_full_events, 1);
  note(fmt::format("the disk is full for {} events", disk_full_left_));
  REACHABLE("sim: the disk filled up for a while");
}

}  // namespace cairn::sim
