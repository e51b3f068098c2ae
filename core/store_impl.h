// Internal state of a Store: streams, their segments, and the helpers shared by the
// write path (store.cc), recovery (store_open.cc) and the read path (store_read.cc).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/chain.h"
#include "core/format.h"
#include "core/store.h"

namespace cairn {

struct Segment {
  std::uint64_t base_offset = 0;
  std::string name;                  // "seg-<base>.log"
  std::uint64_t next_offset = 0;     // one past its last record
  std::uint64_t size_bytes = 0;      // valid bytes (header + complete frames)
  std::uint64_t first_ts = 0;
  std::uint64_t last_ts = 0;
  ChainHash anchor{};
  bool anchor_known = true;          // false when the header itself is damaged
  ChainHash last_hash{};             // h(next_offset - 1)
  std::vector<format::IndexEntry> entries;
  // Parallel to `entries` when this process computed them (append, verifying scan): the
  // chain hash before each entry's record, so a verified read can start there. Empty for
  // entries loaded from a sidecar (a hint, not trusted to seed the chain).
  std::vector<std::optional<ChainHash>> entry_hashes;
  std::vector<format::CheckpointEntry> checkpoints;
  std::vector<Finding> damage;       // known damaged ranges; reads inside them fail
  std::vector<format::CheckpointEntry> resumes;  // valid frames resuming after damage
  bool sealed = false;
  std::unique_ptr<fs::File> file;    // active: always open; sealed: opened on demand

  bool empty() const { return next_offset == base_offset; }
  format::SegmentSummary summary(std::uint64_t stream) const;
};

// Where a verified read starts: a frame whose chain hash is known (segment start,
// checkpoint) or taken from the frame itself (a resume point after damage).
struct StartPoint {
  std::uint64_t offset = 0;
  std::uint64_t byte_pos = 0;
  bool from_checkpoint = false;
  bool from_resume = false;
  bool from_frontier = false;
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

struct Stream {
  std::uint64_t id = 0;
  std::string dir;
  std::vector<Segment> segments;     // ascending base_offset; back() is active
  std::uint64_t next_offset = 0;
  ChainHash head{};                  // h(next_offset - 1)
  std::uint64_t last_ts = 0;
  std::uint64_t durable_offset = 0;
  bool dirty = false;  // the active file changed (write or cut-back) since its last sync
  std::uint64_t unsynced_records = 0;
  std::uint64_t unsynced_bytes = 0;
  std::uint64_t records_since_checkpoint = 0;
  VerifiedFrontier frontier;

  Segment& active() { return segments.back(); }
  const Segment& active() const { return segments.back(); }
  std::uint64_t first_offset() const { return segments.front().base_offset; }
};

struct Store::Impl {
  Impl(fs::FileSystem& f, Clock& c, std::string d, Options o)
      : fs(f), clock(c), dir(std::move(d)), options(o) {}

  fs::FileSystem& fs;
  Clock& clock;
  std::string dir;
  Options options;
  std::map<std::uint64_t, Stream> streams;  // ordered by id: deterministic iteration
  RecoveryReport report;
  ChainHasher hasher;
  bool failed = false;
  std::string failed_reason;
  bool closed = false;

  // --- shared helpers (store.cc)
  Status check_writable() const;
  // Records a failed fsync: the store becomes fail-stop. Returns the error to pass up.
  Error fail_stop(Error e);
  Result<Stream*> find_stream(std::uint64_t id);
  Result<const Stream*> find_stream(std::uint64_t id) const;
  Result<Stream*> get_or_create_stream(std::uint64_t id);
  Status create_segment(Stream& s, std::uint64_t base_offset, const ChainHash& anchor);
  Status rotate(Stream& s);
  Status sync_stream(Stream& s);
  // Replaces the sidecar of a sealed segment atomically (temp, fsync, rename, fsync dir).
  Status write_index(Stream& s, const Segment& seg);
  // Validates a caller's batch (writable, not empty, sizes) and appends it.
  Result<AppendResult> append_checked(std::uint64_t stream, const std::vector<ByteView>& batch);
  Result<AppendResult> append_records(Stream& s, const std::vector<ByteView>& payloads,
                                      bool checkpoint_only);
  Result<fs::File*> segment_file(Stream& s, Segment& seg);
  Error located(Errc code, const Stream& s, const Segment& seg, std::uint64_t byte_pos,
                std::uint64_t offset, std::string message) const;

  // --- recovery (store_open.cc)
  Status recover();
  Status recover_stream(std::uint64_t id, const std::string& stream_dir);

  // --- reads (store_read.cc)
  Result<std::vector<Record>> read(Stream& s, std::uint64_t from, std::uint64_t max_bytes);
  // Reads into `out`; on an error `out` holds the records verified before it.
  Result<std::vector<Record>> read_from(Stream& s, std::size_t si, StartPoint sp,
                                        std::uint64_t from, std::uint64_t max_bytes,
                                        std::vector<Record>& out);
  Status verify_stream(Stream& s, VerifyReport& out);
};

}  // namespace cairn
