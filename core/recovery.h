// Recovery of one stream at open, one step per method (core/RECOVERY.md is the table of
// every case; each branch cites its row). Internal to the core.
//
// Steps, in order: list the stream directory; complete what a committed repair left
// pending (P*); remove leftovers of interrupted replacements (F*); compare the
// directory with the manifest, or without one take the directory as it is (I*, R1);
// load each segment: sealed ones against the manifest (H*, S*), the active one by a scan
// that decides between torn tail and damage (A*); finish the stream's state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/scan.h"
#include "core/segment_check.h"
#include "core/store_impl.h"

namespace cairn {

// The files of a stream directory, by kind.
struct StreamFiles {
  bool dir_present = true;
  std::map<std::uint64_t, std::string> logs;    // base -> file to read ("seg-<base>.log")
  std::set<std::uint64_t> indexes;              // bases with a sidecar
  std::map<std::uint64_t, std::string> staged;  // base -> "seg-<base>.log.staged"
  std::vector<std::string> temps;               // "*.tmp"
  std::map<std::uint64_t, std::uint64_t> cut_to;  // read-only: a pending cut not yet done
};

// A segment recovery will load, in base order, decided before any is loaded.
struct PlannedSegment {
  std::uint64_t base = 0;
  std::string name;
  std::optional<manifest::SegmentEntry> listed;  // the manifest's entry
  bool present = false;
  bool successor = false;  // I7: created by a rotation whose manifest never landed
};

class StreamRecovery {
 public:
  // REQUIRES: im and s outlive the recovery; `listed` (the manifest's entry, or null when
  // the stream is not listed or there is no manifest) outlives it.
  StreamRecovery(Store::Impl& im, Stream& s, const manifest::StreamEntry* listed, bool clean_shutdown,
                 bool have_manifest);
  Status run();

 private:
  // recover_stream.cc
  Status list_files();
  Status complete_pending();
  Status complete_cut(const manifest::Pending& p);
  Status reinstall(const std::string& name);
  Status remove_temps();
  Status remove_leftovers();
  Status plan_from_manifest();
  Status plan_extras(const std::vector<std::uint64_t>& extras);
  Status plan_from_disk();
  Status load_all();
  Result<std::uint64_t> scanned_next_offset(const PlannedSegment& p);
  Finding overlap_finding(const std::string& name, std::uint64_t base, std::uint64_t next) const;
  Result<std::optional<Finding>> last_piece(const Segment& before, const PlannedSegment& last);
  Result<Segment> load_present(const PlannedSegment& p, bool last);
  void keep(Segment seg, bool last);
  Status finish();
  Status remove_file(const std::string& name, const std::string& why);
  void add_finding(Finding f);
  void block(const Finding& f);
  SegmentLink link_before(std::uint64_t base) const;

  // recover_segment.cc
  Status load_missing(const PlannedSegment& p);
  Status load_sealed(const PlannedSegment& p, Segment& seg, fs::File& file, const SegmentProbe& probe);
  Status load_sealed_scanned(Segment& seg, fs::File& file, const SegmentProbe& probe);
  Status load_hints(Segment& seg, fs::File& file, const manifest::SegmentEntry& e);
  Status load_active(const PlannedSegment& p, Segment& seg, const SegmentProbe& probe);
  // `rp`: the active segment's recovery point, when the manifest gives one.
  Status take_tail(Segment& seg, const ScanResult& r, const std::optional<DurableMark>& rp, std::uint64_t file_size);
  Result<ScanResult> scan(const Segment& seg, fs::File& file, std::uint64_t file_size,
                          std::uint64_t durable_below, std::optional<ChainHash> last_hash = std::nullopt,
                          bool collect_leaves = false);

  Store::Impl& im_;
  Stream& s_;
  const manifest::StreamEntry* listed_;
  bool clean_;
  bool have_manifest_;
  StreamFiles files_;
  std::vector<PlannedSegment> plan_;
};

// Copies a scan's results into a segment (extent, hints, damage).
void fill_from_scan(Segment& seg, const ScanResult& r);

}  // namespace cairn
