#include "sim/swarm.h"


#include <functional>

#include <fmt/format.h>

#include "core/codec.h"
#include "core/store.h"
#include "simfs/prng.h"

namespace cairn::sim {
namespace {

// One entry per field: its name, range and meaning, how to print it and how to parse it.
struct Field {
  const char* name;
  std::string range;
  const char* meaning;
  std::function<std::string(const Swarm&)> get;
  std::function<bool(Swarm&, const std::string&)> set;
};

template <typename T>
Field num(const char* name, T Swarm::*member, std::uint64_t lo, std::uint64_t hi, const char* meaning) {
  return Field{name, fmt::format("{}..{}", lo, hi), meaning,
               [member](const Swarm& s) { return std::to_string(s.*member); },
               [member, lo, hi](Swarm& s, const std::string& v) {
                 if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) return false;
                 const std::uint64_t x = std::stoull(v);
                 if (x < lo || x > hi) return false;
                 s.*member = static_cast<T>(x);
                 return true;
               }};
}

Field flag(const char* name, bool Swarm::*member, const char* meaning) {
  return Field{name, "on|off", meaning, [member](const Swarm& s) { return std::string(s.*member ? "on" : "off"); },
               [member](Swarm& s, const std::string& v) {
                 if (v != "on" && v != "off") return false;
                 s.*member = v == "on";
                 return true;
               }};
}

constexpr std::uint64_t kPpm = 1'000'000;
constexpr std::uint64_t kUsMax = 10'000'000'000ull;

std::vector<Field> fault_fields() {
  return {
      flag("lost_writes", &Swarm::lost_writes, "a crash may drop writes made since the last sync"),
      num("lost_write_ppm", &Swarm::lost_write_ppm, 0, kPpm, "chance per pending write at a crash"),
      flag("torn_writes", &Swarm::torn_writes, "a crash may keep any subset of a pending write's sectors"),
      num("torn_write_ppm", &Swarm::torn_write_ppm, 0, kPpm, "chance per pending write at a crash"),
      flag("extension_garbage", &Swarm::extension_garbage, "a dropped write's size extension may survive as zeros or garbage"),
      num("extension_garbage_ppm", &Swarm::extension_garbage_ppm, 0, kPpm, "chance per dropped extension"),
      flag("dir_reverts", &Swarm::dir_reverts, "a crash may revert creates, renames, unlinks not yet synced"),
      num("dir_revert_ppm", &Swarm::dir_revert_ppm, 0, kPpm, "chance per pending entry operation"),
      flag("read_errors", &Swarm::read_errors, "pread may fail with EIO on a sector"),
      num("read_error_ppm", &Swarm::read_error_ppm, 0, kPpm, "chance per pread"),
      num("read_error_sticky_ppm", &Swarm::read_error_sticky_ppm, 0, kPpm, "share of read errors that keep failing until the sector is replaced"),
      flag("fsync_failures", &Swarm::fsync_failures, "sync and sync_dir may fail with EIO (the pending data or entries become indeterminate)"),
      num("fsync_failure_ppm", &Swarm::fsync_failure_ppm, 0, kPpm, "chance per sync or sync_dir"),
      flag("write_errors", &Swarm::write_errors, "pwrite may fail with EIO or come back short before ENOSPC"),
      num("write_error_ppm", &Swarm::write_error_ppm, 0, kPpm, "chance per pwrite"),
      num("write_no_space_ppm", &Swarm::write_no_space_ppm, 0, kPpm, "share of write errors that are a short write then ENOSPC"),
      flag("misdirected_writes", &Swarm::misdirected_writes, "a pwrite may land 1-4 sectors away and report success"),
      num("misdirected_write_ppm", &Swarm::misdirected_write_ppm, 0, kPpm, "chance per pwrite"),
      num("sector_bytes", &Swarm::sector_bytes, 512, 4096, "sector size of torn writes, read errors, misdirection (512 or 4096)"),
      flag("disk_full", &Swarm::disk_full, "the disk may fill up for a while: every write fails with ENOSPC"),
      num("disk_full_ppm", &Swarm::disk_full_ppm, 0, kPpm, "chance per event that the disk fills up"),
      num("disk_full_events", &Swarm::disk_full_events, 0, 1000, "events the disk stays full"),
      flag("bit_flips", &Swarm::bit_flips, "the bit-rot actor flips bits of durable files"),
      flag("tampering", &Swarm::tampering, "the bit-rot actor edits a payload byte and fixes the frame's CRC"),
      flag("index_lies", &Swarm::index_lies, "the bit-rot actor rewrites a sidecar entry to lie, with a valid CRC"),
      num("edge_damage_ppm", &Swarm::edge_damage_ppm, 0, kPpm, "share of bit flips aimed at frame edges (length, CRC, header fields, last byte, segment header)"),
  };
}

std::vector<Field> crash_fields() {
  return {
      num("crash_ppm", &Swarm::crash_ppm, 0, kPpm, "chance per event of a crash (in writes: mean interval = write interval / rate)"),
      num("crash_in_recovery_ppm", &Swarm::crash_in_recovery_ppm, 0, kPpm, "chance that a restart loses power again inside recovery"),
      num("power_off_window_ops", &Swarm::power_off_window_ops, 1, 100000, "a crash lands within this many filesystem operations"),
      num("close_crash_ppm", &Swarm::close_crash_ppm, 0, kPpm, "share of crashes that come right after a clean close"),
      num("reopen_options_ppm", &Swarm::reopen_options_ppm, 0, kPpm, "share of restarts that reopen with other options (segment size, sync policy, record limit)"),
      num("fail_stop_hold_events", &Swarm::fail_stop_hold_events, 0, 1000, "events a fail-stopped store stays open, its refused writes checked"),
      num("repair_ppm", &Swarm::repair_ppm, 0, kPpm, "chance the operator repairs a stream whose damage does not block appends"),
  };
}

std::vector<Field> workload_fields() {
  return {
      num("streams", &Swarm::streams, 1, 64, "streams written"),
      num("record_bytes_min", &Swarm::record_bytes_min, 0, 1u << 20, "smallest payload"),
      num("record_bytes_max", &Swarm::record_bytes_max, 0, 1u << 20, "largest payload"),
      num("batch_max", &Swarm::batch_max, 1, 4096, "records per atomic batch, at most"),
      num("max_segment_bytes", &Swarm::max_segment_bytes, 140, 1ull << 32, "segment rotation size"),
      num("index_interval_bytes", &Swarm::index_interval_bytes, 1, 1ull << 32, "sparse index spacing"),
      num("checkpoint_interval", &Swarm::checkpoint_interval, 0, 1ull << 32, "a checkpoint record every N records (0: none)"),
      num("recovery_point_interval_bytes", &Swarm::recovery_point_interval_bytes, 1, 1ull << 40, "bytes a sync may leave the recovery point behind"),
      Field{"sync", "always|manual|every:N|every:Nb", "sync policy",
            [](const Swarm& s) { return s.sync; },
            [](Swarm& s, const std::string& v) {
              if (!parse_sync_policy(v).ok()) return false;
              s.sync = v;
              return true;
            }},
      flag("full_scan_on_open", &Swarm::full_scan_on_open, "scan every sealed segment at open"),
      Field{"compression", "none|lz4|zstd", "per-record compression of payloads (on: payloads that compress)",
            [](const Swarm& s) { return s.compression; },
            [](Swarm& s, const std::string& v) {
              if (!codec::parse(v)) return false;
              s.compression = v;
              return true;
            }},
      flag("mapped_reads", &Swarm::mapped_reads, "read sealed segments through File::map"),
      num("pipelined_ppm", &Swarm::pipelined_ppm, 0, kPpm, "share of appends made with append_pipelined"),
      num("verify_threads", &Swarm::verify_threads, 1, 64, "threads hashing during verify() (not drawn: 1 unless set)"),
      num("write_interval_us", &Swarm::write_interval_us, 1, kUsMax, "mean interval of a stream's appends"),
      num("read_interval_us", &Swarm::read_interval_us, 1, kUsMax, "mean interval of a stream's reads"),
      num("checkpoint_interval_us", &Swarm::checkpoint_interval_us, 1, kUsMax, "mean interval of explicit checkpoints"),
      num("sync_interval_us", &Swarm::sync_interval_us, 1, kUsMax, "mean interval of sync()"),
      num("purge_interval_us", &Swarm::purge_interval_us, 1, kUsMax, "mean interval of a stream's purges"),
      num("verify_interval_us", &Swarm::verify_interval_us, 1, kUsMax, "mean interval of verify()"),
      num("bitrot_interval_us", &Swarm::bitrot_interval_us, 1, kUsMax, "mean interval of damage at rest"),
      num("inspect_interval_us", &Swarm::inspect_interval_us, 1, kUsMax, "mean interval of a read-only open beside the writer"),
      num("second_writer_interval_us", &Swarm::second_writer_interval_us, 1, kUsMax, "mean interval of a second writer, which must be refused"),
      num("latency_max_us", &Swarm::latency_max_us, 1, 1'000'000, "largest latency of one filesystem operation"),
  };
}

const std::vector<Field>& table() {
  static const std::vector<Field> fields = [] {
    std::vector<Field> all = fault_fields();
    for (auto& f : crash_fields()) all.push_back(std::move(f));
    for (auto& f : workload_fields()) all.push_back(std::move(f));
    return all;
  }();
  return fields;
}

// The values added to the swarm after its first version, drawn after all the others so
// the first ones stay what they were for every seed.
void derive_world(Prng& p, Swarm& s) {
  auto on = [&p](std::uint32_t ppm) { return p.chance_ppm(ppm); };
  s.sector_bytes = on(250'000) ? 4096 : 512;
  s.disk_full = on(150'000);
  s.disk_full_ppm = static_cast<std::uint32_t>(p.range(1'000, 20'000));
  s.disk_full_events = static_cast<std::uint32_t>(p.range(1, 30));
  s.edge_damage_ppm = on(500'000) ? static_cast<std::uint32_t>(p.range(200'000, 900'000)) : 0;
  s.close_crash_ppm = static_cast<std::uint32_t>(p.range(0, 300'000));
  s.reopen_options_ppm = on(300'000) ? static_cast<std::uint32_t>(p.range(100'000, 500'000)) : 0;
  s.fail_stop_hold_events = static_cast<std::uint32_t>(p.range(0, 8));
  s.recovery_point_interval_bytes = on(400'000) ? p.range(1, 4096) : 16ull << 20;
  s.inspect_interval_us = p.range(10000, 80000);
  s.second_writer_interval_us = p.range(20000, 100000);
  s.misdirected_write_ppm = static_cast<std::uint32_t>(p.range(100, 2000));
}

}  // namespace

Swarm Swarm::from_seed(std::uint64_t seed) { return from_seed(seed, nullptr); }

Swarm Swarm::from_seed(std::uint64_t seed, DecisionTape* tape) {
  // A stream of its own, so that the workload's draws never shift the configuration.
  Prng p(seed ^ 0x73776172'6d000000ull);
  p.attach(tape);
  Swarm s;
  auto on = [&p](std::uint32_t ppm) { return p.chance_ppm(ppm); };
  s.lost_writes = on(600'000);
  s.lost_write_ppm = static_cast<std::uint32_t>(p.range(100'000, 900'000));
  s.torn_writes = on(500'000);
  s.torn_write_ppm = static_cast<std::uint32_t>(p.range(100'000, 700'000));
  s.extension_garbage = on(400'000);
  s.dir_reverts = on(500'000);
  s.dir_revert_ppm = static_cast<std::uint32_t>(p.range(200'000, 900'000));
  s.read_errors = on(250'000);
  s.read_error_ppm = static_cast<std::uint32_t>(p.range(200, 5'000));
  s.fsync_failures = on(250'000);
  s.fsync_failure_ppm = static_cast<std::uint32_t>(p.range(1'000, 20'000));
  s.write_errors = on(300'000);
  s.write_error_ppm = static_cast<std::uint32_t>(p.range(1'000, 20'000));
  s.misdirected_writes = on(50'000);
  s.bit_flips = on(300'000);
  s.tampering = on(200'000);
  s.index_lies = on(150'000);
  s.crash_ppm = static_cast<std::uint32_t>(p.range(5'000, 60'000));
  s.crash_in_recovery_ppm = on(300'000) ? static_cast<std::uint32_t>(p.range(100'000, 500'000)) : 0;
  s.power_off_window_ops = static_cast<std::uint32_t>(p.range(1, 120));
  s.streams = static_cast<std::uint32_t>(p.range(1, 4));
  s.record_bytes_min = static_cast<std::uint32_t>(p.range(1, 32));
  s.record_bytes_max = s.record_bytes_min + static_cast<std::uint32_t>(p.range(0, on(200'000) ? 3000 : 300));
  s.batch_max = on(300'000) ? 1 : static_cast<std::uint32_t>(p.range(2, 24));
  s.max_segment_bytes = p.range(512, 16384);
  s.index_interval_bytes = p.range(64, 2048);
  s.checkpoint_interval = on(250'000) ? 0 : p.range(2, 40);
  switch (p.below(4)) {
    case 0:
    case 1: s.sync = "always"; break;
    case 2: s.sync = fmt::format("every:{}", p.range(2, 16)); break;
    default: s.sync = on(500'000) ? "manual" : fmt::format("every:{}b", p.range(200, 4000)); break;
  }
  s.full_scan_on_open = on(300'000);
  s.write_interval_us = p.range(50, 200);
  s.read_interval_us = p.range(100, 800);
  s.checkpoint_interval_us = p.range(500, 5000);
  s.sync_interval_us = p.range(200, 2000);
  s.purge_interval_us = p.range(1000, 10000);
  s.verify_interval_us = p.range(2000, 20000);
  s.bitrot_interval_us = p.range(1000, 10000);
  s.latency_max_us = p.range(1, 50);
  derive_world(p, s);
  // Drawn last, so that the draws above keep their values.
  s.compression = on(750'000) ? "none" : (on(500'000) ? "lz4" : "zstd");
  s.mapped_reads = on(500'000);
  s.pipelined_ppm = on(500'000) ? static_cast<std::uint32_t>(p.range(200'000, 1'000'000)) : 0;
  return s;
}

std::vector<std::pair<std::string, std::string>> Swarm::fields() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field& f : table()) out.emplace_back(f.name, f.get(*this));
  return out;
}

std::string Swarm::set(const std::string& name, const std::string& value) {
  for (const Field& f : table()) {
    if (name != f.name) continue;
    if (!f.set(*this, value)) return fmt::format("bad value '{}' for {} (takes {})", value, name, f.range);
    return {};
  }
  return fmt::format("unknown swarm key '{}' (cairn-sim --list-keys lists them)", name);
}

std::string Swarm::block() const {
  std::string out;
  for (const auto& [k, v] : fields()) out += fmt::format("  {:<30} {}\n", k, v);
  return out;
}

std::string Swarm::key_list() {
  std::string out;
  for (const Field& f : table()) out += fmt::format("{:<30} {:<34} {}\n", f.name, f.range, f.meaning);
  return out;
}

}  // namespace cairn::sim
