// cairn::Store — an embedded, append-only, hash-chained, segmented event log.
//
// A store is a directory holding streams (by u64 id). A stream is a sequence of records
// numbered by offset from 0, kept in segment files, with a MANIFEST saying what the store
// holds (format: core/FORMAT.md; what open decides: core/RECOVERY.md). The store reaches
// the disk only through the FileSystem it is given and time only through the Clock it is
// given; both must outlive the Store.
//
// One writer: a writable open takes the lock on "<dir>/LOCK" (FileSystem::lock); a second
// writer gets Errc::locked and changes nothing. Readers never write: a read-only open
// (Options::read_only) takes no lock and never truncates, renames, deletes, writes or
// syncs; it reports what recovery would do and sees a live writer's tail as in progress.
//
// Durability ("acknowledged"): durable_offset(stream) is the first offset not yet known
// durable; every offset below it survives any crash byte-identical and chain-valid,
// unless damage at rest hits it (then it is reported, never served). With sync policy
// `always`, append returns after its records are durable. A failed fsync (file or
// directory) makes the store fail-stop: every later write returns Errc::fail_stopped
// until the store is reopened, and data written since the last good sync is
// indeterminate.
//
// The window that cannot be proven: the manifest's recovery point advances at every
// seal, open and clean close, and after a sync once the active segment has grown
// Options::recovery_point_interval_bytes past it; frames carry the durable offset they
// were written under. Records acknowledged durable after the last of those proofs and
// damaged at rest before the next can only be cut as a torn tail; recovery then reports
// them as possibly acknowledged (TornTail::possibly_acknowledged), never silently.
//
// Corruption: every read checks each frame's CRC32C and the SHA-256 chain from the
// nearest checkpoint or segment anchor at or below the requested offset, and never
// returns wrong bytes. Damage is reported with stream, segment file, byte position and
// offset (Error fields and RecoveryReport::damage).
//
// Threading: not thread-safe; one thread uses a Store at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "simfs/clock.h"
#include "simfs/filesystem.h"
#include "simfs/result.h"

namespace cairn {

enum class SyncMode : std::uint8_t {
  always,  // append returns after data and metadata are durable
  every,   // group commit: sync after every_records records or every_bytes bytes
  manual,  // the caller calls sync()
};

enum class Compression : std::uint8_t { none = 0, lz4 = 1, zstd = 2 };

struct SyncPolicy {
  SyncMode mode = SyncMode::always;
  std::uint64_t every_records = 0;  // with `every`: sync once this many records are unsynced (0: off)
  std::uint64_t every_bytes = 0;    // with `every`: sync once this many bytes are unsynced (0: off)
};

// Parses "always", "manual", "every:N" (records) or "every:Nb" (bytes).
Result<SyncPolicy> parse_sync_policy(const std::string& text);
std::string to_string(const SyncPolicy& p);

struct Options {
  std::uint64_t max_segment_bytes = 64ull << 20;  // rotate before a batch would cross this
  std::uint32_t max_record_bytes = 1u << 20;      // larger payloads are refused / corruption
  std::uint64_t index_interval_bytes = 4096;      // sparse index: an entry every this many bytes
  std::uint64_t checkpoint_interval = 1024;       // a checkpoint record every N records (0: never)
  SyncPolicy sync;
  bool create_if_missing = true;
  // Scan every sealed segment's frames on open (O(log)); by default sealed segments are
  // checked by size and last chain hash against the manifest, and damage inside them is
  // found by reads and verify().
  bool full_scan_on_open = false;
  // Open without writing anything: no lock, no truncate, rename, delete, write or sync.
  // The recovery report says what a writer's open would do; append, sync, checkpoint,
  // purge and repair return Errc::read_only. Files are opened read-only, so a user who
  // may only read the directory can inspect it, also beside a live writer.
  bool read_only = false;
  // The recovery point advances (a manifest replacement: two fsyncs) after a sync once
  // the active segment's durable bytes are this far past it, besides at every seal, open
  // and clean close. Smaller: a narrower unprovable window, more syncs per byte.
  std::uint64_t recovery_point_interval_bytes = 16ull << 20;
  // Sealed segment files kept open for reads, across all streams: past it the least
  // recently read one is closed (an LRU cache of file handles). At least 1.
  std::uint32_t max_open_sealed_files = 32;
  // Per-record compression of data payloads: none, lz4 or zstd (core/codec.h). A record
  // is stored compressed only when that makes it smaller; each frame says how it is
  // stored, so a store may mix them and reopen with another setting. The chain and the
  // Merkle leaves cover the payload as written; max_record_bytes bounds it uncompressed.
  Compression compression = Compression::none;
  // Read sealed segments through a read-only mapping (FileSystem File::map, POSIX mmap)
  // instead of pread into a window: no copy out of the page cache. A segment that cannot
  // be mapped is read with pread. Off by default: on Linux a media error under a mapped
  // page, or another process truncating a mapped file, raises SIGBUS in the reader, a
  // fault cairn cannot turn into an error value (simfs/filesystem.h, File::map).
  bool mapped_reads = false;
  // Threads hashing the chain during verify(), the calling thread's included. The chain
  // is sequential, but every frame states the hash before it, so with N > 1 each segment
  // of at most 2 x max_segment_bytes is read whole into memory (or mapped, with
  // mapped_reads), its later frames are hashed ahead on N - 1 helper threads, and the
  // calling thread's scan, which checks every link as with 1, takes those hashes instead
  // of computing them (core/chain_ahead.h). All file I/O stays on the calling thread; the
  // report is the same, finding for finding, for every N. Costs one segment of memory
  // during verify(). In [1, 64].
  std::uint32_t verify_threads = 1;
};

// What a finding is about.
enum class FindingKind : std::uint8_t {
  damage,    // stored records are damaged or missing: reads of them fail
  index,     // an index sidecar lies or cannot be read: the log wins, no record is affected
  manifest,  // the manifest is missing or damaged: rebuilt from the segments
  spine,     // a spine entry fails its CRC or differs from its record: proofs over it fail, records do not
};
const char* finding_kind_name(FindingKind k);

// Something wrong found in stored data.
struct Finding {
  std::uint64_t stream = 0;
  std::string segment;     // file name inside the stream directory
  std::uint64_t byte_pos = 0;
  std::uint64_t offset = 0;         // first offset affected (best knowledge)
  std::uint64_t end_offset = 0;     // one past the last offset affected (best knowledge)
  std::string what;
  FindingKind kind = FindingKind::damage;
  std::string to_string() const;
};

// Bytes after the last complete batch of an active segment, above the recovery point and
// above every durability proof in the frames: a write that a crash cut short.
struct TornTail {
  std::uint64_t stream = 0;
  std::string segment;
  std::uint64_t byte_pos = 0;         // where the file is cut (end of the last complete batch)
  std::uint64_t bytes_dropped = 0;
  std::uint64_t records_dropped = 0;  // complete, CRC-valid frames that were cut away
  std::uint64_t first_offset_dropped = 0;
  // Records cut that may have been acknowledged durable: they lie inside the window the
  // recovery point does not cover, so neither their durability nor its absence can be
  // proven. Offsets [first_offset_dropped, first_offset_dropped + possibly_acknowledged).
  std::uint64_t possibly_acknowledged = 0;
  bool cut = true;           // false in a read-only open: what a writer's open would cut
  bool in_progress = false;  // read-only, beside a live writer: being written, not torn
};

struct RecoveryReport {
  std::vector<TornTail> torn_tails;     // truncated (not damage)
  std::vector<Finding> damage;          // damage and manifest findings: reported, never cut
  std::vector<std::string> actions;     // files removed, indexes rebuilt, ... ("would" when read-only)
  std::uint64_t streams = 0;
  std::uint64_t segments = 0;
  std::uint64_t indexes_rebuilt = 0;
  // Index sidecars that were present but unreadable or inconsistent with their segment
  // ("stream-X/seg-N.idx"). A missing sidecar is normal after a crash during rotation;
  // an invalid one means a replacement was not atomic or the file was damaged at rest.
  std::vector<std::string> invalid_indexes;
  bool read_only = false;
  bool live_writer = false;      // read-only: another process holds the writer's lock
  bool clean_shutdown = false;   // the manifest says the last writer closed cleanly
  bool manifest_rebuilt = false; // missing or damaged: rebuilt from the segments
  // Streams whose damage the open must not cut (a damaged durable tail, a missing or
  // shortened active segment): appends to them fail until `repair`.
  std::vector<std::uint64_t> blocked_streams;
  bool clean() const { return torn_tails.empty() && damage.empty(); }
  std::string to_string() const;
};

struct AppendResult {
  std::uint64_t first_offset = 0;  // offset of the first record of the batch
  std::uint64_t last_offset = 0;   // offset of the last data record of the batch
  std::optional<std::uint64_t> checkpoint_offset;  // when a checkpoint followed the batch
};

struct StreamStats {
  std::uint64_t stream = 0;
  std::uint64_t first_offset = 0;    // lowest retained offset
  std::uint64_t next_offset = 0;     // offset the next record will get
  std::uint64_t durable_offset = 0;
  std::uint64_t segments = 0;
  std::uint64_t bytes = 0;           // segment file bytes
  std::uint64_t checkpoints = 0;     // known checkpoint records
  std::uint64_t damaged_ranges = 0;
  std::uint64_t first_timestamp_us = 0;
  std::uint64_t last_timestamp_us = 0;
  // Offset ranges [first, second) inside [first_offset, next_offset) that repair removed.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;
  bool blocked = false;  // appends fail until repair (RecoveryReport::blocked_streams)
};

struct VerifyReport {
  std::vector<Finding> findings;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t segments = 0;
  bool clean() const { return findings.empty(); }
};

struct PurgeOptions {
  std::optional<std::uint64_t> older_than_us;    // drop segments whose newest record is older
  std::optional<std::uint64_t> max_total_bytes;  // drop oldest until the stream fits
};

struct PurgeResult {
  std::uint64_t segments_removed = 0;
  std::uint64_t bytes_removed = 0;
};

// One range of bytes that repair takes out of a segment, and where it keeps them.
struct Removal {
  std::string segment;              // the file the bytes came from
  std::uint64_t byte_pos = 0;       // first byte removed
  std::uint64_t bytes = 0;
  std::uint64_t first_offset = 0;   // offsets lost with them: [first_offset, end_offset)
  std::uint64_t end_offset = 0;
  std::string kept_as;              // file beside the segment holding exactly those bytes
  std::string why;
};

struct RepairReport {
  std::uint64_t stream = 0;
  bool dry_run = false;
  std::vector<Removal> removals;
  // Offset ranges [first, second) the stream no longer holds (bytes removed or files that
  // were missing); reads of them fail with not_found naming the repair.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> lost_offsets;
  std::vector<std::string> steps;     // every file operation, in order
  std::vector<std::string> left_alone;  // findings repair cannot fix, and why
  std::uint64_t next_offset = 0;      // the offset the next append gets
  bool nothing_to_do() const { return removals.empty() && lost_offsets.empty() && steps.empty(); }
  std::string to_string() const;
};

// An audit path: `path` proves that `leaf_data` (the record's chain hash h(offset)) is
// leaf `offset` of the stream's Merkle tree of `tree_size` leaves (RFC 9162 §2.1.3.1).
struct InclusionProof {
  std::uint64_t offset = 0;
  std::uint64_t tree_size = 0;
  ChainHash leaf_data{};
  std::vector<ChainHash> path;  // from the leaf's sibling upward
};

class Store {
 public:
  // Opens (or with options.create_if_missing, creates) the store in `dir` and recovers
  // every stream (core/RECOVERY.md): checks the directory against the manifest, truncates
  // torn tails, reports damage, restores chain heads; read-only, it only reports. Errors:
  // invalid_argument (bad options), not_found (no store and no create), locked (another
  // writer holds the store), unsupported_format (a file of an unknown format version or
  // codec), io_error.
  static Result<std::unique_ptr<Store>> open(fs::FileSystem& fs, Clock& clock,
                                             const std::string& dir, const Options& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const RecoveryReport& recovery_report() const;

  // Appends a batch atomically: after any crash it is all there or not there. Creates the
  // stream on first use. Returns the offsets assigned. Errors: invalid_argument (empty
  // batch), record_too_large (a payload above max_record_bytes), no_space / io_error
  // (nothing of the batch is acknowledged; the file is cut back and synced, so none of it
  // comes back after a crash), fail_stopped, closed,
  // read_only, corruption (the stream has damage open must not cut: repair it first).
  Result<AppendResult> append(std::uint64_t stream, const std::vector<Bytes>& batch);
  Result<AppendResult> append(std::uint64_t stream, ByteView payload);

  // Pipelined durability: appends a batch as append() does, then starts its fdatasync
  // (fs::File::start_sync) and returns without waiting, whatever the sync policy; the
  // sync of the stream's previous pipelined batch is waited for after this batch is
  // framed, hashed and written, so that work runs beside it. The records are durable,
  // and durable_offset passes them, once wait_durable(stream, result.last_offset) (or any
  // sync) returns ok; a crash before then may keep or lose the batch, whole (as an
  // unsynced append). The returned offsets are the ticket. Errors: as append; io_error
  // also when the previous batch's sync failed (the store becomes fail-stop).
  Result<AppendResult> append_pipelined(std::uint64_t stream, const std::vector<Bytes>& batch);
  // Returns once every record of `stream` up to and including `offset` is durable:
  // waits for the sync in flight, and syncs what it did not cover. Errors:
  // invalid_argument (offset never appended), not_found (unknown stream), io_error (a
  // failed sync: the store becomes fail-stop), fail_stopped, closed, read_only.
  Status wait_durable(std::uint64_t stream, std::uint64_t offset);

  // Makes everything appended so far durable (all streams, or one). Errors: io_error
  // (the store becomes fail-stop), fail_stopped, closed.
  Status sync();
  Status sync(std::uint64_t stream);

  // Writes a checkpoint record now. Errors: as append; not_found for an unknown stream.
  Result<std::uint64_t> checkpoint(std::uint64_t stream);

  // First offset not known durable. Errors: not_found for an unknown stream,
  // fail_stopped for a stream a failed repair left stale (its files may not be what this
  // process sees until a reopen).
  Result<std::uint64_t> durable_offset(std::uint64_t stream) const;

  // Verified read: records with offset >= from_offset, in order, until their payloads
  // total at least max_bytes (at least one record when any exists). Checkpoint records
  // are included (kind tells them apart). A read that meets damage after verified
  // records returns those (fewer than asked); the read that starts in the damaged range
  // gets the error. Errors: not_found (unknown stream, or
  // from_offset below the first retained offset), corruption (naming stream, segment,
  // byte position and offset), io_error, fail_stopped (a repair of the stream failed after
  // its commit: this view is stale until a reopen).
  Result<std::vector<Record>> read(std::uint64_t stream, std::uint64_t from_offset,
                                   std::uint64_t max_bytes);
  // Offset of the first record with timestamp_us >= t_us (next_offset if none).
  Result<std::uint64_t> offset_for_time(std::uint64_t stream, std::uint64_t t_us);
  // read(stream, offset_for_time(stream, t_us), max_bytes).
  Result<std::vector<Record>> read_by_time(std::uint64_t stream, std::uint64_t t_us,
                                           std::uint64_t max_bytes);

  // Full verification of every frame, the chain, segment anchors, checkpoints and index
  // sidecars, of one stream or all. Findings are returned, not errors; io_error only
  // when the files cannot be read at all; fail_stopped as read.
  Result<VerifyReport> verify(std::optional<std::uint64_t> stream = std::nullopt);

  // Retention: removes whole sealed segments, oldest first, never the active one. Errors:
  // as append (corruption for a stream that needs repair first), not_found.
  Result<PurgeResult> purge(const PurgeOptions& options);
  Result<PurgeResult> purge(std::uint64_t stream, const PurgeOptions& options);

  // Operator repair of one stream: removes the least the format allows (each damaged
  // range up to whole batches; pieces of a segment around damage become segments of their
  // own), keeps every removed byte in "<segment>.removed-at-<byte>" beside it, records
  // the offsets lost as gaps in the manifest and continues the stream after the largest
  // offset it ever held (offsets are never reused). Crash-safe: the manifest commits the
  // plan and open completes it. With dry_run nothing changes (a read-only store may plan);
  // the report says exactly what would. Errors: not_found, read_only, fail_stopped,
  // closed, io_error, no_space.
  Result<RepairReport> repair(std::uint64_t stream, bool dry_run = false);

  // The stream's Merkle tree (RFC 9162 §2.1: leaf SHA-256(0x00 || h(i)), node
  // SHA-256(0x01 || left || right)) has one leaf per offset, whose data is the record's
  // chain hash h(i), or 32 zero bytes for an offset repair removed before its leaf was
  // kept. The leaves live in the stream's spine file, which retention never purges, so
  // purged records stay provable. A tree size counts leaves from offset 0 and may be at
  // most the stream's next offset (records not yet durable included; a batch whose sync
  // failed excluded). The first proof of a stream reads its spine whole (36 bytes per
  // record) and keeps the tree in memory (64 bytes per record).
  // Errors (all three): not_found (unknown stream), invalid_argument (a size or offset out
  // of range), corruption (a leaf the store cannot know: its record is damaged, or was
  // purged before it reached the spine; or a spine entry fails its CRC: naming the file,
  // byte position and offset), io_error.
  // MTH of the first `tree_size` leaves (the empty tree's SHA-256() for 0).
  Result<ChainHash> merkle_root(std::uint64_t stream, std::uint64_t tree_size);
  // PATH(offset, D[tree_size]) (RFC 9162 §2.1.3.1). Requires offset < tree_size.
  Result<InclusionProof> prove_inclusion(std::uint64_t stream, std::uint64_t offset, std::uint64_t tree_size);
  // PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1). Requires 0 < old_size <= new_size.
  Result<std::vector<ChainHash>> prove_consistency(std::uint64_t stream, std::uint64_t old_size,
                                                   std::uint64_t new_size);

  std::vector<std::uint64_t> streams() const;
  Result<StreamStats> stats(std::uint64_t stream) const;
  bool fail_stopped() const;

  // Syncs every stream, marks the manifest clean, closes every file and releases the lock.
  // Later calls return closed. A read-only store only closes its files.
  Status close();

  // The store's state; defined in core/store_impl.h, opaque to users.
  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
