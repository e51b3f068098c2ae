// Store::open: validate options, take the writer's lock (or, read-only, see whether a
// writer is live), load the manifest, recover every stream (recover_stream.cc,
// recover_segment.cc), and write the manifest back. The cases are the rows of
// core/RECOVERY.md; each branch cites its row.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/recovery.h"
#include "core/store.h"
#include "core/canary.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

constexpr char kLockFileName[] = "LOCK";

std::string parent_dir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  auto slash = d.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return d.substr(0, slash);
}

Status validate(const Options& o) {
  if (static_cast<std::uint8_t>(o.compression) > 2) {
    return make_error(Errc::invalid_argument, "compression must be none, lz4 or zstd");
  }
  auto bad = [](const std::string& why) { return make_error(Errc::invalid_argument, why); };
  if (o.max_record_bytes == 0 || o.max_record_bytes > (1u << 30)) {
    return bad("max_record_bytes must be in [1, 1 GiB]");
  }
  if (o.max_segment_bytes < format::kSegmentHeaderBytes + format::kFrameHeaderBytes) {
    return bad("max_segment_bytes is smaller than a segment header plus one frame");
  }
  if (o.index_interval_bytes == 0) return bad("index_interval_bytes must be at least 1");
  if (o.recovery_point_interval_bytes == 0) return bad("recovery_point_interval_bytes must be at least 1");
  if (o.max_open_sealed_files == 0) return bad("max_open_sealed_files must be at least 1");
  if (o.verify_threads == 0 || o.verify_threads > 64) return bad("verify_threads must be in [1, 64]");
  if (o.sync.mode == SyncMode::every && o.sync.every_records == 0 && o.sync.every_bytes == 0) {
    return bad("sync policy `every` needs a record or byte count");
  }
  return {};
}

Error no_store(const std::string& dir) {
  Error e = make_error(Errc::not_found, "no store at " + dir);
  e.segment = dir;
  return e;
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
    if (!options.create_if_missing || read_only()) return no_store(dir);
    CAIRN_TRY(fs.mkdir(dir));
    Status synced = canary_on(Canary::store_dir_not_synced) ? Status{} : fs.sync_dir(parent_dir(dir));
    if (!synced.ok()) {
      // The new directory's entry may never reach the disk (a failed directory fsync is
      // never retried and trusted): take it back, so the next open creates it afresh.
      (void)fs.rmdir(dir);
      return std::move(synced).error();
    }
  }
  const std::string lock_path = fs::join_path(dir, kLockFileName);
  if (read_only()) {
    CAIRN_ASSIGN_OR_RETURN(report.live_writer, fs.lock_held(lock_path));  // L2
  } else if (!canary_on(Canary::lock_not_taken)) {
    auto locked = fs.lock(lock_path);  // L1: one writer; a second changes nothing
    if (!locked.ok()) {
      Error e = std::move(locked).error();
      if (e.code == Errc::locked) e.message = "the store at " + dir + " is locked by another writer";
      e.segment = dir;
      return e;
    }
    lock = std::move(locked).value();
  }
  report.read_only = read_only();
  // Beside a live writer the directory may change while it is read (a rotation, a
  // purge): when the manifest changed meanwhile, look again.
  constexpr int kLooksMax = 3;
  for (int look = 1;; ++look) {
    CAIRN_TRY(recover_streams());
    if (!read_only() || !report.live_writer || look == kLooksMax) break;
    auto again = read_manifest();
    const bool same = again.ok() && again->has_value() == loaded.has_value() &&
                      (!loaded || (*again)->generation == loaded->generation);
    if (same) break;
    const bool live = report.live_writer;
    streams.clear();
    report = RecoveryReport{};
    report.read_only = true;
    report.live_writer = live;
  }
  report.streams = streams.size();
  if (report.clean()) REACHABLE("recovery found every stream clean");
  if (read_only()) return {};
  // Everything kept is durable now: this manifest is the recovery point of every stream,
  // and it is not clean until close() says so.
  CAIRN_TRY(write_manifest(false));
  if (loaded) loaded->clean_shutdown = false;  // what a later reload (repair) must assume
  return {};
}

Status Store::Impl::recover_streams() {
  // What recovery acts on must be durable first: after a failed directory fsync a rename
  // (of the manifest, say) may sit only in memory, and a crash would take it back after
  // recovery had already acted on it.
  if (!read_only()) CAIRN_TRY(fs.sync_dir(dir));
  // M1: a manifest replacement cut short leaves its temp file; the old one is whole.
  const std::string tmp = std::string(manifest::kFileName) + kTempSuffix;
  CAIRN_ASSIGN_OR_RETURN(bool tmp_left, fs.exists(fs::join_path(dir, tmp)));
  if (tmp_left) {
    if (!read_only()) CAIRN_TRY(fs.unlink(fs::join_path(dir, tmp)));
    act("removed leftover " + tmp, "would remove leftover " + tmp);
  }
  auto read = read_manifest();
  if (!read.ok() && read.error().code == Errc::unsupported_format) return std::move(read).error();  // M5
  if (!read.ok() && read.error().code == Errc::io_error) return std::move(read).error();
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  std::set<std::uint64_t> ids;
  for (const std::string& name : names) {
    if (auto id = format::parse_stream_dir_name(name)) ids.insert(*id);
  }
  loaded.reset();
  if (read.ok() && read->has_value()) {
    loaded = std::move(**read);
    if (!read_only() || canary_on(Canary::read_only_writes)) {
      // What this open acts on must be durable first: after a failed directory fsync the
      // manifest this process sees may be a rename the disk never got.
      loaded->generation += 1;
      CAIRN_TRY(persist_manifest(*loaded));
    }
    report.clean_shutdown = loaded->clean_shutdown;
    manifest_generation = loaded->generation;
    if (!canary_on(Canary::record_limit_forgotten)) max_record_bytes = std::max(max_record_bytes, loaded->max_record_bytes);  // M6
    for (const manifest::StreamEntry& e : loaded->streams) ids.insert(e.stream_id);
  } else if (!ids.empty()) {
    // M3, M4: rebuilt from the segments (the directory listing is the segment list), and
    // said: retention and the loss of whole segments cannot be told apart without it.
    const std::string why = read.ok() ? "manifest is missing" : read.error().message;
    report.damage.push_back(Finding{0, manifest::kFileName, 0, 0, 0,
                                    why + ": rebuilt from the segments (deleted or truncated "
                                          "segments cannot be told from retention)",
                                    FindingKind::manifest});
    report.manifest_rebuilt = true;
    // The record limit the store was written with went with the manifest: frames are read
    // up to the format's bound (each still bounded by its file's size), so records larger
    // than this open's limit are not taken for damage (M6 without a manifest).
    max_record_bytes = 1u << 30;
    REACHABLE("recovery rebuilt the manifest from the segments");
  }  // else M2: a new store; the manifest is written at the end of open
  for (std::uint64_t id : ids) {
    const manifest::StreamEntry* listed = nullptr;
    if (loaded) {
      for (const manifest::StreamEntry& e : loaded->streams) {
        if (e.stream_id == id) listed = &e;
      }
    }
    CAIRN_TRY(recover_stream(id, fs::join_path(dir, format::stream_dir_name(id)), listed));
  }
  return {};
}

Status Store::Impl::recover_stream(std::uint64_t id, const std::string& sdir,
                                   const manifest::StreamEntry* listed) {
  Stream s;
  s.id = id;
  s.dir = sdir;
  StreamRecovery recovery(*this, s, listed, loaded && loaded->clean_shutdown, loaded.has_value());
  CAIRN_TRY(recovery.run());
  if (s.segments.empty()) return {};  // read-only, or I1: an empty stream directory holds nothing
  if (loaded && !listed) {
    if (s.next_offset == s.first_offset()) {  // I1: its creation was cut short
      act(fmt::format("stream {}: left its directory alone (not in the manifest, no records)", id),
          fmt::format("stream {}: not a stream (not in the manifest, no records)", id));
      return {};
    }
    // I2: records in a stream the manifest never listed: nothing of it was acknowledged.
    report.damage.push_back(Finding{id, s.active().name, 0, s.first_offset(), s.next_offset,
                                    "stream holds records but is not in the manifest"});
  }
  CAIRN_TRY(open_spine(s, loaded && loaded->clean_shutdown));
  if (!read_only()) {
    // Entries made before a failed directory fsync may still be only in memory: sync the
    // directory whether or not recovery changed it.
    CAIRN_TRY(fs.sync_dir(sdir));
  }
  report.segments += s.segments.size();
  streams.insert_or_assign(id, std::move(s));
  return {};
}

}  // namespace cairn
