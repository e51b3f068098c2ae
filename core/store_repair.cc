// Store::repair: an operator's explicit repair of one stream.
//
// Survey: every segment is scanned whole; its runs of whole, verified batches are what
// stays (ScanRun). Plan: the bytes between runs are removed and kept beside the segment
// in "<segment>.removed-at-<byte>"; a run that starts at its file's header stays in that
// file (cut after it, header rewritten if damaged), every other run becomes a segment
// file of its own; offsets no run holds become gaps; the stream continues after the
// largest offset it ever held, in a new active segment when the old one changed.
// Apply (crash-safe): kept files and new segment files (".staged") are written and
// synced, then the manifest commits the new layout with its pending operations, and the
// stream is reloaded through recovery, which completes them (RECOVERY.md P1-P3) exactly
// as it would after a crash.
#include <algorithm>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/canary.h"
#include "core/scan.h"
#include "core/segment_check.h"
#include "core/store.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

constexpr std::uint64_t kHeader = format::kSegmentHeaderBytes;

struct Survey {
  std::size_t index = 0;         // in the stream's segments
  std::uint64_t base = 0;
  std::string name;
  bool missing = false;
  bool sealed = false;
  bool active = false;
  std::uint64_t file_size = 0;
  bool header_ok = true;
  std::uint64_t end_offset = 0;  // the offsets it should hold end here
  std::vector<ScanRun> runs;
  bool index_lies = false;
};

// A segment of the repaired stream.
struct Piece {
  const Survey* from = nullptr;  // null: the new active segment
  ScanRun run;
  bool in_place = false;         // stays in its own file
  manifest::SegmentEntry entry;
};

std::string removed_name(const std::string& segment, std::uint64_t byte_pos) {
  return fmt::format("{}.removed-at-{}", segment, byte_pos);
}

bool untouched(const Survey& v) {
  if (v.missing || !v.header_ok) return false;
  if (v.runs.empty()) return v.file_size == kHeader && v.end_offset == v.base;  // an empty active segment
  if (v.runs.size() != 1) return false;
  const ScanRun& r = v.runs.front();
  return r.start_pos == kHeader && r.end_pos == v.file_size && r.first_offset == v.base &&
         r.next_offset == v.end_offset;
}

class Repairer {
 public:
  Repairer(Store::Impl& im, Stream& s, bool dry_run) : im_(im), s_(s) { report_.stream = s.id; report_.dry_run = dry_run; }
  Result<RepairReport> run();

 private:
  Status survey();
  Status survey_segment(std::size_t i, const SegmentLink& link);
  Status list_extras();
  void plan();
  void plan_segment(const Survey& v);
  void plan_active();
  void describe_steps();
  manifest::StreamEntry layout() const;
  Status apply();
  Status commit();
  Status keep_bytes(const std::string& segment, std::uint64_t pos, std::uint64_t len, const std::string& kept_as);
  Status stage(const Piece& p);

  Store::Impl& im_;
  Stream& s_;
  RepairReport report_;
  std::vector<Survey> surveys_;
  std::vector<std::string> extras_;
  std::vector<Piece> pieces_;
  std::vector<manifest::Pending> pending_;
  std::vector<Removal> to_copy_;        // removals whose bytes go to a file of their own
  std::vector<std::uint64_t> header_rewrites_;  // bases whose header is rewritten in place
  std::vector<std::uint64_t> index_rebuilds_;
  std::uint64_t next_offset_ = 0;
};

Result<RepairReport> Repairer::run() {
  if (!s_.blocked && !report_.dry_run) CAIRN_TRY(im_.sync_stream(s_));  // the recovery point is its end
  CAIRN_TRY(survey());
  plan();
  if (report_.dry_run || report_.nothing_to_do()) return report_;
  CAIRN_TRY(apply());
  return report_;
}

Status Repairer::survey() {
  SegmentLink link;
  for (std::size_t i = 0; i < s_.segments.size(); ++i) {
    const Segment& seg = s_.segments[i];
    if (i > 0 && s_.gap_at(seg.base_offset - 1)) link = SegmentLink{};
    CAIRN_TRY(survey_segment(i, link));
    const Survey& v = surveys_.back();
    const std::uint64_t next = v.runs.empty() ? v.end_offset : v.runs.back().next_offset;
    link = v.runs.empty() || next != v.end_offset ? SegmentLink{v.end_offset, std::nullopt}
                                                  : SegmentLink{next, v.runs.back().last_hash};
  }
  return list_extras();
}

Status Repairer::survey_segment(std::size_t i, const SegmentLink& link) {
  Segment& seg = s_.segments[i];
  Survey v;
  v.index = i;
  v.base = seg.base_offset;
  v.name = seg.name;
  v.missing = seg.missing;
  v.sealed = seg.sealed;
  v.active = i + 1 == s_.segments.size();
  v.end_offset = seg.sealed ? seg.recorded.next_offset
                            : std::max(seg.next_offset, s_.frozen ? s_.frozen->active().next_offset : s_.durable.offset);
  if (!v.missing) {
    CAIRN_ASSIGN_OR_RETURN(fs::File * file, im_.segment_file(s_, seg));
    CAIRN_ASSIGN_OR_RETURN(SegmentProbe probe, probe_segment(*file));
    // The active segment up to what recovery kept (a torn tail is recovery's to cut),
    // unless its tail is the damage that blocks the stream.
    v.file_size = seg.sealed || s_.blocked ? probe.file_size : std::min(probe.file_size, seg.size_bytes);
    auto hc = check_segment_header(probe.head, s_.id, seg.name, seg.base_offset, link);
    v.header_ok = hc.ok() && hc->header_ok && hc->findings.empty();
    ScanInput in = im_.scan_input(s_, seg, v.file_size);
    in.anchor = hc.ok() ? hc->anchor : std::nullopt;  // as the header states it
    if (seg.sealed && im_.loaded && v.file_size == seg.recorded.size_bytes) in.expected_last_hash = seg.recorded.last_hash;
    std::optional<FrameReader> reader;
    CAIRN_TRY(im_.open_reader(s_, seg, v.file_size, FrameReader::kDefaultWindowBytes, reader));
    CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan_segment(*reader, in, im_.hasher));
    v.runs = r.runs;
    if (v.active) v.end_offset = std::max({v.end_offset, r.tail_last_offset + 1, r.next_offset});
    if (seg.sealed && r.damage.empty()) {
      std::vector<Finding> lies;
      CAIRN_TRY(im_.check_sidecar(s_, seg, *reader, r, lies));
      v.index_lies = !lies.empty();
    }
  }
  surveys_.push_back(std::move(v));
  return {};
}

// Segment files of the stream directory that the stream does not hold (RECOVERY.md I9).
Status Repairer::list_extras() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, im_.fs.list_dir(s_.dir));
  for (const std::string& name : names) {
    auto base = format::parse_segment_name(name, "log");
    if (!base) continue;
    const bool held = std::any_of(s_.segments.begin(), s_.segments.end(),
                                  [&](const Segment& g) { return g.name == name; });
    if (!held) extras_.push_back(name);
  }
  return {};
}

void Repairer::plan() {
  next_offset_ = s_.next_offset;
  const bool reuse = canary_on(Canary::repair_reuses_offsets);  // planted bug: after the last record kept
  if (reuse) next_offset_ = s_.first_offset();
  for (const Survey& v : surveys_) {
    if (!reuse) next_offset_ = std::max(next_offset_, v.end_offset);
    for (const ScanRun& r : v.runs) next_offset_ = std::max(next_offset_, r.next_offset);
  }
  for (const Survey& v : surveys_) plan_segment(v);
  plan_active();
  // Files the stream does not hold are set aside before the commit (unlisted, nothing reads
  // them, so a crash on either side of the rename changes nothing): a new piece may take
  // the same name.
  for (const std::string& name : extras_) {
    report_.removals.push_back(Removal{name, 0, 0, 0, 0, name + ".removed-at-0", "segment file not in the manifest"});
  }
  // Offsets the new layout does not hold, less the gaps an earlier repair left.
  const manifest::StreamEntry after = layout();
  std::uint64_t at = s_.first_offset();
  for (const manifest::SegmentEntry& e : after.segments) {
    while (at < e.base_offset) {
      if (const manifest::Gap* g = s_.gap_at(at)) {
        at = std::min(g->to_offset, e.base_offset);
        continue;
      }
      const std::uint64_t from = at;
      while (at < e.base_offset && !s_.gap_at(at)) ++at;
      report_.lost_offsets.emplace_back(from, at);
    }
    at = std::max(at, e.next_offset);
  }
  report_.next_offset = next_offset_;
  describe_steps();
}

// Every file operation, in the order apply() and recovery carry them out.
void Repairer::describe_steps() {
  for (const Removal& r : to_copy_) {
    if (r.bytes > 0) report_.steps.push_back(fmt::format("keep bytes {}..{} of {} in {}", r.byte_pos, r.byte_pos + r.bytes - 1, r.segment, r.kept_as));
  }
  for (const Piece& p : pieces_) {
    if (p.in_place) continue;
    const std::string name = format::segment_file_name(p.entry.base_offset) + ".staged";
    report_.steps.push_back(p.from ? fmt::format("write {} from bytes {}..{} of {} (offsets {}..{})", name, p.run.start_pos,
                                                 p.run.end_pos - 1, p.from->name, p.run.first_offset, p.run.next_offset - 1)
                                   : fmt::format("write {} (the new active segment, at offset {})", name, p.entry.base_offset));
  }
  for (const std::string& name : extras_) report_.steps.push_back(fmt::format("set {} aside as {}", name, removed_name(name, 0)));
  for (std::uint64_t base : header_rewrites_) report_.steps.push_back("rewrite the header of " + format::segment_file_name(base));
  // A blocked stream whose files are sound again (a header rewrite that landed before a
  // failure) is still committed and reloaded: that is what unblocks it.
  if (report_.nothing_to_do() && index_rebuilds_.empty() && !s_.blocked) return;
  report_.steps.push_back("commit the new layout to the manifest");
  for (const manifest::Pending& p : pending_) {
    const std::string name = format::segment_file_name(p.base_offset);
    if (p.kind == manifest::PendingKind::cut) report_.steps.push_back(fmt::format("cut {} to {} bytes", name, p.size_bytes));
    if (p.kind == manifest::PendingKind::set_aside) report_.steps.push_back(fmt::format("set {} aside as {}", name, removed_name(name, 0)));
  }
  for (const Piece& p : pieces_) {
    if (!p.in_place) report_.steps.push_back("install " + format::segment_file_name(p.entry.base_offset));
  }
  for (std::uint64_t base : index_rebuilds_) {
    report_.steps.push_back("rewrite the lying index sidecar " + format::index_file_name(base));
  }
}

void Repairer::plan_segment(const Survey& v) {
  if (untouched(v) && v.runs.empty()) return;  // an empty active segment: plan_active's
  if (untouched(v)) {
    Piece p{&v, v.runs.front(), true, {}};
    p.entry = v.sealed ? s_.segments[v.index].recorded : manifest::SegmentEntry{};
    pieces_.push_back(p);
    if (v.index_lies) index_rebuilds_.push_back(v.base);
    return;
  }
  if (v.missing) return;  // its offsets become a gap; there are no bytes to keep
  // The file keeps its name when its first run starts at its base offset: in place when
  // the run starts right after the header, else replaced by a staged copy of the run.
  // Otherwise it is set aside whole, and every removed range is kept in that one file.
  const bool keeps_name = !v.runs.empty() && v.runs.front().first_offset == v.base;
  const bool in_place = keeps_name && v.runs.front().start_pos == kHeader;
  auto removal = [&](std::uint64_t a, std::uint64_t b, std::uint64_t first, std::uint64_t end, const char* why) {
    Removal r{v.name, a, b - a, first, end, keeps_name ? removed_name(v.name, a) : removed_name(v.name, 0), why};
    report_.removals.push_back(r);
    if (keeps_name) to_copy_.push_back(r);
  };
  if (!v.header_ok && keeps_name) {
    removal(0, kHeader, v.base, v.base, "damaged segment header (rewritten)");
    if (in_place) header_rewrites_.push_back(v.base);
  }
  std::uint64_t pos = kHeader;
  std::uint64_t offset = v.base;
  for (const ScanRun& r : v.runs) {
    if (r.start_pos > pos) removal(pos, r.start_pos, offset, r.first_offset, "damaged");
    const bool stays = in_place && &r == &v.runs.front();
    Piece p{&v, r, stays, {}};
    const std::uint64_t shift = stays ? 0 : r.start_pos - kHeader;
    p.entry = manifest::SegmentEntry{r.first_offset, r.next_offset, r.end_pos - shift, r.last_frame_pos - shift,
                                     r.last_hash, manifest::SegmentState::sealed};
    pieces_.push_back(p);
    pos = r.end_pos;
    offset = r.next_offset;
  }
  if (pos < v.file_size || offset < v.end_offset) removal(pos, v.file_size, offset, v.end_offset, "damaged or missing");
  if (in_place && v.file_size > v.runs.front().end_pos) {
    pending_.push_back(manifest::Pending{manifest::PendingKind::cut, v.base, v.runs.front().end_pos});
  }
  if (!keeps_name) pending_.push_back(manifest::Pending{manifest::PendingKind::set_aside, v.base, 0});
}

// The old active segment stays active only if nothing of it changed; otherwise every
// piece of it is sealed and a new, empty active segment continues at next_offset_.
void Repairer::plan_active() {
  const Survey& last = surveys_.back();
  if (untouched(last) && last.runs.empty()) {  // an empty, sound active segment stays as it is
    Piece p{&last, ScanRun{kHeader, kHeader, last.base, last.base, 0, std::nullopt, {}}, true, {}};
    p.entry = manifest::SegmentEntry{last.base, last.base, kHeader, 0, s_.durable.hash, manifest::SegmentState::active};
    pieces_.push_back(p);
    return;
  }
  if (!last.missing && last.runs.empty() && last.base == next_offset_) {
    // An empty active segment with a damaged header or bytes after it: it stays the
    // active one, cut to a rewritten header (its old bytes kept), so no offset moves.
    std::erase_if(pending_, [&](const manifest::Pending& d) { return d.base_offset == last.base; });
    for (Removal& r : report_.removals) {
      if (r.segment == last.name) {
        r.kept_as = removed_name(last.name, r.byte_pos);
        to_copy_.push_back(r);
      }
    }
    if (!last.header_ok) header_rewrites_.push_back(last.base);
    if (last.file_size > kHeader) pending_.push_back(manifest::Pending{manifest::PendingKind::cut, last.base, kHeader});
    Piece p{&last, ScanRun{kHeader, kHeader, last.base, last.base, 0, std::nullopt, {}}, true, {}};
    p.run.anchor = pieces_.empty() ? std::nullopt : std::optional<ChainHash>(pieces_.back().entry.last_hash);
    p.entry = manifest::SegmentEntry{last.base, last.base, kHeader, 0, p.run.anchor.value_or(ChainHash{}),
                                     manifest::SegmentState::active};
    pieces_.push_back(p);
    return;
  }
  if (!pieces_.empty() && pieces_.back().from == &last && untouched(last)) {
    pieces_.back().entry = manifest::SegmentEntry{last.base, s_.durable.offset, s_.durable.byte,
                                                  s_.durable.last_frame_pos, s_.durable.hash,
                                                  manifest::SegmentState::active};
    return;
  }
  Piece p;
  const bool contiguous = !pieces_.empty() && pieces_.back().entry.next_offset == next_offset_;
  p.run = ScanRun{kHeader, kHeader, next_offset_, next_offset_, 0, std::nullopt, {}};
  p.run.last_hash = contiguous ? pieces_.back().entry.last_hash : ChainHash{};
  p.run.anchor = p.run.last_hash;
  p.entry = manifest::SegmentEntry{next_offset_, next_offset_, kHeader, 0, p.run.last_hash,
                                   manifest::SegmentState::active};
  pieces_.push_back(p);
}

manifest::StreamEntry Repairer::layout() const {
  manifest::StreamEntry e;
  e.stream_id = s_.id;
  for (const Piece& p : pieces_) {
    if (!e.segments.empty() && e.segments.back().next_offset != p.entry.base_offset) {
      if (!canary_on(Canary::repair_gap_not_recorded)) {
        e.gaps.push_back(manifest::Gap{e.segments.back().next_offset, p.entry.base_offset});
      }
    }
    e.segments.push_back(p.entry);
  }
  e.first_offset = e.segments.front().base_offset;
  e.pending = pending_;
  for (const Piece& p : pieces_) {
    if (!p.in_place) e.pending.push_back(manifest::Pending{manifest::PendingKind::install, p.entry.base_offset, 0});
  }
  return e;
}

Status Repairer::keep_bytes(const std::string& segment, std::uint64_t pos, std::uint64_t len,
                            const std::string& kept_as) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> from,
                         im_.fs.open(fs::join_path(s_.dir, segment), fs::OpenOptions{.read_only = true}));
  Bytes bytes(static_cast<std::size_t>(len));
  CAIRN_ASSIGN_OR_RETURN(std::size_t got, fs::read_full(*from, pos, bytes));
  bytes.resize(got);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> to, create_fresh(im_.fs, fs::join_path(s_.dir, kept_as)));
  CAIRN_TRY(write_checked(*to, 0, bytes, fs::join_path(s_.dir, kept_as)));
  Status synced = to->sync();
  if (!synced.ok()) return im_.fail_stop(std::move(synced).error());
  return {};
}

// A run that is not at its file's start becomes a segment file of its own: a header
// anchored at the hash its first frame states, then the run's bytes.
Status Repairer::stage(const Piece& p) {
  const std::string name = format::segment_file_name(p.entry.base_offset) + ".staged";
  Bytes bytes;
  format::encode_segment_header({s_.id, p.entry.base_offset, p.run.anchor.value_or(ChainHash{})}, bytes);
  if (p.from != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> from,
                           im_.fs.open(fs::join_path(s_.dir, p.from->name), fs::OpenOptions{.read_only = true}));
    Bytes run(static_cast<std::size_t>(p.run.end_pos - p.run.start_pos));
    CAIRN_ASSIGN_OR_RETURN(std::size_t got, fs::read_full(*from, p.run.start_pos, run));
    if (got != run.size()) return make_error(Errc::io_error, "segment shrank while repairing it: " + p.from->name);
    bytes.insert(bytes.end(), run.begin(), run.end());
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> to, create_fresh(im_.fs, fs::join_path(s_.dir, name)));
  CAIRN_TRY(write_checked(*to, 0, bytes, fs::join_path(s_.dir, name)));
  Status synced = to->sync();
  if (!synced.ok()) return im_.fail_stop(std::move(synced).error());
  return {};
}

Status Repairer::apply() {
  for (const std::string& name : extras_) {
    const std::string path = fs::join_path(s_.dir, name);
    CAIRN_TRY(im_.fs.rename(path, path + ".removed-at-0"));
  }
  for (const Removal& r : to_copy_) {
    if (r.bytes > 0) CAIRN_TRY(keep_bytes(r.segment, r.byte_pos, r.bytes, r.kept_as));
  }
  for (const Piece& p : pieces_) {
    if (!p.in_place) CAIRN_TRY(stage(p));
  }
  for (const Piece& p : pieces_) {
    if (!p.in_place || std::find(header_rewrites_.begin(), header_rewrites_.end(), p.entry.base_offset) == header_rewrites_.end()) continue;
    Bytes header;
    format::encode_segment_header({s_.id, p.entry.base_offset, p.run.anchor.value_or(ChainHash{})}, header);
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> f, im_.fs.open(fs::join_path(s_.dir, p.from->name), {}));
    if (Status written = write_checked(*f, 0, header, fs::join_path(s_.dir, p.from->name)); !written.ok()) {
      // A header written in part (a short write, seed 33994) is in no view of the stream:
      // this one refuses it (stale) and claims nothing durable until a reopen recovers it.
      if (canary_on(Canary::repair_partial_header_kept)) return written;  // planted bug
      s_.stale = true;
      return im_.fail_stop(std::move(written).error());
    }
    Status synced = f->sync();
    if (!synced.ok()) return im_.fail_stop(std::move(synced).error());
  }
  Status dir_synced = im_.fs.sync_dir(s_.dir);
  if (!dir_synced.ok()) return im_.fail_stop(std::move(dir_synced).error());
  const std::uint64_t id = s_.id;
  Status done = commit();
  if (!done.ok()) {
    // Whether or not the commit reached the disk, this process's view of the stream may
    // no longer be what its files hold: reads and verify refuse it until a reopen.
    auto it = im_.streams.find(id);
    if (it != im_.streams.end()) it->second.stale = true;
    return im_.fail_stop(std::move(done).error());
  }
  return {};
}

// The commit point: the manifest says what the stream holds and what is pending; then
// recovery completes the pending operations, as it would after a crash here.
Status Repairer::commit() {
  const manifest::StreamEntry entry = layout();
  s_.frozen = entry;
  CAIRN_TRY(im_.write_manifest(false));
  const std::uint64_t id = s_.id;
  RecoveryReport saved = std::move(im_.report);
  im_.report = RecoveryReport{};
  Status reloaded = im_.recover_stream(id, s_.dir, &entry);
  im_.report = std::move(saved);
  CAIRN_TRY(std::move(reloaded));
  Stream& now = im_.streams.at(id);
  for (Segment& g : now.segments) {
    if (std::find(index_rebuilds_.begin(), index_rebuilds_.end(), g.base_offset) != index_rebuilds_.end()) {
      // From the log: the reload may have taken the lying sidecar's entries as hints.
      CAIRN_TRY(im_.hints_from_log(now, g));
      CAIRN_TRY(im_.write_index(now, g));
    }
  }
  CAIRN_TRY(im_.write_manifest(false));
  report_.next_offset = now.next_offset;
  REACHABLE("repair changed a stream");
  return {};
}

}  // namespace

std::string RepairReport::to_string() const {
  std::string out = fmt::format("stream {}: {}", stream, dry_run ? "repair would" : "repair did");
  if (nothing_to_do()) return out + " nothing: no damage to repair";
  for (const Removal& r : removals) {
    out += fmt::format("\n  remove {} bytes at byte {} of {}", r.bytes, r.byte_pos, r.segment);
    if (r.end_offset > r.first_offset) {
      out += fmt::format(" (offsets {}..{}, {} records)", r.first_offset, r.end_offset - 1, r.end_offset - r.first_offset);
    }
    out += fmt::format(": {}", r.why);
    if (!r.kept_as.empty() && r.bytes > 0) out += fmt::format("; kept in {}", r.kept_as);
  }
  for (const auto& [a, b] : lost_offsets) out += fmt::format("\n  offsets {}..{} are no longer held ({} records)", a, b - 1, b - a);
  for (const std::string& step : steps) out += "\n  step: " + step;
  for (const std::string& left : left_alone) out += "\n  left alone: " + left;
  out += fmt::format("\n  the next append gets offset {}", next_offset);
  return out;
}

Result<RepairReport> Store::Impl::repair(Stream& s, bool dry_run) {
  Repairer r(*this, s, dry_run);
  return r.run();
}

Result<RepairReport> Store::repair(std::uint64_t stream, bool dry_run) {
  Impl& im = *impl_;
  if (im.closed) return make_error(Errc::closed, "the store is closed");
  if (!dry_run) CAIRN_TRY(im.check_writable());  // a dry run plans only: read-only stores may
  CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(stream));
  if (!dry_run) CAIRN_TRY(im.finish_sync(*s));  // its mark would name bytes the repair moves
  return im.repair(*s, dry_run);
}

}  // namespace cairn
