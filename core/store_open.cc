// Store::open and recovery: load every stream's segments, check sealed segments through
// their index sidecars, scan the active segment, cut torn tails, report damage.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/canary.h"
#include "core/frame_reader.h"
#include "core/scan.h"
#include "core/store.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

std::string parent_dir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  auto slash = d.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return d.substr(0, slash);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status validate(const Options& o) {
  auto bad = [](const std::string& why) { return make_error(Errc::invalid_argument, why); };
  if (o.max_record_bytes == 0 || o.max_record_bytes > (1u << 30)) {
    return bad("max_record_bytes must be in [1, 1 GiB]");
  }
  if (o.max_segment_bytes < format::kSegmentHeaderBytes + format::kFrameHeaderBytes) {
    return bad("max_segment_bytes is smaller than a segment header plus one frame");
  }
  if (o.index_interval_bytes == 0) return bad("index_interval_bytes must be at least 1");
  if (o.sync.mode == SyncMode::every && o.sync.every_records == 0 && o.sync.every_bytes == 0) {
    return bad("sync policy `every` needs a record or byte count");
  }
  return {};
}

// Checks a sealed segment's index sidecar against the segment file: identity, size, and
// that its first and last entries land on frame boundaries holding the offsets they name.
// Errors: io_error when a frame cannot be read (a read error is not a mismatch).
Result<bool> index_matches(const format::SegmentSummary& sum, std::uint64_t stream, std::uint64_t base,
                           std::uint64_t file_size, fs::File& file, std::uint32_t max_record_bytes) {
  if (sum.stream_id != stream || sum.base_offset != base || sum.segment_bytes != file_size) {
    return false;
  }
  if (canary_on(Canary::index_trusted_over_log)) return true;  // planted bug
  if (sum.entries.empty()) return sum.next_offset == base && file_size == format::kSegmentHeaderBytes;
  if (sum.entries.front().offset != base || sum.entries.front().byte_pos != format::kSegmentHeaderBytes) {
    return false;
  }
  // A few frames only: read each alone rather than through a scan-sized window.
  FrameReader reader(file, file_size, max_record_bytes, format::kFrameHeaderBytes);
  for (const format::IndexEntry* e : {&sum.entries.front(), &sum.entries.back()}) {
    CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(e->byte_pos));
    if (d.status != format::FrameStatus::ok || d.header.offset != e->offset) return false;
  }
  for (const format::CheckpointEntry& c : sum.checkpoints) {
    CAIRN_ASSIGN_OR_RETURN(format::FrameDecode d, reader.at(c.byte_pos));
    if (d.status != format::FrameStatus::ok || d.header.offset != c.offset ||
        d.header.kind != static_cast<std::uint8_t>(RecordKind::checkpoint)) {
      return false;
    }
  }
  return true;
}

// Reads [0, end) of the file and writes it back in place.
Status rewrite_prefix(fs::File& file, std::uint64_t end) {
  constexpr std::size_t kChunkBytes = 1 << 20;
  Bytes buf;
  for (std::uint64_t pos = 0; pos < end; pos += kChunkBytes) {
    buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, end - pos)));
    CAIRN_ASSIGN_OR_RETURN(std::size_t n, fs::read_full(file, pos, buf));
    if (n != buf.size()) return make_error(Errc::io_error, "segment shrank while recovering it");
    CAIRN_TRY(fs::write_all(file, pos, buf));
  }
  return {};
}

void fill_from_scan(Segment& seg, const ScanResult& r) {
  seg.next_offset = r.next_offset;
  seg.size_bytes = r.valid_end;
  seg.first_ts = r.first_timestamp_us;
  seg.last_ts = r.last_timestamp_us;
  seg.last_hash = r.last_hash;
  seg.entries = r.entries;
  seg.entry_hashes = r.entry_hashes;
  seg.checkpoints = r.checkpoints;
  seg.damage = r.damage;
  seg.resumes = r.resumes;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(fs::FileSystem& fs, Clock& clock, const std::string& dir,
                                           const Options& options) {
  CAIRN_TRY(validate(options));
  auto impl = std::make_unique<Impl>(fs, clock, dir, options);
  CAIRN_TRY(impl->recover());
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Status Store::Impl::recover() {
  CAIRN_ASSIGN_OR_RETURN(bool present, fs.exists(dir));
  if (!present) {
    if (!options.create_if_missing) {
      Error e = make_error(Errc::not_found, "no store at " + dir);
      e.segment = dir;
      return e;
    }
    CAIRN_TRY(fs.mkdir(dir));
    CAIRN_TRY(fs.sync_dir(parent_dir(dir)));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  CAIRN_TRY(fs.sync_dir(dir));
  for (const std::string& name : names) {
    auto id = format::parse_stream_dir_name(name);
    if (id) CAIRN_TRY(recover_stream(*id, fs::join_path(dir, name)));
  }
  report.streams = streams.size();
  if (report.clean()) REACHABLE("recovery found every stream clean");
  return {};
}

Status Store::Impl::recover_stream(std::uint64_t id, const std::string& sdir) {
  Stream s;
  s.id = id;
  s.dir = sdir;
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(sdir));
  std::vector<std::uint64_t> bases;
  std::set<std::uint64_t> logs;
  for (const std::string& name : names) {
    if (auto b = format::parse_segment_name(name, "log")) {
      bases.push_back(*b);
      logs.insert(*b);
    }
  }
  for (const std::string& name : names) {
    auto idx = format::parse_segment_name(name, "idx");
    bool orphan_index = idx && !logs.count(*idx);
    if (ends_with(name, kTempSuffix) || orphan_index) {
      CAIRN_TRY(fs.unlink(fs::join_path(sdir, name)));
      report.actions.push_back(fmt::format("stream {}: removed leftover {}", id, name));
    }
  }
  std::sort(bases.begin(), bases.end());

  // Each segment file's size and header, read once for both passes below.
  struct Probe {
    std::uint64_t base = 0;
    std::uint64_t file_size = 0;
    Bytes head;
    format::HeaderDecode hd;
  };
  std::vector<Probe> probes;
  for (std::uint64_t base : bases) {
    Probe p;
    p.base = base;
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file,
                           fs.open(fs::join_path(sdir, format::segment_file_name(base)), {}));
    CAIRN_ASSIGN_OR_RETURN(p.file_size, file->size());
    p.head.resize(format::kSegmentHeaderBytes);
    CAIRN_ASSIGN_OR_RETURN(std::size_t got, fs::read_full(*file, 0, p.head));
    p.head.resize(got);
    p.hd = format::decode_segment_header(p.head);
    probes.push_back(std::move(p));
  }

  // The header is synced before any record of a file is acknowledged, and a segment is
  // sealed only once it holds records, so a file of at most a header's size without a
  // valid header never held anything: its creation was cut short.
  for (auto it = probes.begin(); it != probes.end();) {
    // A rotation creates a segment only while its predecessor exists, so a lone segment
    // with a base above 0 was not cut short: its header is damaged, and removing it would
    // restart the stream at offset 0 and reuse offsets.
    const bool lone_after_purge = probes.size() == 1 && it->base > 0;
    if (it->file_size > format::kSegmentHeaderBytes || it->hd.status == format::HeaderStatus::ok ||
        it->hd.status == format::HeaderStatus::bad_version || lone_after_purge) {
      ++it;
      continue;
    }
    const std::string name = format::segment_file_name(it->base);
    CAIRN_TRY(fs.unlink(fs::join_path(sdir, name)));
    report.actions.push_back(fmt::format("stream {}: removed {} (creation cut short)", id, name));
    REACHABLE("recovery removed a segment whose creation was cut short");
    it = probes.erase(it);
  }

  // The active segment has no sidecar. One left from an earlier sealing (before its
  // successor's creation was cut short) would go stale as the segment grows.
  if (!probes.empty()) {
    const std::string idx_name = format::index_file_name(probes.back().base);
    if (std::find(names.begin(), names.end(), idx_name) != names.end()) {
      CAIRN_TRY(fs.unlink(fs::join_path(sdir, idx_name)));
      report.actions.push_back(fmt::format("stream {}: removed the sidecar of active {}", id,
                                           format::segment_file_name(probes.back().base)));
    }
  }

  for (std::size_t i = 0; i < probes.size(); ++i) {
    const bool last = i + 1 == probes.size();
    Segment seg;
    seg.base_offset = probes[i].base;
    seg.name = format::segment_file_name(seg.base_offset);
    seg.next_offset = seg.base_offset;
    const std::string path = fs::join_path(sdir, seg.name);
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file, fs.open(path, {}));
    const std::uint64_t file_size = probes[i].file_size;
    const Bytes& head = probes[i].head;
    const format::HeaderDecode& hd = probes[i].hd;
    if (hd.status == format::HeaderStatus::bad_version) {
      Error e = make_error(Errc::unsupported_format,
                           fmt::format("segment format version {} is not supported (this build "
                                       "reads version {})",
                                       hd.version, format::kVersion));
      e.stream = id;
      e.segment = seg.name;
      e.byte_pos = 8;
      return e;
    }
    const bool header_ok = hd.status == format::HeaderStatus::ok && hd.header.stream_id == id &&
                           hd.header.base_offset == seg.base_offset;
    if (header_ok) {
      seg.anchor = hd.header.anchor;
    } else {
      // The anchor is the chain's seed for this segment (and, for an empty active
      // segment, the head the next append links to). Best knowledge: the previous
      // segment's last hash; else the stored anchor bytes, unverified.
      if (!s.segments.empty() && s.segments.back().next_offset == seg.base_offset) {
        seg.anchor = s.segments.back().last_hash;
      } else {
        seg.anchor_known = false;
        if (head.size() >= 64) std::copy(head.begin() + 32, head.begin() + 64, seg.anchor.begin());
      }
      seg.damage.push_back(Finding{id, seg.name, 0, seg.base_offset, seg.base_offset,
                                   "segment header is invalid (magic, CRC, stream or base offset)"});
    }
    if (!s.segments.empty()) {
      const Segment& prev = s.segments.back();
      if (prev.next_offset != seg.base_offset) {
        seg.damage.push_back(Finding{id, seg.name, 0, prev.next_offset, seg.base_offset,
                                     fmt::format("offsets {}..{} are missing before this segment",
                                                 prev.next_offset, seg.base_offset)});
      } else if (header_ok && prev.last_hash != seg.anchor) {
        seg.damage.push_back(Finding{id, seg.name, 0, seg.base_offset, seg.base_offset,
                                     "segment anchor does not match the previous segment's last "
                                     "chain hash"});
      }
    }

    ScanInput in;
    in.stream = id;
    in.segment = seg.name;
    in.base_offset = seg.base_offset;
    in.anchor = seg.anchor;
    in.anchor_known = seg.anchor_known;
    in.file_size = file_size;
    in.max_record_bytes = options.max_record_bytes;
    in.index_interval_bytes = options.index_interval_bytes;

    if (!last) {
      seg.sealed = true;
      bool loaded = false;
      if (!options.full_scan_on_open) {
        const std::string idx_name = format::index_file_name(seg.base_offset);
        const std::uint64_t bound = format::kIndexFixedBytes + 4 +
                                    (file_size / format::kFrameHeaderBytes + 1) *
                                        (format::kIndexEntryBytes + format::kCheckpointEntryBytes);
        auto bytes = fs::read_file(fs, fs::join_path(sdir, idx_name), bound);
        if (!bytes.ok() && bytes.error().code != Errc::not_found) {
          // Unreadable now (an I/O error) is not evidence of a torn replacement.
          report.actions.push_back(fmt::format("stream {}: index {} unreadable ({}); scanning the log",
                                               id, idx_name, bytes.error().to_string()));
        }
        if (bytes.ok()) {
          auto sum = format::decode_index(*bytes, idx_name);
          bool matches = false;
          if (sum.ok()) {
            CAIRN_ASSIGN_OR_RETURN(matches, index_matches(*sum, id, seg.base_offset, file_size, *file,
                                                          options.max_record_bytes));
          }
          if (!matches) report.invalid_indexes.push_back(format::stream_dir_name(id) + "/" + idx_name);
          if (matches) {
            seg.next_offset = sum->next_offset;
            seg.size_bytes = sum->segment_bytes;
            seg.first_ts = sum->first_timestamp_us;
            seg.last_ts = sum->last_timestamp_us;
            seg.last_hash = sum->last_hash;
            seg.entries = std::move(sum->entries);
            seg.checkpoints = std::move(sum->checkpoints);
            loaded = true;
          }
        }
      }
      if (!loaded) {
        CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan_segment(*file, in, hasher));
        std::vector<Finding> header_damage = std::move(seg.damage);
        fill_from_scan(seg, r);
        seg.damage.insert(seg.damage.begin(), header_damage.begin(), header_damage.end());
        if (r.tail_bytes > 0) {
          // Sealed segments were synced whole before the next one was created: invalid
          // bytes here are damage, never a torn write, and are never cut.
          seg.damage.push_back(Finding{id, seg.name, r.valid_end, r.next_offset, r.next_offset,
                                       "sealed segment: " + r.tail_reason});
        }
        if (seg.damage.empty() && !options.full_scan_on_open) {
          CAIRN_TRY(write_index(s, seg));
          report.indexes_rebuilt += 1;
          report.actions.push_back(fmt::format("stream {}: rebuilt index of {}", id, seg.name));
          REACHABLE("recovery rebuilt a missing or inconsistent index from the log");
        }
      }
    } else {
      CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan_segment(*file, in, hasher));
      std::vector<Finding> header_damage = std::move(seg.damage);
      fill_from_scan(seg, r);
      seg.damage.insert(seg.damage.begin(), header_damage.begin(), header_damage.end());
      if (r.tail_bytes > 0) {
        if (canary_on(Canary::torn_tail_fatal)) {
          return located(Errc::corruption, s, seg, r.valid_end, r.next_offset,
                         "torn tail");  // planted bug: a torn tail must not stop the open
        }
        // A torn tail: invalid or incomplete frames after the last complete batch, with
        // nothing durable after them. Cut it so the next append links to valid data.
        CAIRN_TRY(file->truncate(r.valid_end));
        TornTail t{id, seg.name, r.valid_end, r.tail_bytes, r.tail_records, r.next_offset};
        report.torn_tails.push_back(t);
        REACHABLE("recovery truncated a torn tail", {"stream", id}, {"bytes", r.tail_bytes});
      }
      // What survived may sit only in the page cache, and after a failed fsync the kernel
      // marks such pages clean, so a plain fsync would not write them (fsyncgate). Write
      // the kept bytes again, then sync: only then are they durable. Bounded by the
      // segment size, so open time does not grow with the log.
      CAIRN_TRY(rewrite_prefix(*file, r.valid_end));
      Status synced = file->sync();
      if (!synced.ok()) return std::move(synced).error();
      seg.file = std::move(file);
    }
    for (const Finding& f : seg.damage) report.damage.push_back(f);
    if (!seg.damage.empty()) REACHABLE("recovery reported damage", {"stream", id});
    s.segments.push_back(std::move(seg));
  }
  // Entries made before a failed directory fsync may still be only in memory: sync the
  // directory whether or not recovery changed it.
  CAIRN_TRY(fs.sync_dir(sdir));
  report.segments += s.segments.size();

  if (s.segments.empty()) CAIRN_TRY(create_segment(s, 0, kZeroHash));
  Segment& act = s.active();
  ALWAYS(act.file != nullptr && !act.sealed, "recovery leaves one open, unsealed active segment",
         {"stream", id});
  s.next_offset = act.next_offset;
  s.head = act.last_hash;
  s.durable_offset = s.next_offset;
  for (const Segment& g : s.segments) s.last_ts = std::max(s.last_ts, g.last_ts);
  std::uint64_t since = s.next_offset - s.first_offset();
  for (auto it = s.segments.rbegin(); it != s.segments.rend(); ++it) {
    if (!it->checkpoints.empty()) {
      since = s.next_offset - (it->checkpoints.back().offset + 1);
      break;
    }
  }
  s.records_since_checkpoint = since;
  streams.emplace(id, std::move(s));
  return {};
}

}  // namespace cairn
