// Exact fault accounting: which records, files and byte ranges each injected fault
// touched. The oracle forgives exactly these, and only until they are purged, rewritten
// or repaired (forget()).
//
// Faults at rest come from the simulator's injector, which parses the file with its own
// format rules before damaging it and says which frame it hit (touch()). Faults the
// filesystem injects on its own are read from its fault log (absorb()): a misdirected
// write touches the frames it landed on (as the disk held them) and the records it was
// meant to carry; sticky read errors mark their file until the sector is replaced; a
// failed fsync touches nothing (the durability model already counts that data as not
// durable); lost and torn writes at a crash touch only pending writes, which were not
// durable either.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/durability.h"
#include "sim/observed_fs.h"
#include "simfs/sim_filesystem.h"

namespace cairn::sim {

struct Touch {
  std::string file;        // file name inside the stream directory
  std::uint64_t byte_pos = 0;  // the frame's position
  std::uint64_t bytes = 0;     // the frame's size
  std::string how;         // "bit flip", "tamper", "misdirected write", ...
  std::uint64_t seq = 0;   // when it was recorded (FaultMap::seq())
};

class FaultMap final : public FsObserver {
 public:
  // REQUIRES: sim and model outlive the map. store_dir: "/store".
  FaultMap(const fs::SimFileSystem& sim, DurabilityModel& model, std::string store_dir)
      : sim_(sim), model_(model), store_dir_(std::move(store_dir)) {}

  // Files the store writes afresh from memory forget their damage once the replacement
  // is durable (a rename, then a good sync of the directory): the manifest and index
  // sidecars; any file unlinked. (A segment replaced by rename is a copy of its bytes,
  // damage included: it stays touched.)
  void renamed(const std::string& from, const std::string& to) override;
  void synced_dir(const std::string& dir, bool ok) override;
  void unlinked(const std::string& path) override;
  // Applies the replacements made durable since the last call: call after judging an
  // operation (its findings may still be about the damaged files it replaced).
  void settle();

  // Maps the filesystem's own faults logged since the last call.
  void absorb(const std::vector<fs::FaultRecord>& log);
  // The injector damaged record `offset`'s frame. The durability model's prefix walks
  // past it from now on (until forget()).
  void touch(std::uint64_t stream, std::uint64_t offset, Touch t);
  // The injector damaged bytes of a file that are not a whole frame of a record (a
  // segment header, an index sidecar).
  void touch_file(std::uint64_t stream, const std::string& file) { files_[stream].insert(file); }
  void touch_manifest() { manifest_ = true; }

  const Touch* touched(std::uint64_t stream, std::uint64_t offset) const;
  bool any_touched(std::uint64_t stream, std::uint64_t from, std::uint64_t to) const;
  bool file_touched(std::uint64_t stream, const std::string& file) const;
  // The file, or a record whose frame is in it, was touched.
  bool file_or_records_touched(std::uint64_t stream, const std::string& file) const;
  // Any record or file of the stream touched, or a sector of it unreadable.
  bool stream_touched(std::uint64_t stream) const;
  bool manifest_touched() const { return manifest_; }
  void manifest_rebuilt() { manifest_ = false; }
  // Sticky unreadable sectors in a file of the stream (until replaced).
  bool unreadable(std::uint64_t stream) const;
  bool any_unreadable() const;
  // A fsync of the stream's directory failed: renames and unlinks in it may be undone
  // for good (a set-aside segment back under its name, unlisted).
  bool dir_entries_lost(std::uint64_t stream) const { return dir_lost_.count(stream) > 0; }
  void sectors_replaced() {
    sticky_.clear();
    sticky_other_.clear();
  }
  // The record is gone or holds new bytes: no more leniency for it (only for touches
  // recorded before `before`, when given: the store's call that rewrote the record may
  // itself have been hit).
  void forget(std::uint64_t stream, std::uint64_t offset, std::uint64_t before = UINT64_MAX);
  // A counter that orders touches: take it before a store call.
  std::uint64_t seq() const { return seq_; }
  // Every record touched in that file of the stream that retention removed.
  void forget_file(std::uint64_t stream, const std::string& file);
  // The stream's first retained offset (what a durably unlinked file took with it).
  void set_first(std::uint64_t stream, std::uint64_t first) { first_[stream] = first; }
  // Offsets of the stream that faults touched.
  std::vector<std::uint64_t> touched_offsets(std::uint64_t stream) const;

 private:
  bool parse_path(const std::string& path, std::uint64_t& stream, std::string& file) const;
  void touch_meant(std::uint64_t stream, const std::string& path, const std::string& file, std::uint64_t from,
                   std::uint64_t to);
  void touch_landed(std::uint64_t stream, const fs::FaultRecord& f, const std::string& file);

  const fs::SimFileSystem& sim_;
  DurabilityModel& model_;  // told which records are damaged (their frames cannot be placed)
  std::string store_dir_;
  std::size_t seen_ = 0;
  std::uint64_t seq_ = 0;
  std::map<std::uint64_t, std::map<std::uint64_t, Touch>> records_;
  std::map<std::uint64_t, std::set<std::string>> files_;
  std::map<std::uint64_t, std::set<std::string>> sticky_;
  std::set<std::string> sticky_other_;  // outside the stream directories
  bool manifest_ = false;
  std::set<std::uint64_t> dir_lost_;
  std::map<std::uint64_t, std::uint64_t> first_;
  std::set<std::string> replaced_;  // paths renamed into place, not yet durable
  std::set<std::string> fresh_;     // replaced durably, not yet settled
  std::set<std::string> damaged_temps_;  // copies a fault hit before they were renamed into place
};

}  // namespace cairn::sim
