// Swarm configuration: everything a simulated run varies, derived from its seed (swarm
// testing: each seed turns some fault families fully off and picks its own rates,
// workload mix, record sizes, segment size, sync policy, checkpoint interval, stream
// count, crash rate and the world around the store). Any value can be overridden by name
// (`--set key=value`); `cairn-sim --list-keys` prints every key with its range and meaning.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "simfs/decision_tape.h"

namespace cairn::sim {

struct Swarm {
  // Fault families (SimFileSystem) and their rates in parts per million.
  bool lost_writes = false;
  std::uint32_t lost_write_ppm = 0;
  bool torn_writes = false;
  std::uint32_t torn_write_ppm = 0;
  bool extension_garbage = false;
  std::uint32_t extension_garbage_ppm = 500'000;
  bool dir_reverts = false;
  std::uint32_t dir_revert_ppm = 0;
  bool read_errors = false;
  std::uint32_t read_error_ppm = 0;
  std::uint32_t read_error_sticky_ppm = 300'000;
  bool fsync_failures = false;
  std::uint32_t fsync_failure_ppm = 0;
  bool write_errors = false;
  std::uint32_t write_error_ppm = 0;
  std::uint32_t write_no_space_ppm = 500'000;
  bool misdirected_writes = false;
  std::uint32_t misdirected_write_ppm = 500;
  std::uint32_t sector_bytes = 512;
  // A full disk that lasts: every write fails with ENOSPC for disk_full_events events.
  bool disk_full = false;
  std::uint32_t disk_full_ppm = 0;      // chance per event that the disk fills up
  std::uint32_t disk_full_events = 0;
  // At-rest damage injected by the bit-rot actor.
  bool bit_flips = false;
  bool tampering = false;      // payload edited with its CRC fixed
  bool index_lies = false;     // a sidecar rewritten with a wrong entry and a valid CRC
  std::uint32_t edge_damage_ppm = 0;  // share aimed at frame edges (length, CRC, header, last bytes)
  // Crashes.
  std::uint32_t crash_ppm = 0;              // chance per scheduled event of a crash event
  std::uint32_t crash_in_recovery_ppm = 0;  // chance that a restart loses power again
  std::uint32_t power_off_window_ops = 1;   // a crash lands within this many fs operations
  std::uint32_t close_crash_ppm = 0;        // share of crashes that come after a clean close
  // The world around the store.
  std::uint32_t reopen_options_ppm = 0;   // share of restarts that reopen with other options
  std::uint32_t fail_stop_hold_events = 0;  // events a fail-stopped store stays open before the reopen
  std::uint32_t repair_ppm = 500'000;     // chance the operator repairs a stream with damage that does not block it
  // Workload.
  std::uint32_t streams = 1;
  std::uint32_t record_bytes_min = 1;
  std::uint32_t record_bytes_max = 64;
  std::uint32_t batch_max = 1;
  std::uint64_t max_segment_bytes = 4096;
  std::uint64_t index_interval_bytes = 256;
  std::uint64_t checkpoint_interval = 0;
  std::uint64_t recovery_point_interval_bytes = 16ull << 20;
  std::string sync = "always";
  bool full_scan_on_open = false;
  // Per-record compression of payloads (none, lz4, zstd); on, the workload writes
  // payloads that compress.
  std::string compression = "none";
  // Sealed segments read through File::map (Options::mapped_reads).
  bool mapped_reads = false;
  // Threads hashing during verify() (Options::verify_threads). Not drawn (every seed's
  // draws stay as they were): `--set verify_threads=2` runs a sweep with helper threads.
  std::uint32_t verify_threads = 1;
  // Share of appends made with Store::append_pipelined (a sync in flight while the next
  // batch is written); the writer waits for them now and then (wait_durable).
  std::uint32_t pipelined_ppm = 0;
  // Actor mean intervals in simulated microseconds (smaller: more often).
  std::uint64_t write_interval_us = 100;
  std::uint64_t read_interval_us = 300;
  std::uint64_t checkpoint_interval_us = 2000;
  std::uint64_t sync_interval_us = 500;
  std::uint64_t purge_interval_us = 3000;
  std::uint64_t verify_interval_us = 5000;
  std::uint64_t bitrot_interval_us = 4000;
  std::uint64_t inspect_interval_us = 20000;        // a read-only open beside the writer
  std::uint64_t second_writer_interval_us = 20000;  // a second writer that must be refused
  std::uint64_t latency_max_us = 20;

  // Derives the configuration of `seed`.
  static Swarm from_seed(std::uint64_t seed);
  // The same, drawing through `tape` (recording: the same swarm as from_seed; replaying:
  // the swarm the tape's first choices describe, 0 being "family off", "smallest").
  static Swarm from_seed(std::uint64_t seed, DecisionTape* tape);
  // Every field as (name, value text), in a fixed order.
  std::vector<std::pair<std::string, std::string>> fields() const;
  // Sets a field by name from text. Returns "" or an error message naming the key's range.
  std::string set(const std::string& name, const std::string& value);
  // The printable configuration block.
  std::string block() const;
  // Every key with its range and meaning, a line each.
  static std::string key_list();
};

}  // namespace cairn::sim
