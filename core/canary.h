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
};

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
