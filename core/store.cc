// Store: the write path (append, sync, checkpoint, rotation, purge), stats and close.
#include "core/store.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/canary.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {

// ---------------------------------------------------------------- small value helpers

Result<SyncPolicy> parse_sync_policy(const std::string& text) {
  SyncPolicy p;
  if (text == "always") return p;
  if (text == "manual") {
    p.mode = SyncMode::manual;
    return p;
  }
  if (text.rfind("every:", 0) == 0) {
    std::string n = text.substr(6);
    bool bytes = !n.empty() && n.back() == 'b';
    if (bytes) n.pop_back();
    if (!n.empty() && n.size() <= 18 &&
        std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      std::uint64_t v = std::stoull(n);
      if (v > 0) {
        p.mode = SyncMode::every;
        (bytes ? p.every_bytes : p.every_records) = v;
        return p;
      }
    }
  }
  return make_error(Errc::invalid_argument,
                    "sync policy must be always, manual, every:N (records) or every:Nb (bytes), not '" +
                        text + "'");
}

std::string to_string(const SyncPolicy& p) {
  switch (p.mode) {
    case SyncMode::always: return "always";
    case SyncMode::manual: return "manual";
    case SyncMode::every:
      return p.every_bytes > 0 ? fmt::format("every:{}b", p.every_bytes)
                               : fmt::format("every:{}", p.every_records);
  }
  return "?";
}

const char* finding_kind_name(FindingKind k) {
  switch (k) {
    case FindingKind::damage: return "damage";
    case FindingKind::index: return "index";
    case FindingKind::manifest: return "manifest";
    case FindingKind::spine: return "spine";
  }
  return "?";
}

std::string Finding::to_string() const {
  return fmt::format("stream {} file {} byte {} offset {}: {}", stream, segment, byte_pos, offset,
                     what);
}

std::string RecoveryReport::to_string() const {
  std::string out = fmt::format("{} {} streams, {} segments", read_only ? "inspected" : "recovered",
                                streams, segments);
  if (live_writer) out += " (a writer is live)";
  for (const TornTail& t : torn_tails) {
    const char* verb = t.in_progress ? "in progress (being written)" : t.cut ? "cut" : "would be cut";
    out += fmt::format("\n  torn tail: stream {} file {} {} at byte {}: {} bytes, {} records "
                       "(from offset {})",
                       t.stream, t.segment, verb, t.byte_pos, t.bytes_dropped, t.records_dropped,
                       t.first_offset_dropped);
    if (t.possibly_acknowledged > 0) {
      out += fmt::format("; {} of them possibly acknowledged (offsets {}..{})", t.possibly_acknowledged,
                         t.first_offset_dropped, t.first_offset_dropped + t.possibly_acknowledged - 1);
    }
  }
  for (const Finding& f : damage) out += fmt::format("\n  {}: {}", finding_kind_name(f.kind), f.to_string());
  for (const std::string& i : invalid_indexes) out += "\n  index rebuilt from the log: " + i;
  for (std::uint64_t id : blocked_streams) {
    out += fmt::format("\n  stream {} refuses appends until `cairn repair`", id);
  }
  for (const std::string& a : actions) out += "\n  " + a;
  return out;
}

const manifest::Gap* Stream::gap_at(std::uint64_t offset) const {
  for (const manifest::Gap& g : gaps) {
    if (offset >= g.from_offset && offset < g.to_offset) return &g;
  }
  return nullptr;
}

format::SegmentSummary Segment::summary(std::uint64_t stream) const {
  format::SegmentSummary s;
  s.stream_id = stream;
  s.base_offset = base_offset;
  s.segment_bytes = size_bytes;
  s.next_offset = next_offset;
  s.first_timestamp_us = first_ts;
  s.last_timestamp_us = last_ts;
  s.last_hash = last_hash;
  s.entries = entries;
  s.checkpoints = checkpoints;
  return s;
}

manifest::SegmentEntry Segment::sealed_entry() const {
  return manifest::SegmentEntry{base_offset, next_offset, size_bytes, last_frame_pos, last_hash,
                                manifest::SegmentState::sealed};
}

void Store::Impl::act(const std::string& done, const std::string& would) {
  const std::string& text = read_only() ? would : done;
  if (!text.empty()) report.actions.push_back(text);
}

// ---------------------------------------------------------------- Impl helpers

Status Store::Impl::check_writable() const {
  if (closed) return make_error(Errc::closed, "the store is closed");
  if (read_only()) {
    Error e = make_error(Errc::read_only, "the store at " + dir + " was opened read-only");
    e.segment = dir;
    return e;
  }
  if (failed) {
    return make_error(Errc::fail_stopped,
                      "the store is fail-stop after a failed fsync (" + failed_reason +
                          "); reopen it to recover");
  }
  return {};
}

Status Store::Impl::check_fresh(const Stream& s) {
  if (!s.stale) return {};
  Error e = make_error(Errc::fail_stopped, fmt::format("stream {}: a repair failed after its commit, so this view of "
                                                       "the stream is stale; reopen the store to complete the repair",
                                                       s.id));
  e.stream = s.id;
  return e;
}

Error Store::Impl::fail_stop(Error e) {
  if (!failed) {
    failed = true;
    failed_reason = e.to_string();
  }
  REACHABLE("store became fail-stop after a failed fsync");
  return e;
}

Result<Stream*> Store::Impl::find_stream(std::uint64_t id) {
  auto it = streams.find(id);
  if (it == streams.end()) return make_error(Errc::not_found, fmt::format("no stream {}", id));
  return &it->second;
}

Result<const Stream*> Store::Impl::find_stream(std::uint64_t id) const {
  auto it = streams.find(id);
  if (it == streams.end()) return make_error(Errc::not_found, fmt::format("no stream {}", id));
  return &it->second;
}

Error Store::Impl::located(Errc code, const Stream& s, const Segment& seg, std::uint64_t byte_pos,
                           std::uint64_t offset, std::string message) const {
  Error e = make_error(code, std::move(message));
  e.stream = s.id;
  e.segment = seg.name;
  e.byte_pos = byte_pos;
  e.offset = offset;
  return e;
}

void Store::Impl::evict_sealed_files(std::size_t keep) {
  std::vector<Segment*> open;
  for (auto& [id, st] : streams) {
    for (Segment& g : st.segments) {
      if (g.sealed && g.file) open.push_back(&g);
    }
  }
  if (open.size() <= keep) return;
  std::sort(open.begin(), open.end(), [](const Segment* a, const Segment* b) { return a->last_read_tick < b->last_read_tick; });
  for (std::size_t i = 0; i + keep < open.size(); ++i) open[i]->close_file();
}

Result<fs::File*> Store::Impl::segment_file(Stream& s, Segment& seg) {
  seg.last_read_tick = ++file_tick;
  if (seg.file) return seg.file.get();
  // An LRU cache of sealed segments' handles: room for this one among the most recent.
  if (seg.sealed) evict_sealed_files(options.max_open_sealed_files - 1);
  // Sealed segments are only ever read; a read-only store reads everything.
  auto opened = fs.open(fs::join_path(s.dir, seg.name), fs::OpenOptions{.read_only = seg.sealed || read_only()});
  if (!opened.ok()) {
    Error e = std::move(opened).error();
    e.stream = s.id;
    e.segment = seg.name;
    return e;
  }
  seg.file = std::move(opened).value();
  return seg.file.get();
}

ScanInput Store::Impl::scan_input(const Stream& s, const Segment& seg, std::uint64_t file_size) const {
  ScanInput in;
  in.stream = s.id;
  in.segment = seg.name;
  in.base_offset = seg.base_offset;
  if (seg.anchor_known) in.anchor = seg.anchor;
  in.file_size = file_size;
  in.max_record_bytes = max_record_bytes;
  in.index_interval_bytes = options.index_interval_bytes;
  in.durable_below = UINT64_MAX;
  return in;
}

Status Store::Impl::open_reader(Stream& s, Segment& seg, std::uint64_t size_bytes, std::size_t window_bytes,
                                std::optional<FrameReader>& out) {
  CAIRN_ASSIGN_OR_RETURN(fs::File * file, segment_file(s, seg));
  if (const fs::Mapping* m = sealed_mapping(seg, *file, size_bytes)) {
    out.emplace(m->bytes().first(static_cast<std::size_t>(size_bytes)), max_record_bytes, &read_buffers);
    return {};
  }
  out.emplace(*file, size_bytes, max_record_bytes, window_bytes, &read_buffers);
  return {};
}

const fs::Mapping* Store::Impl::sealed_mapping(Segment& seg, fs::File& file, std::uint64_t size_bytes) {
  if (!options.mapped_reads || !seg.sealed) return nullptr;
  if (!seg.mapping || seg.mapping->bytes().size() < size_bytes) {
    seg.mapping.reset();
    auto mapped = file.map(size_bytes);  // fails past the end of a cut file: pread then says where
    if (mapped.ok()) seg.mapping = std::move(mapped).value();
  }
  return seg.mapping.get();
}

Status Store::Impl::create_segment(Stream& s, std::uint64_t base_offset, const ChainHash& anchor) {
  Segment seg;
  seg.base_offset = base_offset;
  seg.name = format::segment_file_name(base_offset);
  seg.next_offset = base_offset;
  seg.anchor = anchor;
  seg.last_hash = anchor;
  seg.size_bytes = format::kSegmentHeaderBytes;
  const std::string path = fs::join_path(s.dir, seg.name);
  // A file of this name can only be the leftover of a creation that failed before it
  // held any record, so it is overwritten.
  CAIRN_ASSIGN_OR_RETURN(seg.file, fs.open(path, fs::OpenOptions{.create = true, .truncate = true}));
  Bytes header;
  format::encode_segment_header({s.id, base_offset, anchor}, header);
  Status written = fs::write_all(*seg.file, 0, header);
  if (!written.ok()) {
    // Leave no header-less file behind: the records of this base offset may yet go to
    // the current segment. (Recovery removes one left anyway.)
    seg.file.reset();
    (void)fs.unlink(path);
    return written;
  }
  Status synced = seg.file->sync();
  if (!synced.ok()) return fail_stop(std::move(synced).error());
  // The directory entry must be durable before any record in the file is acknowledged.
  if (!canary_on(Canary::no_dir_fsync_on_create)) {
    Status dir_synced = fs.sync_dir(s.dir);
    if (!dir_synced.ok() && !canary_on(Canary::segment_dir_fsync_failure_ignored)) {
      return fail_stop(std::move(dir_synced).error());
    }
  }
  s.segments.push_back(std::move(seg));
  return {};
}

Result<Stream*> Store::Impl::get_or_create_stream(std::uint64_t id) {
  auto it = streams.find(id);
  if (it != streams.end()) return &it->second;
  CAIRN_TRY(check_writable());
  Stream s;
  s.id = id;
  s.dir = fs::join_path(dir, format::stream_dir_name(id));
  Status made = fs.mkdir(s.dir);
  if (!made.ok() && made.error().code == Errc::already_exists) {
    // Left by a creation cut short (the manifest does not list it, so nothing in it was
    // acknowledged). Its entry may be one a failed directory fsync lost while this process
    // still sees it: start it afresh rather than trust it.
    CAIRN_TRY(remove_dir(s.dir));
    made = fs.mkdir(s.dir);
  }
  if (!made.ok()) return std::move(made).error();
  Status dir_synced = canary_on(Canary::stream_dir_not_synced) ? Status{} : fs.sync_dir(dir);
  if (!dir_synced.ok()) return fail_stop(std::move(dir_synced).error());
  CAIRN_TRY(create_segment(s, 0, kZeroHash));
  s.durable = s.written = DurableMark{0, format::kSegmentHeaderBytes, 0, kZeroHash};
  auto [pos, inserted] = streams.emplace(id, std::move(s));
  // The manifest lists the stream before any record of it is acknowledged.
  CAIRN_TRY(write_manifest(false));
  return &pos->second;
}

Status Store::Impl::remove_dir(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(path));
  for (const std::string& name : names) CAIRN_TRY(fs.unlink(fs::join_path(path, name)));
  return fs.rmdir(path);
}

Status Store::Impl::write_index(Stream& s, const Segment& seg) {
  Bytes bytes = format::encode_index(seg.summary(s.id));
  bool sync_failed = false;
  Status st = replace_file_atomically(fs, s.dir, format::index_file_name(seg.base_offset), bytes,
                                      &sync_failed);
  if (!st.ok() && sync_failed) return fail_stop(std::move(st).error());
  // Any other failure only costs a rebuild from the log on the next open.
  return {};
}

Status Store::Impl::sync_stream(Stream& s) {
  CAIRN_TRY(finish_sync(s));
  if (!s.dirty) {
    ALWAYS(s.durable_offset == s.next_offset, "a clean stream is durable to its end", {"stream", s.id});
    return {};
  }
  Status st = s.active().file->sync();
  if (!st.ok() && canary_on(Canary::failed_fsync_retried)) st = s.active().file->sync();
  if (!st.ok()) return fail_stop(std::move(st).error());
  const Segment& act = s.active();
  s.dirty = false;
  s.unsynced_records = 0;
  s.unsynced_bytes = 0;
  return synced_to(s, DurableMark{s.next_offset, act.size_bytes, act.last_frame_pos, s.head});
}

Status Store::Impl::start_sync(Stream& s) {
  CAIRN_TRY(finish_sync(s));
  const Segment& act = s.active();
  auto pending = act.file->start_sync();
  if (!pending.ok()) return fail_stop(std::move(pending).error());
  s.in_flight = InFlightSync{std::move(*pending), DurableMark{s.next_offset, act.size_bytes, act.last_frame_pos, s.head},
                             s.unsynced_records, s.unsynced_bytes};
  s.dirty = false;  // until the next write: what is written now is the sync's to make durable
  s.unsynced_records = 0;
  s.unsynced_bytes = 0;
  if (canary_on(Canary::pipelined_ack_at_start)) s.durable_offset = s.next_offset;  // planted bug
  return {};
}

Status Store::Impl::finish_sync(Stream& s) {
  if (!s.in_flight) return {};
  InFlightSync f = std::move(*s.in_flight);
  s.in_flight.reset();
  Status st = f.pending->wait();
  if (!st.ok()) return fail_stop(std::move(st).error());
  if (canary_on(Canary::pipelined_mark_at_finish)) {  // planted bug: credits the later writes too
    f.mark = DurableMark{s.next_offset, s.active().size_bytes, s.active().last_frame_pos, s.head};
  }
  ALWAYS(f.mark.offset >= s.durable_offset || canary_on(Canary::durable_offset_frozen),
         "a sync in flight never moves the durable offset back", {"stream", s.id}, {"mark", f.mark.offset},
         {"durable", s.durable_offset});
  return synced_to(s, f.mark);
}

Status Store::Impl::synced_to(Stream& s, const DurableMark& mark) {
  s.durable = mark;
  // Bound the window no proof covers: advance the recovery point before acknowledging
  // durability far past it (RECOVERY.md A5, "possibly acknowledged").
  if (s.durable.byte - s.written.byte >= options.recovery_point_interval_bytes) {
    CAIRN_TRY(write_manifest(false));
  }
  if (!canary_on(Canary::durable_offset_frozen)) s.durable_offset = mark.offset;
  // Bound the leaves kept in memory: write them once there are many (one fsync per 64Ki).
  if (s.spine.pending.size() >= kSpinePendingLeaves) CAIRN_TRY(flush_spine(s));
  return {};
}

Status Store::Impl::rotate(Stream& s) {
  // Seal: the old segment is durable in full before the next one exists. Until the
  // manifest below lands, recovery adopts the new segment as the one successor of the
  // listed active segment (RECOVERY.md I7).
  CAIRN_TRY(finish_sync(s));  // it covers bytes of this file only
  if (!canary_on(Canary::seal_without_sync)) CAIRN_TRY(sync_stream(s));
  // Its leaves reach the spine before retention can ever remove it.
  CAIRN_TRY(flush_spine(s));
  CAIRN_TRY(create_segment(s, s.next_offset, s.head));
  Segment& old = s.segments[s.segments.size() - 2];
  old.sealed = true;
  old.recorded = old.sealed_entry();
  old.close_file();
  REACHABLE("segment rotated", {"stream", s.id}, {"base_offset", s.next_offset});
  CAIRN_TRY(write_index(s, old));
  s.durable = DurableMark{s.next_offset, format::kSegmentHeaderBytes, 0, s.head};
  return write_manifest(false);
}

// ---------------------------------------------------------------- Store

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

const RecoveryReport& Store::recovery_report() const { return impl_->report; }

Result<AppendResult> Store::append(std::uint64_t stream, const std::vector<Bytes>& batch) {
  return impl_->append_checked(stream, std::vector<ByteView>(batch.begin(), batch.end()));
}

Result<AppendResult> Store::append(std::uint64_t stream, ByteView payload) {
  return impl_->append_checked(stream, {payload});
}

Result<AppendResult> Store::append_pipelined(std::uint64_t stream, const std::vector<Bytes>& batch) {
  return impl_->append_checked(stream, std::vector<ByteView>(batch.begin(), batch.end()), true);
}

Status Store::wait_durable(std::uint64_t stream, std::uint64_t offset) {
  Impl& im = *impl_;
  CAIRN_TRY(im.check_writable());
  CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(stream));
  if (offset >= s->next_offset) {
    return make_error(Errc::invalid_argument, fmt::format("wait_durable: offset {} of stream {} was never appended "
                                                          "(next offset {})", offset, stream, s->next_offset));
  }
  if (offset < s->durable_offset) return {};
  CAIRN_TRY(im.finish_sync(*s));
  if (offset < s->durable_offset) return {};
  return im.sync_stream(*s);
}

Result<AppendResult> Store::Impl::append_checked(std::uint64_t stream, const std::vector<ByteView>& batch,
                                                 bool pipelined) {
  CAIRN_TRY(check_writable());
  if (batch.empty()) return make_error(Errc::invalid_argument, "append of an empty batch");
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].size() > options.max_record_bytes) {
      return make_error(Errc::record_too_large,
                        fmt::format("record {} of the batch is {} bytes, above max_record_bytes {}",
                                    i, batch[i].size(), options.max_record_bytes));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(Stream* s, get_or_create_stream(stream));
  if (s->blocked) return *s->blocked;
  return append_records(*s, batch, false, pipelined);
}

Status Store::sync() {
  CAIRN_TRY(impl_->check_writable());
  for (auto& [id, s] : impl_->streams) {
    if (!s.blocked) CAIRN_TRY(impl_->sync_stream(s));
  }
  return {};
}

Status Store::sync(std::uint64_t stream) {
  CAIRN_TRY(impl_->check_writable());
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  if (s->blocked) return {};  // nothing was appended to it in this process
  return impl_->sync_stream(*s);
}

Result<std::uint64_t> Store::checkpoint(std::uint64_t stream) {
  CAIRN_TRY(impl_->check_writable());
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  if (s->blocked) return *s->blocked;
  CAIRN_ASSIGN_OR_RETURN(AppendResult r, impl_->append_records(*s, {}, true));
  return *r.checkpoint_offset;
}

Result<std::uint64_t> Store::durable_offset(std::uint64_t stream) const {
  CAIRN_ASSIGN_OR_RETURN(const Stream* s, impl_->find_stream(stream));
  CAIRN_TRY(Impl::check_fresh(*s));
  return s->durable_offset;
}

Result<PurgeResult> Store::purge(const PurgeOptions& options) {
  PurgeResult total;
  for (std::uint64_t id : streams()) {
    CAIRN_ASSIGN_OR_RETURN(PurgeResult r, purge(id, options));
    total.segments_removed += r.segments_removed;
    total.bytes_removed += r.bytes_removed;
  }
  return total;
}

Result<PurgeResult> Store::purge(std::uint64_t stream, const PurgeOptions& options) {
  Impl& im = *impl_;
  CAIRN_TRY(im.check_writable());
  CAIRN_ASSIGN_OR_RETURN(Stream* s, im.find_stream(stream));
  // A blocked stream's manifest entry stays as it was read (it shows the damage): files
  // removed under it would read as lost. Repair first.
  if (s->blocked) return *s->blocked;
  const std::uint64_t now = im.clock.now_us();
  PurgeResult result;
  std::uint64_t total = 0;
  for (const Segment& g : s->segments) total += g.size_bytes;
  // Whole sealed segments only, oldest first, never the active one (always the last).
  std::size_t drop = 0;
  while (drop + 1 < s->segments.size()) {
    const Segment& oldest = s->segments[drop];
    const bool too_old = options.older_than_us && now >= *options.older_than_us &&
                         oldest.last_ts < now - *options.older_than_us;
    const bool too_big = options.max_total_bytes && total > *options.max_total_bytes;
    if (!too_old && !too_big) break;
    ALWAYS(oldest.sealed, "purge removes only sealed segments", {"segment", oldest.name});
    total -= oldest.size_bytes;
    result.bytes_removed += oldest.size_bytes;
    ++drop;
  }
  if (canary_on(Canary::purge_ineligible) && drop + 1 < s->segments.size()) ++drop;  // planted bug
  if (drop == 0) return result;
  CAIRN_TRY(im.secure_spine_entry(*s));  // the only copy of the removed segments' leaves
  ALWAYS(s->spine.broken || s->spine.on_disk >= s->segments[drop].base_offset,
         "a segment is purged only after its leaves are in the spine", {"stream", stream});
  std::vector<Segment> removed(std::make_move_iterator(s->segments.begin()),
                               std::make_move_iterator(s->segments.begin() + static_cast<long>(drop)));
  s->segments.erase(s->segments.begin(), s->segments.begin() + static_cast<long>(drop));
  const std::uint64_t first = s->first_offset();
  s->gaps.erase(std::remove_if(s->gaps.begin(), s->gaps.end(),
                               [first](const manifest::Gap& g) { return g.to_offset <= first; }),
                s->gaps.end());
  // What open found in the removed segments is gone with them (verify must not report it).
  if (!canary_on(Canary::findings_outlive_purge)) std::erase_if(s->open_findings, [&](const Finding& f) {
    return f.end_offset <= first ||
           std::any_of(removed.begin(), removed.end(), [&](const Segment& g) { return g.name == f.segment; });
  });
  // The manifest moves the first retained offset before any file goes: a crash between
  // leaves files below it, which open removes as an interrupted purge (RECOVERY.md I4).
  if (!canary_on(Canary::purge_unlink_before_manifest)) CAIRN_TRY(im.write_manifest(false));
  for (Segment& g : removed) {
    g.close_file();
    CAIRN_TRY(im.fs.unlink(fs::join_path(s->dir, g.name)));
    Status idx = im.fs.unlink(fs::join_path(s->dir, format::index_file_name(g.base_offset)));
    if (!idx.ok() && idx.error().code != Errc::not_found) return std::move(idx).error();
    result.segments_removed += 1;
    REACHABLE("purge removed a segment", {"stream", stream});
  }
  Status synced = im.fs.sync_dir(s->dir);
  if (!synced.ok()) return im.fail_stop(std::move(synced).error());
  if (canary_on(Canary::purge_unlink_before_manifest)) CAIRN_TRY(im.write_manifest(false));
  return result;
}

std::vector<std::uint64_t> Store::streams() const {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, s] : impl_->streams) ids.push_back(id);
  return ids;
}

Result<StreamStats> Store::stats(std::uint64_t stream) const {
  CAIRN_ASSIGN_OR_RETURN(const Stream* s, impl_->find_stream(stream));
  StreamStats st;
  st.stream = stream;
  st.first_offset = s->first_offset();
  st.next_offset = s->next_offset;
  st.durable_offset = s->durable_offset;
  st.segments = s->segments.size();
  for (const manifest::Gap& g : s->gaps) st.gaps.emplace_back(g.from_offset, g.to_offset);
  st.blocked = s->blocked.has_value();
  bool any = false;
  for (const Segment& g : s->segments) {
    st.bytes += g.size_bytes;
    st.checkpoints += g.checkpoints.size();
    st.damaged_ranges += g.damage.size();
    if (!g.empty()) {
      if (!any) st.first_timestamp_us = g.first_ts;
      st.last_timestamp_us = g.last_ts;
      any = true;
    }
  }
  return st;
}

bool Store::fail_stopped() const { return impl_->failed; }

Status Store::close() {
  Impl& im = *impl_;
  if (im.closed) return make_error(Errc::closed, "the store is already closed");
  Status result;
  if (!im.failed && !im.read_only()) {
    for (auto& [id, s] : im.streams) {
      if (s.blocked || canary_on(Canary::close_skips_sync)) continue;
      Status st = im.sync_stream(s);
      if (st.ok()) st = im.flush_spine(s);
      if (!st.ok() && result.ok()) result = std::move(st);
    }
    // Clean only when every stream is durable to its end: the next open may then take any
    // difference from these sizes for damage (RECOVERY.md A1, A2).
    if (result.ok()) result = im.write_manifest(true);
  }
  for (auto& [id, s] : im.streams) {
    for (Segment& g : s.segments) {
      g.mapping.reset();
      if (g.file) (void)g.file->close();
      g.file.reset();
    }
    if (s.spine.file) (void)s.spine.file->close();
    s.spine.file.reset();
  }
  if (im.lock) {
    Status unlocked = im.lock->unlock();
    if (!unlocked.ok() && result.ok()) result = std::move(unlocked);
    im.lock.reset();
  }
  im.closed = true;
  return result;
}

}  // namespace cairn
