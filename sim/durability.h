// The oracle's model of durability, built only from the filesystem calls the store made
// (ObservedFileSystem), never from what the store reports.
//
// Per file: the byte ranges written since its last good sync (`unsynced`), and the ones a
// failed sync left indeterminate (`lost`: only a rewrite and a good sync make them durable
// again); whether its directory entry (and its directory's) was made durable by a good
// sync of the directory (a failed one leaves pending entries lost for good). Per stream:
// where each record's frame was written, parsed from the bytes the store passed to pwrite
// with the simulator's own format rules. A record is durable when its file's header and
// frame bytes are neither unsynced nor lost and every entry on its path is durable.
//
// A sync started by File::start_sync covers what was unsynced when it started; when it
// is done, only those bytes (less any written again since) change state.
//
// After a crash what the disk holds is what survived, so the model forgets its volatile
// state and each stream is rebased on what recovery kept. A reopen without a crash keeps
// it: after a failed fsync, what the process still sees need not be on disk.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/format_rules.h"
#include "sim/observed_fs.h"

namespace cairn::sim {

// Disjoint, sorted half-open byte ranges.
class RangeSet {
 public:
  void add(std::uint64_t from, std::uint64_t to);
  void remove(std::uint64_t from, std::uint64_t to);
  bool intersects(std::uint64_t from, std::uint64_t to) const;
  bool empty() const { return ranges_.empty(); }
  void clear() { ranges_.clear(); }
  void merge(const RangeSet& other);
  void subtract(const RangeSet& other);

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // from -> to
};

struct Placement {
  std::string path;
  std::uint64_t pos = 0;
  std::uint64_t bytes = 0;
  std::uint64_t timestamp_us = 0;
};

class DurabilityModel final : public FsObserver {
 public:
  // max_record_bytes: the largest payload a frame of the store may carry (larger ones are
  // not placed).
  explicit DurabilityModel(std::uint32_t max_record_bytes) : max_record_bytes_(max_record_bytes) {}

  void opened(const std::string& path, fs::OpenOptions options, bool created) override;
  void wrote(const std::string& path, std::uint64_t byte_pos, ByteView data, std::size_t written) override;
  void truncated(const std::string& path, std::uint64_t size_bytes) override;
  void synced(const std::string& path, bool ok) override;
  void sync_started(const std::string& path, std::uint64_t id) override;
  void sync_done(const std::string& path, std::uint64_t id, bool ok) override;
  void synced_dir(const std::string& dir, bool ok) override;
  void renamed(const std::string& from, const std::string& to) override;
  void unlinked(const std::string& path) override;
  void made_dir(const std::string& path) override;
  void removed_dir(const std::string& path) override;

  // Power loss: nothing pending survives in the model; the disk's contents are durable.
  void crash();
  // Retention removed the stream's offsets below `first`: the prefix starts there.
  void retain_from(std::uint64_t stream, std::uint64_t first);
  // After recovery from a crash the store holds offsets below `next` of `stream`.
  void rebase(std::uint64_t stream, std::uint64_t next);
  // The durable prefix walks past offsets [from, to) of `stream`: repair removed them, or
  // a fault damaged their frames (a damaged frame cannot be placed).
  void skip(std::uint64_t stream, std::uint64_t from, std::uint64_t to) { streams_[stream].skipped.add(from, to); }
  void unskip(std::uint64_t stream, std::uint64_t from, std::uint64_t to);
  // Offsets of `stream` below it are durable by observation.
  std::uint64_t durable_prefix(std::uint64_t stream);
  // Frame bytes of `stream`'s records [from, to) that the model placed.
  std::uint64_t frame_bytes(std::uint64_t stream, std::uint64_t from, std::uint64_t to) const;
  const Placement* placement(std::uint64_t stream, std::uint64_t offset) const;
  // Every record of `stream` the model placed since the last crash, by offset.
  const std::map<std::uint64_t, Placement>& placements(std::uint64_t stream) const;
  // The largest record limit the store may write with (frames above it are not placed).
  void set_max_record_bytes(std::uint32_t v) { max_record_bytes_ = v; }
  // How many mutating calls were observed (writes, truncates, syncs, entry changes).
  std::uint64_t mutations() const { return mutations_; }

 private:
  enum class Entry : std::uint8_t { durable, pending, lost };
  // A sync started and not yet done: what was unsynced when it started, and what was
  // written or truncated since (which it does not cover).
  struct InFlight {
    RangeSet covered;
    RangeSet after;
  };
  struct FileState {
    Entry entry = Entry::durable;
    RangeSet unsynced;
    RangeSet lost;
    std::uint64_t tail_pos = 0;  // a write that ended inside a frame: where it started
    Bytes tail;                  // and its bytes, to join with the next write
    std::map<std::uint64_t, InFlight> in_flight;  // started syncs not yet done, by id
  };
  struct StreamState {
    std::uint64_t base = 0;   // offsets below it are durable (recovered after a crash)
    std::uint64_t upto = 0;   // durable prefix found so far (>= base)
    std::uint64_t first = 0;  // retention removed the offsets below it
    std::map<std::uint64_t, Placement> placed;
    RangeSet skipped;  // offsets repair removed or faults damaged
  };

  FileState& file(const std::string& path);
  // Bytes [from, to) of the file changed: unsynced, and not covered by a started sync.
  void changed(FileState& f, std::uint64_t from, std::uint64_t to);
  Entry& dir_entry(const std::string& dir);
  // Whether the frame is durable; the last two arguments carry the previous placement's
  // file between calls (consecutive placements share it).
  bool durable(const Placement& p, const FileState*& last_file, const std::string*& last_path);
  bool path_durable(const std::string& path);
  struct Parsed {
    std::vector<std::pair<std::uint64_t, Placement>> frames;
    std::uint64_t rest = 0;  // where the last whole frame ended
  };
  Parsed parse(const std::string& path, std::uint64_t pos, ByteView data, std::uint64_t at) const;
  void place_frames(const std::string& path, std::uint64_t pos, ByteView data);
  void forget_placements(const std::string& path, std::uint64_t from_pos);
  void pending_in(const std::string& dir, const std::string& path);
  // Durability may have gone back for the stream of `path` (every stream when the path is
  // outside them): its prefix is walked again from its base.
  void invalidate(const std::string& path);

  std::uint32_t max_record_bytes_;
  std::map<std::string, FileState> files_;
  std::map<std::string, Entry> dirs_;
  std::map<std::string, std::vector<std::string>> pending_;  // dir -> entries pending in it
  std::map<std::uint64_t, StreamState> streams_;
  std::map<std::string, std::map<std::uint64_t, Placement>> temp_placed_;  // copies not yet renamed into place
  std::uint64_t entries_gen_ = 0;  // bumped whenever a file's or directory's entry changes
  std::unordered_map<std::string, std::pair<std::uint64_t, bool>> path_cache_;  // path -> (gen, durable)
  std::uint64_t mutations_ = 0;
};

}  // namespace cairn::sim
