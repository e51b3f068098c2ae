// Recovery of one stream: the directory-level steps (RECOVERY.md rows P*, F*, I*, R1).
#include <algorithm>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/recovery.h"
#include "properties/properties.h"

namespace cairn {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr char kStagedSuffix[] = ".staged";

}  // namespace

StreamRecovery::StreamRecovery(Store::Impl& im, Stream& s, const manifest::StreamEntry* listed,
                               bool clean_shutdown, bool have_manifest)
    : im_(im), s_(s), listed_(listed), clean_(clean_shutdown && listed != nullptr),
      have_manifest_(have_manifest) {
  if (listed_) s_.gaps = listed_->gaps;
}

Status StreamRecovery::run() {
  CAIRN_TRY(list_files());
  CAIRN_TRY(remove_temps());
  CAIRN_TRY(complete_pending());
  CAIRN_TRY(remove_leftovers());
  if (listed_) {
    CAIRN_TRY(plan_from_manifest());
  } else {
    CAIRN_TRY(plan_from_disk());
  }
  CAIRN_TRY(load_all());
  return finish();
}

void StreamRecovery::add_finding(Finding f) {
  f.stream = s_.id;
  s_.open_findings.push_back(f);
  im_.report.damage.push_back(std::move(f));
  REACHABLE("recovery reported damage");
}

void StreamRecovery::block(const Finding& f) {
  if (s_.blocked) return;
  Error e = make_error(Errc::corruption, "stream needs `cairn repair` before appends: " + f.what);
  e.stream = s_.id;
  e.segment = f.segment;
  e.byte_pos = f.byte_pos;
  e.offset = f.offset;
  s_.blocked = std::move(e);
  im_.report.blocked_streams.push_back(s_.id);
}

Status StreamRecovery::remove_file(const std::string& name, const std::string& why) {
  if (!im_.read_only()) CAIRN_TRY(im_.fs.unlink(fs::join_path(s_.dir, name)));
  im_.act(fmt::format("stream {}: removed {} ({})", s_.id, name, why),
          fmt::format("stream {}: would remove {} ({})", s_.id, name, why));
  return {};
}

Status StreamRecovery::list_files() {
  // Act only on durable entries (see Store::Impl::recover_streams).
  if (!im_.read_only()) {
    Status synced = im_.fs.sync_dir(s_.dir);
    if (!synced.ok() && synced.error().code != Errc::not_found) return std::move(synced).error();
  }
  auto names = im_.fs.list_dir(s_.dir);
  if (!names.ok()) {
    if (names.error().code != Errc::not_found) return std::move(names).error();
    files_.dir_present = false;  // I3: every listed segment is missing
    return {};
  }
  for (const std::string& name : *names) {
    if (auto b = format::parse_segment_name(name, "log")) {
      files_.logs[*b] = name;
    } else if (auto i = format::parse_segment_name(name, "idx")) {
      files_.indexes.insert(*i);
    } else if (ends_with(name, kTempSuffix)) {
      files_.temps.push_back(name);
    } else if (ends_with(name, kStagedSuffix)) {
      auto staged = format::parse_segment_name(name.substr(0, name.size() - 7), "log");
      if (staged) files_.staged[*staged] = name;
    }
  }
  return {};
}

// P1-P3: a repair committed these in the manifest; each is idempotent. Installs come
// first and are made durable before any cut or set-aside: a staged piece must be a
// segment before the bytes it copied leave their old file.
Status StreamRecovery::complete_pending() {
  if (!listed_) return {};
  for (const manifest::Pending& p : listed_->pending) {
    if (p.kind != manifest::PendingKind::install) continue;
    const std::string name = format::segment_file_name(p.base_offset);
    if (!files_.staged.count(p.base_offset)) {
      // Installed already, but that rename may not have reached the disk (a failed
      // directory fsync keeps showing it): install a fresh copy.
      if (files_.logs.count(p.base_offset) && !im_.read_only()) CAIRN_TRY(reinstall(name));
      continue;
    }
    const std::string staged = files_.staged[p.base_offset];
    if (!im_.read_only()) CAIRN_TRY(im_.fs.rename(fs::join_path(s_.dir, staged), fs::join_path(s_.dir, name)));
    files_.logs[p.base_offset] = im_.read_only() ? staged : name;  // P1
    files_.staged.erase(p.base_offset);
    im_.act(fmt::format("stream {}: installed {} (repair)", s_.id, name),
            fmt::format("stream {}: would install {} (repair)", s_.id, name));
  }
  if (!im_.read_only() && !listed_->pending.empty()) CAIRN_TRY(im_.fs.sync_dir(s_.dir));
  for (const manifest::Pending& p : listed_->pending) {
    if (p.kind == manifest::PendingKind::cut) CAIRN_TRY(complete_cut(p));
    if (p.kind == manifest::PendingKind::set_aside && files_.logs.count(p.base_offset)) {
      const std::string name = format::segment_file_name(p.base_offset);
      const std::string path = fs::join_path(s_.dir, name);
      if (!im_.read_only()) CAIRN_TRY(im_.fs.rename(path, path + ".removed-at-0"));
      files_.logs.erase(p.base_offset);  // P3
      im_.act(fmt::format("stream {}: set {} aside as {}.removed-at-0 (repair)", s_.id, name, name),
              fmt::format("stream {}: would set {} aside (repair)", s_.id, name));
    }
  }
  return {};
}

// P1, after the rename: the file is made durable under its name by a fresh copy.
Status StreamRecovery::reinstall(const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> f,
                         im_.fs.open(fs::join_path(s_.dir, name), fs::OpenOptions{.read_only = true}));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t size, f->size());
  f.reset();
  return recreate_file(im_.fs, s_.dir, name, size);
}

// P2: the bytes past size_bytes are kept elsewhere already.
Status StreamRecovery::complete_cut(const manifest::Pending& p) {
  if (!files_.logs.count(p.base_offset)) return {};
  const std::string name = format::segment_file_name(p.base_offset);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> f,
                         im_.fs.open(fs::join_path(s_.dir, name), fs::OpenOptions{.read_only = im_.read_only()}));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t size, f->size());
  if (im_.read_only()) {
    if (size > p.size_bytes) files_.cut_to[p.base_offset] = p.size_bytes;  // read as the writer will leave it
  } else {
    // The sidecar describes the old extent: it goes first, durably (the load that follows
    // rebuilds it from the log), so no open ever finds it beside the cut segment.
    const std::string idx = fs::join_path(s_.dir, format::index_file_name(p.base_offset));
    Status gone = im_.fs.unlink(idx);
    if (!gone.ok() && gone.error().code != Errc::not_found) return std::move(gone).error();
    if (gone.ok()) CAIRN_TRY(im_.fs.sync_dir(s_.dir));
    // Cut and sync even when the file already looks short: after a failed fsync the size
    // this process sees may never have reached the disk (fsyncgate, for truncation).
    CAIRN_TRY(f->truncate(std::min(size, p.size_bytes)));
    CAIRN_TRY(f->sync());
  }
  if (size <= p.size_bytes) return {};
  im_.act(fmt::format("stream {}: cut {} to {} bytes (repair)", s_.id, name, p.size_bytes),
          fmt::format("stream {}: would cut {} to {} bytes (repair)", s_.id, name, p.size_bytes));
  return {};
}

// F1: leftovers of replacements that a crash interrupted (first: recovery makes its own).
Status StreamRecovery::remove_temps() {
  for (const std::string& name : files_.temps) CAIRN_TRY(remove_file(name, "leftover of an interrupted replacement"));
  files_.temps.clear();
  return {};
}

// F2, F3: leftovers of repairs that never committed, and sidecars without a segment.
Status StreamRecovery::remove_leftovers() {
  // F2: the manifest is the commit point of a repair; a staged file it does not name never
  // held the only copy of anything. Without a valid manifest that cannot be known: kept.
  if (have_manifest_) {
    for (const auto& [base, name] : files_.staged) CAIRN_TRY(remove_file(name, "staged by a repair that never committed"));
  }
  for (std::uint64_t base : files_.indexes) {
    if (!files_.logs.count(base)) CAIRN_TRY(remove_file(format::index_file_name(base), "sidecar without its segment"));  // F3
  }
  return {};
}

Status StreamRecovery::plan_from_manifest() {
  const manifest::StreamEntry& m = *listed_;
  std::vector<std::uint64_t> extras;
  for (auto it = files_.logs.begin(); it != files_.logs.end();) {
    const std::uint64_t base = it->first;
    const bool is_listed = std::any_of(m.segments.begin(), m.segments.end(),
                                       [&](const manifest::SegmentEntry& e) { return e.base_offset == base; });
    if (base < m.first_offset && !is_listed) {
      // I4: retention moves the first offset in the manifest before it deletes.
      CAIRN_TRY(remove_file(it->second, "below the first retained offset: an interrupted purge"));
      if (files_.indexes.count(base)) CAIRN_TRY(remove_file(format::index_file_name(base), "sidecar of a purged segment"));
      it = files_.logs.erase(it);
      continue;
    }
    if (!is_listed) extras.push_back(base);
    ++it;
  }
  for (const manifest::SegmentEntry& e : m.segments) {
    PlannedSegment p;
    p.base = e.base_offset;
    p.listed = e;
    p.present = files_.logs.count(e.base_offset) > 0;
    p.name = p.present ? files_.logs[e.base_offset] : format::segment_file_name(e.base_offset);
    plan_.push_back(std::move(p));
  }
  return plan_extras(extras);
}

// I7-I9: segment files the manifest does not list.
Status StreamRecovery::plan_extras(const std::vector<std::uint64_t>& extras) {
  const std::uint64_t active_base = listed_->active().base_offset;
  for (std::uint64_t base : extras) {
    const std::string name = files_.logs[base];
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> f,
                           im_.fs.open(fs::join_path(s_.dir, name), fs::OpenOptions{.read_only = true}));
    CAIRN_ASSIGN_OR_RETURN(SegmentProbe probe, probe_segment(*f));
    const bool header_valid = format::decode_segment_header(probe.head).status == format::HeaderStatus::ok;
    const bool after_active = base > active_base;
    const bool have_successor = !plan_.empty() && plan_.back().successor;
    if (after_active && !have_successor && probe.file_size <= format::kSegmentHeaderBytes && !header_valid) {
      // I8: its header is synced before anything in it counts; this creation was cut short.
      CAIRN_TRY(remove_file(name, "creation cut short"));
      REACHABLE("recovery removed a segment whose creation was cut short");
      continue;
    }
    if (after_active && !have_successor) {
      // I7: a rotation syncs the old segment, creates this one, then writes the manifest.
      plan_.push_back(PlannedSegment{base, name, std::nullopt, true, true});
      im_.act(fmt::format("stream {}: adopted {} (its rotation's manifest write was cut short)", s_.id, name),
              fmt::format("stream {}: would adopt {} (created by a rotation)", s_.id, name));
      continue;
    }
    // I9: not part of the stream as the manifest knows it: never read, never deleted.
    add_finding(Finding{s_.id, name, 0, base, base + 1,
                        "segment file not in the manifest: not read (`cairn repair` sets it aside)"});
  }
  return {};
}

// No manifest (a store of an earlier version, or one whose manifest was lost): the
// directory listing is the segment list.
Status StreamRecovery::plan_from_disk() {
  std::vector<std::pair<std::uint64_t, std::string>> logs(files_.logs.begin(), files_.logs.end());
  if (!logs.empty()) {
    // R1: a last segment of at most a header without a valid header never held a record
    // (headers are synced first) -- unless it is the only one and its base is above 0:
    // then it is the lone survivor of retention, and removing it would reuse offsets.
    const auto& [base, name] = logs.back();
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> f,
                           im_.fs.open(fs::join_path(s_.dir, name), fs::OpenOptions{.read_only = true}));
    CAIRN_ASSIGN_OR_RETURN(SegmentProbe probe, probe_segment(*f));
    const format::HeaderStatus hs = format::decode_segment_header(probe.head).status;
    const bool lone_after_purge = logs.size() == 1 && base > 0;
    if (probe.file_size <= format::kSegmentHeaderBytes && hs != format::HeaderStatus::ok &&
        hs != format::HeaderStatus::bad_version && !lone_after_purge) {
      CAIRN_TRY(remove_file(name, "creation cut short"));
      REACHABLE("recovery removed a segment whose creation was cut short");
      logs.pop_back();
    }
  }
  for (const auto& [base, name] : logs) plan_.push_back(PlannedSegment{base, name, std::nullopt, true, false});
  return {};
}

SegmentLink StreamRecovery::link_before(std::uint64_t base) const {
  SegmentLink link;
  if (s_.segments.empty()) return link;
  if (std::any_of(s_.gaps.begin(), s_.gaps.end(), [&](const manifest::Gap& g) { return g.to_offset == base; })) {
    return link;  // across a gap repair recorded: nothing to link to
  }
  const Segment& prev = s_.segments.back();
  link.expected_base = prev.next_offset;
  if (prev.anchor_known || prev.sealed || prev.missing) link.expected_anchor = prev.last_hash;
  return link;
}

// The next offset after the records of a segment file, by a read-only scan.
Result<std::uint64_t> StreamRecovery::scanned_next_offset(const PlannedSegment& p) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file,
                         im_.fs.open(fs::join_path(s_.dir, p.name), fs::OpenOptions{.read_only = true}));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t size, file->size());
  Segment seg;
  seg.base_offset = p.base;
  seg.name = p.name;
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan(seg, *file, size, UINT64_MAX));
  return r.next_offset;
}

// I9 for the last file: after M3, a repair's piece whose new active segment never became
// durable is the last file, and the original before it holds every offset it holds. It is
// left unread like any I9 file, and the original is the active segment again, not the
// piece beside it (seed 27326: both were kept, and the next repair wrote a manifest whose
// segments overlap). `before` is the loaded segment before `last`; reads `last` only when
// it starts inside `before`. Returns the finding, if so.
Result<std::optional<Finding>> StreamRecovery::last_piece(const Segment& before, const PlannedSegment& last) {
  if (!last.present || last.listed || last.base >= before.next_offset || canary_on(Canary::last_piece_kept)) {
    return std::optional<Finding>();  // planted bug when on: the piece is kept
  }
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t last_next, scanned_next_offset(last));
  if (last_next > before.next_offset) return std::optional<Finding>();
  REACHABLE("recovery set aside a repair's piece left as the last segment file");
  return std::optional<Finding>(overlap_finding(last.name, last.base, last_next));
}

// I9's finding: a segment file whose offsets [base, next) the segment before it holds.
Finding StreamRecovery::overlap_finding(const std::string& name, std::uint64_t base, std::uint64_t next) const {
  return Finding{s_.id, name, 0, base, next,
                 fmt::format("segment overlaps offsets {}..{} of the previous one: not read (`cairn repair` sets it aside)",
                             base, next - 1)};
}

// A present planned segment, loaded as a sealed one or (last) as the active one.
Result<Segment> StreamRecovery::load_present(const PlannedSegment& p, bool last) {
  Segment seg;
  seg.base_offset = p.base;
  seg.name = p.name;
  seg.next_offset = p.base;
  const bool writable_active = last && !im_.read_only();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file,
                         im_.fs.open(fs::join_path(s_.dir, p.name), fs::OpenOptions{.read_only = !writable_active}));
  CAIRN_ASSIGN_OR_RETURN(SegmentProbe probe, probe_segment(*file));
  if (files_.cut_to.count(p.base)) probe.file_size = std::min(probe.file_size, files_.cut_to[p.base]);
  CAIRN_ASSIGN_OR_RETURN(HeaderCheck hc, check_segment_header(probe.head, s_.id, p.name, p.base, link_before(p.base)));
  seg.anchor_known = hc.anchor.has_value();
  seg.anchor = hc.anchor.value_or(ChainHash{});
  seg.damage = hc.findings;
  if (!last) {
    CAIRN_TRY(load_sealed(p, seg, *file, probe));
  } else {
    seg.file = std::move(file);
    CAIRN_TRY(load_active(p, seg, probe));
    // H2 for the active segment (its torn tail cut as always): appending would continue
    // a chain from an anchor nobody can vouch for, in a file unreadable by the header's
    // rules: repair first.
    if (!hc.header_ok && listed_ != nullptr) block(hc.findings.front());
  }
  return seg;
}

// A loaded segment joins the stream with its findings, unless (I9) every offset it holds
// the segment before it holds too (after M3, a repair's piece beside the original whose
// cut went with the lost manifest): then it is reported and not read.
void StreamRecovery::keep(Segment seg, bool last) {
  if (!last && !s_.segments.empty() && seg.base_offset < s_.segments.back().next_offset &&
      seg.next_offset <= s_.segments.back().next_offset) {
    add_finding(overlap_finding(seg.name, seg.base_offset, seg.next_offset));
    return;
  }
  for (const Finding& f : seg.damage) add_finding(f);
  s_.segments.push_back(std::move(seg));
}

Status StreamRecovery::load_all() {
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    const PlannedSegment& p = plan_[i];
    const bool last = i + 1 == plan_.size();
    if (!p.present) {
      CAIRN_TRY(load_missing(p));
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(Segment seg, load_present(p, last));
    if (i + 2 == plan_.size()) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<Finding> piece, last_piece(seg, plan_[i + 1]));
      if (piece) {
        seg = Segment{};  // its read-only handle closed: loaded again as the active segment
        CAIRN_ASSIGN_OR_RETURN(seg, load_present(p, true));
        keep(std::move(seg), true);
        add_finding(*piece);
        break;
      }
    }
    keep(std::move(seg), last);
  }
  return {};
}

Status StreamRecovery::finish() {
  if (s_.segments.empty()) {
    // I1: a stream directory without segments the manifest does not list (or without a
    // manifest, M3) was left by a creation cut short, whose directory entry may never
    // reach the disk: not a stream (a later append starts the directory afresh).
    if (im_.read_only() || !listed_) return {};
    CAIRN_TRY(im_.create_segment(s_, 0, kZeroHash));
  }
  Segment& act = s_.active();
  ALWAYS(act.missing || (!act.sealed && act.file != nullptr),
         "recovery leaves one open, unsealed active segment", {"stream", s_.id});
  if (!im_.read_only() && files_.indexes.count(act.base_offset) && !act.missing) {
    CAIRN_TRY(remove_file(format::index_file_name(act.base_offset), "sidecar of the active segment"));  // F4
  }
  s_.next_offset = act.next_offset;
  s_.head = act.last_hash;
  s_.durable_offset = s_.next_offset;
  s_.durable = DurableMark{s_.next_offset, act.size_bytes, act.last_frame_pos, s_.head};
  s_.written = s_.durable;
  for (const Segment& g : s_.segments) s_.last_ts = std::max(s_.last_ts, g.last_ts);
  std::uint64_t since = s_.next_offset - s_.first_offset();
  for (auto it = s_.segments.rbegin(); it != s_.segments.rend(); ++it) {
    if (!it->checkpoints.empty()) {
      since = s_.next_offset - (it->checkpoints.back().offset + 1);
      break;
    }
  }
  s_.records_since_checkpoint = since;
  if (s_.blocked) {
    ALWAYS(listed_ != nullptr, "only a stream the manifest lists can be blocked", {"stream", s_.id});
    if (listed_) s_.frozen = *listed_;
  }
  return {};
}

}  // namespace cairn
