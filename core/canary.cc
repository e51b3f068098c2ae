#include "core/canary.h"

#include <iterator>

namespace cairn {

namespace {

// Decisions multiply: one row per planted bug, in enum order.
constexpr PlantedBug kPlantedBugs[] = {
    {Canary::ack_before_fsync, "ack-before-fsync", false, "sync=always acknowledged before fdatasync"},
    {Canary::no_dir_fsync_on_create, "no-dir-fsync-on-create", false, "a new segment's directory entry never synced"},
    {Canary::metadata_no_fsync_before_rename, "metadata-no-fsync-before-rename", false,
     "atomic replace renames an unsynced temp file (ext4 delayed allocation, 2009)"},
    {Canary::torn_tail_fatal, "torn-tail-fatal", false, "recovery refuses to open on a torn tail"},
    {Canary::mid_log_corruption_truncated, "mid-log-corruption-truncated", false,
     "damage followed by valid data cut away silently (a WAL reader stopping at the first bad record)"},
    {Canary::zero_frames_accepted, "zero-frames-accepted", false, "an all-zero frame read as an empty record"},
    {Canary::failed_fsync_retried, "failed-fsync-retried", false, "a failed fsync retried and trusted (fsyncgate, PostgreSQL 2018)"},
    {Canary::append_after_short_write, "append-after-short-write", false, "a short write not cut back before the next append"},
    {Canary::index_trusted_over_log, "index-trusted-over-log", false, "a sealed segment's index used without checks"},
    {Canary::checkpoint_hash_unverified, "checkpoint-hash-unverified", false, "a checkpoint trusted without checking it"},
    {Canary::always_no_fsync, "always-no-fsync", true,
     "sync=always that never fsyncs (a durability setting silently off, as fsync=off or an unsynced WAL)"},
    {Canary::durable_offset_frozen, "durable-offset-frozen", true, "the durable offset never advances (a stuck high watermark)"},
    {Canary::durable_offset_at_write, "durable-offset-at-write", true, "durable_offset advanced at write, before any fsync"},
    {Canary::every_count_off_by_one, "every-count-off-by-one", true, "group commit syncs one record late (every:N keeps N unsynced)"},
    {Canary::every_bytes_ignored, "every-bytes-ignored", true, "a byte threshold for group commit never checked"},
    {Canary::close_skips_sync, "close-skips-sync", true, "close without syncing the log, yet marked clean (a WAL not synced on close)"},
    {Canary::seal_without_sync, "seal-without-sync", true, "a segment sealed and a new one created before the old one is synced"},
    {Canary::cut_back_not_synced, "cut-back-not-synced", true, "a failed append's cut-back never synced: its records come back after a crash"},
    {Canary::segment_dir_fsync_failure_ignored, "segment-dir-fsync-failure-ignored", true,
     "a failed directory fsync ignored (fsyncgate for directory entries)"},
    {Canary::stream_dir_not_synced, "stream-dir-not-synced", true, "a new directory's entry in its parent never synced"},
    {Canary::store_dir_not_synced, "store-dir-not-synced", true, "the store's own directory never synced into its parent"},
    {Canary::manifest_no_dir_fsync, "manifest-no-dir-fsync", true, "a manifest renamed into place without a directory fsync"},
    {Canary::recovery_point_ahead, "recovery-point-ahead", true, "the recovery point records bytes not yet synced"},
    {Canary::recreate_skipped, "recreate-skipped", true,
     "after a failed fsync the kept pages are trusted without rewriting them (fsyncgate)"},
    {Canary::record_limit_forgotten, "record-limit-forgotten", true,
     "a reopen with a smaller record limit takes older, larger records for damage"},
    {Canary::torn_tail_window_unreported, "torn-tail-window-unreported", true,
     "a cut tail never says its records may have been acknowledged"},
    {Canary::batch_end_every_record, "batch-end-every-record", true, "every record marked as a batch end: batches no longer atomic"},
    {Canary::purge_ineligible, "purge-ineligible", true, "retention deletes a segment still inside retention"},
    {Canary::purge_unlink_before_manifest, "purge-unlink-before-manifest", true,
     "retention deletes files before the manifest stops listing them"},
    {Canary::lock_not_taken, "lock-not-taken", true, "a second writer admitted (a lock file created but never locked)"},
    {Canary::read_only_writes, "read-only-writes", true, "a read-only open that writes the manifest"},
    {Canary::repair_reuses_offsets, "repair-reuses-offsets", true, "repair hands out offsets the stream once held"},
    {Canary::repair_gap_not_recorded, "repair-gap-not-recorded", true, "repair removes offsets without recording the gap"},
    {Canary::chain_skips_timestamp, "chain-skips-timestamp", true, "a hash chain that leaves a field out: its edits go undetected"},
    {Canary::crc_skips_tail, "crc-skips-tail", true, "a checksum that misses a frame's last bytes"},
    {Canary::checkpoint_count_off_by_one, "checkpoint-count-off-by-one", true, "a checkpoint counting one record too many"},
    {Canary::offset_for_time_strict, "offset-for-time-strict", true, "a time lookup that skips the records at exactly that time"},
    {Canary::unacknowledged_reads, "unacknowledged-reads", true, "reads serve a batch whose fsync failed (never acknowledged)"},
    {Canary::findings_outlive_purge, "findings-outlive-purge", true, "verify reports damage in segments retention removed"},
    {Canary::spine_not_synced, "spine-not-synced", true,
     "the spine's leaves are written but never fsynced: a purge and a power loss leave records unprovable"},
    {Canary::spine_leaf_before_break_kept, "spine-leaf-before-break-kept", true,
     "a leaf derived from the record before a chain break is kept: a changed record gets into the Merkle tree"},
    {Canary::chain_over_stored_bytes, "chain-over-stored-bytes", true,
     "the chain hashes a compressed record's stored bytes, not what the application wrote"},
    {Canary::leftover_file_reused, "leftover-file-reused", true,
     "a file left by a failed repair is truncated and reused: a directory entry a failed fsync lost stays lost"},
    {Canary::spine_torn_middle_kept, "spine-torn-middle-kept", true,
     "only the spine's last entries are checked after a crash: a torn entry in the middle makes proofs fail"},
    {Canary::torn_tail_last_frames_unreported, "torn-tail-last-frames-unreported", true,
     "a cut tail counts possibly acknowledged records up to its last valid frame: damaged ones after it go unreported"},
    {Canary::pipelined_ack_at_start, "pipelined-ack-at-start", true,
     "a pipelined append counted durable when its sync was submitted, not when it completed"},
    {Canary::pipelined_mark_at_finish, "pipelined-mark-at-finish", true,
     "a sync in flight credited with the writes made after it started (the durable mark taken at completion)"},
    {Canary::spine_rederived_in_place, "spine-rederived-in-place", true,
     "leaves re-derived at open written into the range the next open trusts unchecked, not replaced atomically"},
    {Canary::spine_header_trusted, "spine-header-trusted", true,
     "a spine header whose fsync failed trusted from the page cache at the next open (fsyncgate)"},
    {Canary::repair_partial_header_kept, "repair-partial-header-kept", true,
     "a repair's header rewrite that failed part-way left the stream's view (and its durable offset) in use"},
    {Canary::spine_entry_trusted, "spine-entry-trusted", true,
     "a spine file found at open trusted to have a durable directory entry before a purge (fsyncgate for entries)"},
    {Canary::last_piece_kept, "last-piece-kept", true,
     "after a lost manifest, a repair's piece left as the last segment file kept as the active segment beside its original"},
};

}  // namespace

const std::vector<PlantedBug>& planted_bugs() {
  static const std::vector<PlantedBug> bugs(std::begin(kPlantedBugs), std::end(kPlantedBugs));
  return bugs;
}

const std::vector<std::string>& canary_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const PlantedBug& b : planted_bugs()) out.push_back(b.name);
    return out;
  }();
  return names;
}

const char* canary_name(Canary c) {
  if (c == Canary::none) return "none";
  return canary_names()[static_cast<std::size_t>(c) - 1].c_str();
}

std::optional<Canary> parse_canary(const std::string& name) {
  for (const PlantedBug& b : planted_bugs()) {
    if (name == b.name) return b.id;
  }
  if (name == "none") return Canary::none;
  return std::nullopt;
}

#if defined(CAIRN_CANARIES)
namespace {
// Per thread: a simulated run (one seed) runs on one thread, and sweeps run seeds on
// several threads at once, each with its own canary.
thread_local Canary g_canary = Canary::none;
}
bool canary_on(Canary c) { return g_canary == c; }
void set_canary(Canary c) { g_canary = c; }
#endif

}  // namespace cairn
