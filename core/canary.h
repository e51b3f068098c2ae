// Canaries: planted bugs that the simulator must catch. They exist only in the
// cairn_core_canary library (built with CAIRN_CANARIES) that the canary tests link;
// in every other build canary_on() is a constant false and the planted code folds away.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn {

enum class Canary : std::uint8_t {
  none,
  ack_before_fsync,                 // sync=always returns before fdatasync
  no_dir_fsync_on_create,           // a new segment's directory entry is never synced
  metadata_no_fsync_before_rename,  // atomic replace renames an unsynced temp file
  torn_tail_fatal,                  // recovery refuses to open on a torn tail
  mid_log_corruption_truncated,     // damage followed by valid data is cut away silently
  zero_frames_accepted,             // an all-zero frame header reads as an empty record
  failed_fsync_retried,             // a failed fsync is retried and trusted
  append_after_short_write,         // a failed write is not cut back before the next one
  index_trusted_over_log,           // a sealed segment's index is used without checks
  checkpoint_hash_unverified,       // verified reads trust a checkpoint without checking it
  // The mutation set: one planted bug per durability or recovery decision (the incident
  // each imitates is in planted_bugs() and sim/README.md).
  always_no_fsync,
  durable_offset_frozen,
  durable_offset_at_write,
  every_count_off_by_one,
  every_bytes_ignored,
  close_skips_sync,
  seal_without_sync,
  cut_back_not_synced,
  segment_dir_fsync_failure_ignored,
  stream_dir_not_synced,
  store_dir_not_synced,
  manifest_no_dir_fsync,
  recovery_point_ahead,
  recreate_skipped,
  record_limit_forgotten,
  torn_tail_window_unreported,
  batch_end_every_record,
  purge_ineligible,
  purge_unlink_before_manifest,
  lock_not_taken,
  read_only_writes,
  repair_reuses_offsets,
  repair_gap_not_recorded,
  chain_skips_timestamp,
  crc_skips_tail,
  checkpoint_count_off_by_one,
  offset_for_time_strict,
  unacknowledged_reads,
  findings_outlive_purge,
  spine_not_synced,
  spine_leaf_before_break_kept,
  chain_over_stored_bytes,
  leftover_file_reused,
  spine_torn_middle_kept,
  torn_tail_last_frames_unreported,
  pipelined_ack_at_start,
  pipelined_mark_at_finish,
  spine_rederived_in_place,
  spine_header_trusted,
  repair_partial_header_kept,
  spine_entry_trusted,
  last_piece_kept,
};

// One planted bug: its name (for --canary), whether it is one of the first ten canaries
// or of the mutation set, and the decision it breaks with the incident it imitates.
struct PlantedBug {
  Canary id;
  const char* name;
  bool mutation;
  const char* imitates;
};
const std::vector<PlantedBug>& planted_bugs();

// Every canary's name, in enum order (without none).
const std::vector<std::string>& canary_names();
std::optional<Canary> parse_canary(const std::string& name);
const char* canary_name(Canary c);

#if defined(CAIRN_CANARIES)
bool canary_on(Canary c);
// Switches planting on for the calling thread only (Canary::none: off), so seeds running on
// other threads keep their own.
void set_canary(Canary c);
#else
constexpr bool canary_on(Canary) { return false; }
inline void set_canary(Canary) {}
#endif

}  // namespace cairn
