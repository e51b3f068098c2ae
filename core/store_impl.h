// Internal state of a Store: streams, their segments, and the helpers shared by the
// write path (store.cc), the manifest (store_manifest.cc), recovery (store_open.cc,
// recover_*.cc), reads (store_read.cc), verify (store_verify.cc) and repair
// (store_repair.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/canary.h"
#include "core/chain.h"
#include "core/format.h"
#include "core/frame_reader.h"
#include "core/manifest.h"
#include "core/merkle.h"
#include "core/scan.h"
#include "core/store.h"

namespace cairn {

class FrameCursor;
struct ScanResult;
class ChainAhead;

struct Segment {
  std::uint64_t base_offset = 0;
  std::string name;                  // file name inside the stream directory
  std::uint64_t next_offset = 0;     // one past its last record
  std::uint64_t size_bytes = 0;      // bytes reads use (header + complete frames)
  std::uint64_t last_frame_pos = 0;  // frame of next_offset - 1 (0: no record)
  std::uint64_t first_ts = 0;
  std::uint64_t last_ts = 0;
  ChainHash anchor{};
  bool anchor_known = true;          // false when the header itself is damaged
  ChainHash last_hash{};             // h(next_offset - 1)
  std::vector<format::IndexEntry> entries;
  // Parallel to `entries` when this process computed them (append, verifying scan): the
  // chain hash before each entry's record, so a verified read can start there.
  std::vector<std::optional<ChainHash>> entry_hashes;
  std::vector<format::CheckpointEntry> checkpoints;
  // entries and checkpoints came from a sidecar: hints, each checked against the frame it
  // names before it is used (RECOVERY.md S4).
  bool hints_from_sidecar = false;
  std::vector<Finding> damage;       // known damaged ranges; reads inside them fail
  std::vector<format::CheckpointEntry> resumes;  // valid frames resuming after damage
  bool sealed = false;
  bool missing = false;              // listed by the manifest but the file is gone
  // The manifest read at open lists it as sealed: its spine leaves were synced before that
  // manifest was written (a seal flushes the spine first).
  bool sealed_in_manifest = false;
  manifest::SegmentEntry recorded;   // sealed: what the manifest says about it
  std::unique_ptr<fs::File> file;    // active: open while writable; sealed: on demand
  std::unique_ptr<fs::Mapping> mapping;  // sealed, with Options::mapped_reads: while `file` is open
  std::uint64_t last_read_tick = 0;  // Impl::file_tick at its last segment_file(): LRU order
  // Recovery's scan of the active segment: h(base_offset + i) of its verified records,
  // until the spine takes them at open (SpineState::pending).
  std::vector<ChainHash> scanned_leaves;

  bool empty() const { return next_offset == base_offset; }
  // Drops the mapping and the handle (errors of the close are dropped).
  void close_file() {
    mapping.reset();
    file.reset();
  }
  format::SegmentSummary summary(std::uint64_t stream) const;
  // The manifest entry of a sealed segment as this process knows it.
  manifest::SegmentEntry sealed_entry() const;
};

// Where a verified read starts: a frame whose chain hash is known (segment start,
// checkpoint) or taken from the frame itself (a resume point after damage).
struct StartPoint {
  std::uint64_t offset = 0;
  std::uint64_t byte_pos = 0;
  bool from_checkpoint = false;
  bool from_resume = false;
  bool from_frontier = false;
  bool from_sidecar = false;  // the position is a sidecar's hint (checked when read)
  ChainHash seed{};  // with from_frontier: the verified chain hash of offset - 1
};

// Where the last verified read stopped: the next frame and the chain hash before it,
// computed by verification itself, so a sequential reader continues without re-hashing
// from the checkpoint.
struct VerifiedFrontier {
  bool valid = false;
  std::uint64_t segment_base = 0;
  std::uint64_t offset = 0;
  std::uint64_t byte_pos = 0;
  ChainHash hash_before{};
};

// A point of the active segment where the stream was durable: what the manifest's
// recovery point says (offset, its byte position, the frame before it and its hash).
struct DurableMark {
  std::uint64_t offset = 0;
  std::uint64_t byte = format::kSegmentHeaderBytes;
  std::uint64_t last_frame_pos = 0;
  ChainHash hash{};
};

// A stream's spine (core/spine.h): the leaves of offsets [0, on_disk) are in its file,
// those of [on_disk, known()) in `pending`; the rest follow from the segments when needed
// (derive_spine). Leaves of sealed segments are written and synced at each seal, so
// retention never removes the only copy (RECOVERY.md, "The spine").
// Leaves kept in memory before a sync writes them to the spine (36 bytes each on disk).
inline constexpr std::size_t kSpinePendingLeaves = 1 << 16;

struct SpineState {
  std::unique_ptr<fs::File> file;     // open once the file exists (read-only in a read-only open)
  std::uint64_t on_disk = 0;          // entries in the file
  std::vector<ChainHash> pending;     // leaf data of the offsets after them
  // The offset whose leaf cannot be derived (damaged, or purged before it reached the
  // spine): proofs of larger trees fail with this error until a reopen or repair.
  std::optional<Error> broken;
  std::unique_ptr<merkle::Tree> tree;  // every known leaf's hash, built at the first proof
  // This process made the file's directory entry durable (it created the file, or renamed
  // a copy into place, and synced the directory). A file found at open may carry an entry a
  // failed directory fsync lost for good; it is copied into place before a purge.
  bool entry_made_here = false;
  std::uint64_t known() const { return on_disk + pending.size(); }
  // Takes the leaf of the next record when every leaf before it is known.
  void add(std::uint64_t offset, const ChainHash& leaf);
};

// A sync of the active segment started by a pipelined append and not yet waited for:
// the durable mark it makes when it completes and the unsynced counts it covers.
struct InFlightSync {
  std::unique_ptr<fs::PendingSync> pending;
  DurableMark mark;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
};

struct Stream {
  std::uint64_t id = 0;
  std::string dir;
  std::vector<Segment> segments;     // ascending base_offset; back() is active
  std::vector<manifest::Gap> gaps;   // offsets repair removed (between segments)
  std::uint64_t next_offset = 0;
  ChainHash head{};                  // h(next_offset - 1)
  std::uint64_t last_ts = 0;
  std::uint64_t durable_offset = 0;
  bool dirty = false;  // the active file changed (write or cut-back) since its last sync
  std::uint64_t unsynced_records = 0;
  std::uint64_t unsynced_bytes = 0;
  std::uint64_t records_since_checkpoint = 0;
  VerifiedFrontier frontier;
  DurableMark durable;  // at the last good sync of the active segment
  std::optional<InFlightSync> in_flight;  // at most one; finished before any other sync
  DurableMark written;  // the recovery point the manifest on disk holds
  // Damage that open must not cut: appends fail with this error until repair. Its
  // manifest entry is then kept as it was read (`frozen`), so the damage stays visible.
  std::optional<Error> blocked;
  std::optional<manifest::StreamEntry> frozen;
  // A batch was applied in memory but its sync failed (the store is fail-stop): it was
  // never acknowledged, so reads stop before it; the next open decides what survived.
  std::optional<std::uint64_t> unacked_from;
  // A repair failed after its commit point: this view may not be what the files hold, so
  // reads and verify refuse the stream (fail_stopped) until a reopen completes the repair.
  bool stale = false;
  std::uint64_t readable_end() const {
    return canary_on(Canary::unacknowledged_reads) ? next_offset : unacked_from.value_or(next_offset);
  }
  // What open found that a scan of the files cannot find again (a segment missing or
  // shorter than the manifest says, a file not in it): verify() reports these too.
  std::vector<Finding> open_findings;
  SpineState spine;

  Segment& active() { return segments.back(); }
  const Segment& active() const { return segments.back(); }
  std::uint64_t first_offset() const { return segments.front().base_offset; }
  // The gap holding `offset`, if repair removed it.
  const manifest::Gap* gap_at(std::uint64_t offset) const;
};

struct Store::Impl {
  Impl(fs::FileSystem& f, Clock& c, std::string d, Options o)
      : fs(f), clock(c), dir(std::move(d)), options(o), max_record_bytes(std::max<std::uint32_t>(o.max_record_bytes, format::kCheckpointPayloadBytes)) {}

  fs::FileSystem& fs;
  Clock& clock;
  std::string dir;
  Options options;
  // Decode limit: the largest the store was ever written with, and never below a
  // checkpoint's payload (checkpoints are written whatever the option says).
  std::uint32_t max_record_bytes;
  std::map<std::uint64_t, Stream> streams;  // ordered by id: deterministic iteration
  RecoveryReport report;
  ChainHasher hasher;
  std::unique_ptr<fs::FileLock> lock;
  std::optional<manifest::Manifest> loaded;  // the manifest open found (valid ones only)
  std::uint64_t manifest_generation = 0;
  bool failed = false;
  std::string failed_reason;
  bool closed = false;

  bool read_only() const { return options.read_only; }
  // Records an action of recovery or repair: done, or (read-only) what would be done.
  void act(const std::string& done, const std::string& would);

  // --- shared helpers (store.cc)
  Status check_writable() const;
  // Records a failed fsync: the store becomes fail-stop. Returns the error to pass up.
  Error fail_stop(Error e);
  Result<Stream*> find_stream(std::uint64_t id);
  Result<const Stream*> find_stream(std::uint64_t id) const;
  Result<Stream*> get_or_create_stream(std::uint64_t id);
  // Removes a directory and the files in it (a stream directory no manifest lists).
  Status remove_dir(const std::string& path);
  Status create_segment(Stream& s, std::uint64_t base_offset, const ChainHash& anchor);
  Status rotate(Stream& s);
  // Makes everything written to the stream durable: finishes the sync in flight, then
  // syncs what it did not cover. A failure makes the store fail-stop.
  Status sync_stream(Stream& s);
  // Starts a sync of everything written (after finishing the one in flight, whose writes
  // precede it). A failure makes the store fail-stop.
  Status start_sync(Stream& s);
  // Waits for the sync in flight, if any, and moves the durable mark to where it started.
  // A failure makes the store fail-stop.
  Status finish_sync(Stream& s);
  // A good sync made the stream durable up to `mark`: the recovery point, the durable
  // offset and the spine follow.
  Status synced_to(Stream& s, const DurableMark& mark);
  // Replaces the sidecar of a sealed segment atomically (temp, fsync, rename, fsync dir).
  Status write_index(Stream& s, const Segment& seg);
  // Validates a caller's batch (writable, not empty, sizes) and appends it.
  Result<AppendResult> append_checked(std::uint64_t stream, const std::vector<ByteView>& batch,
                                      bool pipelined = false);
  // `pipelined`: start the batch's sync and return (Store::append_pipelined), else sync
  // as the policy says.
  Result<AppendResult> append_records(Stream& s, const std::vector<ByteView>& payloads,
                                      bool checkpoint_only, bool pipelined = false);
  Result<fs::File*> segment_file(Stream& s, Segment& seg);
  // A reader of seg's bytes [0, size_bytes) in `out`, lending it read_buffers: a sealed
  // segment through its mapping with Options::mapped_reads (mapped on first use; a map
  // that fails falls back to pread), else pread with a window of window_bytes.
  // REQUIRES: no other reader lent read_buffers is in use; out is used before the next
  // segment_file() (which may evict this segment's mapping). Errors: those of open.
  Status open_reader(Stream& s, Segment& seg, std::uint64_t size_bytes, std::size_t window_bytes,
                     std::optional<FrameReader>& out);
  ReadBuffers read_buffers;  // lent to one reader at a time (open_reader)
  // seg's mapping of at least size_bytes with Options::mapped_reads when sealed (mapped on
  // first use), else null (also when the map fails: callers pread).
  const fs::Mapping* sealed_mapping(Segment& seg, fs::File& file, std::uint64_t size_bytes);
  // seg's bytes [0, size_bytes) whole, for verify() on several threads: its mapping
  // (sealed_mapping) or read front to back into verify_buffer, `ahead` made over them
  // first so that helpers hash behind the reads. Shorter if the file is. REQUIRES:
  // size_bytes is bounded by the caller. Valid until the next call or segment_file().
  // Errors: io_error naming the segment.
  Result<ByteView> read_whole(Stream& s, Segment& seg, std::uint64_t size_bytes, std::unique_ptr<ChainAhead>& ahead);
  std::unique_ptr<std::uint8_t[]> verify_buffer;  // read_whole's bytes, released when verify() returns
  std::size_t verify_buffer_bytes = 0;
  // A scan of seg's bytes [0, file_size) as the store knows the segment: its anchor when
  // known, the store's limits, every offset durable (callers change what differs).
  ScanInput scan_input(const Stream& s, const Segment& seg, std::uint64_t file_size) const;
  // Closes the least recently read sealed segment files until at most `keep` stay open.
  void evict_sealed_files(std::size_t keep);
  std::uint64_t file_tick = 0;  // counts segment_file() calls: the LRU clock
  Error located(Errc code, const Stream& s, const Segment& seg, std::uint64_t byte_pos,
                std::uint64_t offset, std::string message) const;

  // --- the manifest (store_manifest.cc)
  manifest::Manifest build_manifest(bool clean) const;
  // Replaces MANIFEST atomically with the in-memory state; every stream's recovery point
  // becomes its durable mark. A failed fsync makes the store fail-stop.
  Status write_manifest(bool clean);
  // Replaces MANIFEST atomically with `m`. A failure makes the store fail-stop.
  Status persist_manifest(const manifest::Manifest& m);
  // Reads MANIFEST: nullopt when missing; corruption findings are the caller's to report.
  Result<std::optional<manifest::Manifest>> read_manifest();

  // --- recovery (store_open.cc, recover_stream.cc, recover_segment.cc)
  Status recover();
  Status recover_streams();
  Status recover_stream(std::uint64_t id, const std::string& stream_dir,
                        const manifest::StreamEntry* listed);
  // S4: whether the frame a sidecar hint names holds the offset (and timestamp, or
  // checkpoint) the hint claims. Errors: io_error.
  Result<bool> hint_holds(Stream& s, Segment& seg, std::uint64_t byte_pos, std::uint64_t offset,
                          std::optional<std::uint64_t> ts, bool checkpoint);
  // Rebuilds a segment's hints (entries, checkpoints) from the log when a sidecar lied,
  // and rewrites the sidecar when writable (RECOVERY.md S4).
  Status distrust_sidecar(Stream& s, Segment& seg, const std::string& why);
  // The segment's hints (index entries, checkpoints) rescanned from the log; returns the
  // damage the scan found (also added to the segment's).
  Result<std::vector<Finding>> hints_from_log(Stream& s, Segment& seg);
  // fail_stopped when a failed repair left this view of the stream stale (Stream::stale).
  static Status check_fresh(const Stream& s);

  // --- reads (store_read.cc)
  Result<std::vector<Record>> read(Stream& s, std::uint64_t from, std::uint64_t max_bytes);
  // From `sp`, restarting past damage that lies before `from` (reads of the damaged range
  // itself still fail).
  Result<std::vector<Record>> read_past_damage(Stream& s, std::size_t si, StartPoint sp,
                                               std::uint64_t from, std::uint64_t max_bytes);
  // Reads into `out`; on an error `out` holds the records verified before it.
  Result<std::vector<Record>> read_from(Stream& s, std::size_t si, StartPoint sp,
                                        std::uint64_t from, std::uint64_t max_bytes,
                                        std::vector<Record>& out);
  // A read that starts at a checkpoint seeds its chain from the checkpoint's payload,
  // after checking the payload against its frame.
  Status seed_from_checkpoint(const Stream& s, const Segment& seg, FrameReader& reader, const StartPoint& sp,
                              std::optional<ChainHash>& seed) const;
  // The link that vouches for the last record a read returns: the next frame's prev_hash,
  // the segment's last hash and the next segment's anchor, or the stream's head.
  Status check_last_link(const Stream& s, std::size_t si, FrameReader& reader, const FrameCursor& cursor) const;
  // Crosses from a segment into the next one: the offsets and the chain must continue
  // (or a gap repair recorded ends the read). Sets `pos` and `seed`.
  Result<bool> enter_segment(Stream& s, std::size_t si, std::uint64_t expected, std::uint64_t& pos,
                             std::optional<ChainHash>& seed) const;
  Result<std::uint64_t> offset_for_time(Stream& s, std::uint64_t t_us);

  // --- verify (store_verify.cc)
  Status verify_stream(Stream& s, VerifyReport& out);
  // Every entry of a sealed segment's sidecar against the frame it names, given the
  // segment's scan; a lie is added to `out` (kind index). Errors: io_error.
  Status check_sidecar(const Stream& s, const Segment& seg, FrameReader& reader, const ScanResult& r,
                       std::vector<Finding>& out);

  // --- the spine (store_spine.cc)
  // Opens the stream's spine and reconciles it with the recovered segments: entries past
  // next_offset, or from the first torn one among those written since the manifest's last
  // seal, are cut back (read-only: reported as what a writer would cut); after an unclean
  // shutdown a writer writes the unsure ones again before syncing them. Leaves the file
  // lacks are derived from the segments. Errors: io_error.
  Status open_spine(Stream& s, bool clean_shutdown);
  // verify(): the spine's entries of offsets [base, base + count): each must pass its CRC
  // and, with `leaves` (count of them, computed by a verifying scan), hold that chain hash;
  // without, they are the leaves of records retention removed, which nothing else holds.
  // The first entry that fails is a FindingKind::spine finding. (Where the spine stops,
  // `broken`, open reports as an action; proofs past it fail.) Errors: io_error reading it.
  Status check_spine_leaves(Stream& s, std::uint64_t base, std::uint64_t count, const std::vector<ChainHash>* leaves,
                            std::vector<Finding>& out);
  // Makes `known()` reach `limit` (<= next_offset) from the segments, or sets `broken`.
  // Errors: io_error.
  Status derive_spine(Stream& s, std::uint64_t limit);
  // Writes every leaf up to next_offset to the spine file and syncs it (creating the file
  // and syncing its directory the first time). A failure makes the store fail-stop.
  Status flush_spine(Stream& s);
  // Before retention removes segments whose leaves only the spine will hold: a spine file
  // this process found rather than made is replaced by a copy of itself (fsync, rename,
  // directory fsync), so its directory entry is durable (seed 51186). A failure makes the
  // store fail-stop.
  Status secure_spine_entry(Stream& s);
  // The tree of every leaf up to `size`. Errors: invalid_argument (size above the
  // readable end), corruption (a leaf that cannot be derived, an entry whose CRC fails),
  // io_error.
  Result<const merkle::Tree*> spine_tree(Stream& s, std::uint64_t size);

  // --- repair (store_repair.cc)
  Result<RepairReport> repair(Stream& s, bool dry_run);
};

}  // namespace cairn
