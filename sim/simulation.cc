// One seed: the event loop of the world (sim/world.h) and the end-of-seed report.
#include "sim/simulation.h"


#include <algorithm>
#include <iterator>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "core/codec.h"
#include "properties/properties.h"
#include "sim/world.h"

namespace cairn::sim {
namespace {

// Property violations (a false ALWAYS in the core or the simulator) of the seed running
// on this thread.
thread_local std::string t_property_failure;

fs::SimConfig fs_config(const Swarm& s) {
  fs::SimConfig c;
  c.sector_bytes = s.sector_bytes;
  c.lost_writes = s.lost_writes;
  c.lost_write_ppm = s.lost_write_ppm;
  c.torn_writes = s.torn_writes;
  c.torn_write_ppm = s.torn_write_ppm;
  c.extension_garbage = s.extension_garbage;
  c.extension_garbage_ppm = s.extension_garbage_ppm;
  c.dir_reverts = s.dir_reverts;
  c.dir_revert_ppm = s.dir_revert_ppm;
  c.read_errors = s.read_errors;
  c.read_error_ppm = s.read_error_ppm;
  c.read_error_sticky_ppm = s.read_error_sticky_ppm;
  c.fsync_failures = s.fsync_failures;
  c.fsync_failure_ppm = s.fsync_failure_ppm;
  c.write_errors = s.write_errors;
  c.write_error_ppm = s.write_error_ppm;
  c.write_no_space_ppm = s.write_no_space_ppm;
  c.misdirected_writes = s.misdirected_writes;
  c.misdirected_write_ppm = s.misdirected_write_ppm;
  c.latency_min_us = 1;
  c.latency_max_us = s.latency_max_us;
  return c;
}

}  // namespace

const char* actor_name(std::uint8_t actor) {
  static constexpr const char* kNames[] = {"writer",   "reader",  "checkpointer", "syncer",        "retention", "verifier",
                                           "crasher",  "bitrot",  "inspector",    "second_writer", "disk"};
  return actor < std::size(kNames) ? kNames[actor] : "?";
}

World::World(const SeedOptions& o)
    : opt_(o), swarm_(o.swarm), workload_(o.seed), faults_rng_(o.seed ^ 0xfa017'5eedull), clock_(1'000'000'000),
      fs_(fs_config(swarm_), faults_rng_, &clock_), model_(1u << 30),
      observed_(fs_, {&model_, &faults_}, [this](const std::string& p) { return fs_.visible(p); }),
      faults_(fs_, model_, kStoreDir), oracle_(swarm_, model_, faults_, fs_) {
  fs_.set_trace(o.trace);
  workload_.attach(o.tape);
  faults_rng_.attach(o.tape);
  store_options_.max_segment_bytes = swarm_.max_segment_bytes;
  store_options_.index_interval_bytes = swarm_.index_interval_bytes;
  store_options_.checkpoint_interval = swarm_.checkpoint_interval;
  store_options_.sync = parse_sync_policy(swarm_.sync).value();
  store_options_.full_scan_on_open = swarm_.full_scan_on_open;
  store_options_.compression = static_cast<Compression>(*codec::parse(swarm_.compression));
  store_options_.mapped_reads = swarm_.mapped_reads;
  store_options_.verify_threads = swarm_.verify_threads;
  store_options_.recovery_point_interval_bytes = swarm_.recovery_point_interval_bytes;
  store_options_.max_record_bytes = std::max<std::uint32_t>(swarm_.record_bytes_max, 1);
}

void World::fail(std::string why) {
  if (!result_.passed) return;
  result_.passed = false;
  result_.failure = std::move(why);
  note("FAILURE " + result_.failure);
}

void World::schedule(Actor a, std::uint64_t stream) {
  const std::uint64_t delay = workload_.range(1, 2 * std::max<std::uint64_t>(mean_of(a), 1));
  queue_.push(Event{clock_.now_us() + delay, seq_++, a, stream});
}

std::uint64_t World::mean_of(Actor a) const {
  constexpr std::uint64_t kNever = UINT64_MAX / 4;
  switch (a) {
    case Actor::writer: return swarm_.write_interval_us;
    case Actor::reader: return swarm_.read_interval_us;
    case Actor::checkpointer: return swarm_.checkpoint_interval_us;
    case Actor::syncer: return swarm_.sync_interval_us;
    case Actor::retention: return swarm_.purge_interval_us;
    case Actor::verifier: return swarm_.verify_interval_us;
    case Actor::crasher:  // about one crash per 1e6 / crash_ppm writes
      return swarm_.crash_ppm > 0 ? swarm_.write_interval_us * 1'000'000ull / swarm_.crash_ppm : kNever;
    case Actor::bitrot: return swarm_.bitrot_interval_us;
    case Actor::inspector: return swarm_.inspect_interval_us;
    case Actor::second_writer: return swarm_.second_writer_interval_us;
    case Actor::disk:  // about disk_full_ppm per event
      return swarm_.disk_full && swarm_.disk_full_ppm > 0 ? swarm_.write_interval_us * 1'000'000ull / swarm_.disk_full_ppm
                                                          : kNever;
  }
  return 1000;
}

void World::act(const Event& e) {
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
    case Actor::inspector: inspect(); break;
    case Actor::second_writer: second_writer(); break;
    case Actor::disk: disk(); break;
  }
}

void World::mark(const char* actor, std::uint64_t stream) {
  if (!opt_.trace) return;
  EventMark m{result_.events, fs_.trace().size(), clock_.now_us(), actor, stream, {}, {}};
  for (const auto& [id, s] : oracle_.streams()) {
    m.acknowledged.push_back(s.acked.size());
    m.durable.push_back(s.durable);
  }
  result_.marks.push_back(std::move(m));
}

// One actor event, its choices a span of the tape (what a shrinker deletes whole).
void World::step(const Event& e) {
  DecisionTape* tape = opt_.tape;
  const std::size_t span = tape != nullptr ? tape->begin_span(actor_name(static_cast<std::uint8_t>(e.actor))) : 0;
  if (e.time_us > clock_.now_us()) clock_.set_us(e.time_us);
  ++result_.events;
  mark(actor_name(static_cast<std::uint8_t>(e.actor)), e.stream);
  act(e);
  if (!t_property_failure.empty()) fail("property violated: " + t_property_failure);
  schedule(e.actor, e.stream);
  if (disk_full_left_ > 0 && --disk_full_left_ == 0) {
    fs_.set_disk_full(false);
    note("the disk has space again");
  }
  if (hold_left_ > 0 && --hold_left_ == 0 && store_) restart(workload_.coin());
  if (tape != nullptr) tape->end_span(span);
}

SeedResult World::run() {
  result_.seed = opt_.seed;
  set_canary(opt_.canary);
  mark("start", 0);
  note(fmt::format("seed {} events {}", opt_.seed, opt_.events));
  restart(false);
  for (std::uint64_t s = 0; s < swarm_.streams; ++s) {
    for (Actor a : {Actor::writer, Actor::reader, Actor::checkpointer, Actor::retention}) schedule(a, s);
  }
  for (Actor a : {Actor::syncer, Actor::verifier, Actor::crasher, Actor::bitrot, Actor::inspector,
                  Actor::second_writer, Actor::disk}) {
    schedule(a, 0);
  }
  while (result_.passed && result_.events < opt_.events && !queue_.empty() && store_) {
    if (!repairs_.empty() && !store_->fail_stopped()) {
      repair_next();
      continue;
    }
    const Event e = queue_.top();
    queue_.pop();
    step(e);
  }
  if (result_.passed && store_) {
    mark("liveness", 0);
    liveness();
  }
  finish();
  set_canary(Canary::none);
  return result_;
}

void World::finish() {
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
}

namespace {

// With a tape the swarm is its first choices, then the overrides.
Swarm draw_swarm(const SeedOptions& o, DecisionTape* tape) {
  if (tape == nullptr) return o.swarm;
  Swarm s = Swarm::from_seed(o.seed, tape);
  for (const std::string& kv : o.overrides) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) (void)s.set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return s;
}

}  // namespace

DecisionTape tape_for(const SeedOptions& o) {
  if (o.replay_values) return DecisionTape::replaying(*o.replay_values);
  if (o.replay_bytes) {
    return DecisionTape::from_bytes(reinterpret_cast<const std::uint8_t*>(o.replay_bytes->data()), o.replay_bytes->size());
  }
  return DecisionTape::recording();
}

Swarm swarm_of(const SeedOptions& options) {
  if (!options.replay_values && !options.replay_bytes) return options.swarm;
  DecisionTape tape = tape_for(options);
  return draw_swarm(options, &tape);
}

std::uint64_t faults_injected(const SeedResult& r) {
  return std::accumulate(r.faults.begin(), r.faults.end(), std::uint64_t{0});
}

SeedResult run_seed(const SeedOptions& options) {
  t_property_failure.clear();
  SeedOptions o = options;
  std::optional<DecisionTape> own;
  if (o.tape == nullptr && (o.replay_values || o.replay_bytes)) own = tape_for(o);
  if (own) o.tape = &*own;
  o.swarm = draw_swarm(o, o.tape);
  auto world = std::make_unique<World>(o);
  SeedResult r = world->run();
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
