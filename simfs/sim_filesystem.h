// SimFileSystem: an in-memory, deterministic FileSystem that injects the faults of real
// disks and kernels (simfs/README.md describes each family and the bug it models).
//
// State model. Each file (inode) has a durable image and an ordered list of pending
// writes and truncates made since its last good sync(); the process sees the durable
// image with the pending operations applied. Each directory has pending entry operations
// (create, rename, unlink, mkdir) made since its last good sync_dir(). crash() keeps
// only what a real disk could hold after power loss: for every pending operation the
// enabled fault families decide whether it is kept, dropped or torn.
//
// All randomness comes from the Prng handed in; all time from the ManualClock handed in
// (latency). Nothing is read from the OS. Same seed and same calls: same trace digest.
//
// Limits: paths are absolute ('/'-separated; a relative path is taken from '/'); rename
// must stay within one directory (invalid_argument otherwise). Not thread-safe.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "simfs/bytes.h"
#include "simfs/clock.h"
#include "simfs/filesystem.h"
#include "simfs/prng.h"

namespace cairn::fs {

enum class FaultFamily : std::uint8_t {
  lost_write,         // a pending write or truncate dropped at a crash
  torn_write,         // a pending write kept only for some of its sectors at a crash
  extension_garbage,  // a lost write's size extension survived, filled with zeros or garbage
  dir_revert,         // a pending create/rename/unlink/mkdir reverted at a crash
  bit_flip,           // a bit flipped in durable data
  read_error,         // pread failed with EIO (transient or sticky sector)
  fsync_failure,      // sync or sync_dir failed with EIO
  write_error,        // pwrite failed with EIO
  no_space,           // pwrite came back short and then with ENOSPC
  misdirected_write,  // a pwrite landed at the wrong position
};
inline constexpr int kFaultFamilyCount = 10;
const char* fault_family_name(FaultFamily f);

// Every family can be off; rates are parts per million per eligible operation (or, for
// crash-time families, per pending operation at the crash).
struct SimConfig {
  std::uint32_t sector_bytes = 512;

  bool lost_writes = false;          // pending writes/truncates may be dropped at a crash
  std::uint32_t lost_write_ppm = 500'000;
  bool torn_writes = false;          // pending writes may be torn per sector at a crash
  std::uint32_t torn_write_ppm = 300'000;
  bool extension_garbage = false;    // a dropped/torn extension may keep its new size
  std::uint32_t extension_garbage_ppm = 500'000;
  bool dir_reverts = false;          // pending directory operations may revert at a crash
  std::uint32_t dir_revert_ppm = 500'000;
  // Reverts keep a prefix of the pending directory operations, in the order they were
  // made (a journaling filesystem commits metadata in order: ext4, xfs): once one reverts,
  // every later one does. Off: each reverts independently (what POSIX allows).
  bool ordered_dir_reverts = false;
  // A successful sync() of any file also makes every pending directory operation durable
  // (ext4 and xfs commit the whole metadata journal on fsync). Off: only sync_dir of the
  // parent does (all POSIX promises: fsync(2), "an explicit fsync() on a file descriptor
  // for the directory is also needed").
  bool fsync_commits_metadata = false;
  bool read_errors = false;
  std::uint32_t read_error_ppm = 2'000;
  std::uint32_t read_error_sticky_ppm = 300'000;  // share of read errors that stick
  bool fsync_failures = false;
  std::uint32_t fsync_failure_ppm = 5'000;
  bool write_errors = false;
  std::uint32_t write_error_ppm = 3'000;
  std::uint32_t write_no_space_ppm = 500'000;     // share of write errors that are ENOSPC
  bool misdirected_writes = false;
  std::uint32_t misdirected_write_ppm = 500;
  // bit flips at rest are injected explicitly: inject_bit_flip / inject_random_bit_flip.

  std::uint64_t latency_min_us = 0;  // per operation
  std::uint64_t latency_max_us = 0;
  std::uint64_t sync_latency_factor = 20;  // sync and sync_dir take this many times longer
};

struct FaultRecord {
  std::uint64_t time_us = 0;
  FaultFamily family = FaultFamily::lost_write;
  std::string path;
  std::uint64_t byte_pos = 0;  // first byte affected (0 for directory faults)
  std::uint64_t len = 0;       // bytes affected
  std::string detail;
  // A misdirected write: the bytes it overwrote where it landed, and the file's size before.
  Bytes overwritten;
  std::uint64_t size_before = 0;
  std::string to_string() const;
};

class SimFileSystem final : public FileSystem {
 public:
  // REQUIRES: prng (and clock, when given) outlive the filesystem.
  SimFileSystem(const SimConfig& config, Prng& prng, ManualClock* clock = nullptr);
  // Convenience for tests: owns a Prng seeded with `seed`.
  SimFileSystem(const SimConfig& config, std::uint64_t seed, ManualClock* clock = nullptr);
  ~SimFileSystem() override;

  Result<std::unique_ptr<File>> open(const std::string& path, OpenOptions options) override;
  Status sync_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status unlink(const std::string& path) override;
  Status mkdir(const std::string& path) override;
  Status rmdir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Result<bool> exists(const std::string& path) override;
  // Locks are a set of held paths; a crash clears it (the holders died with the power).
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override;
  Result<bool> lock_held(const std::string& path) override;

  // ---- power loss
  // Power is lost at the n-th filesystem operation from now (n >= 1): that operation and
  // every later one fail with io_error until restart().
  void arm_power_off(std::uint64_t n);
  void disarm_power_off();
  bool powered_off() const { return powered_off_; }
  // Power loss now: applies the crash semantics of every enabled family, invalidates
  // every open File, and powers back on.
  void crash();
  // After an armed power-off: crash() and power on.
  void restart() { crash(); }
  // "op path" of the operation at which power was last lost ("" when none).
  const std::string& power_off_op() const { return power_off_op_; }
  // Replaces every sector that fails reads for good (an operator swapping the disk).
  void clear_sticky_read_errors();
  // A full disk, until switched off: a pwrite gets ENOSPC for every byte past the file's
  // current size (bytes over existing ones still land: a short write). Not an operation.
  void set_disk_full(bool full) { disk_full_ = full; }
  bool disk_full() const { return disk_full_; }

  // ---- faults at rest
  // Flips one bit of durable data; returns false when byte_pos is past the durable size.
  bool inject_bit_flip(const std::string& path, std::uint64_t byte_pos, unsigned bit);
  // Flips a random bit of a random file whose durable image is not empty, choosing among
  // paths that start with `prefix`. Returns the record of the fault, if one was injected.
  std::optional<FaultRecord> inject_random_bit_flip(const std::string& prefix = "/");
  // Overwrites durable bytes directly (tampering; records a bit_flip fault).
  bool inject_overwrite(const std::string& path, std::uint64_t byte_pos, ByteView bytes);

  // ---- inspection
  const std::vector<FaultRecord>& fault_log() const { return faults_; }
  std::uint64_t fault_count(FaultFamily f) const;
  // The durable image of a file (what a crash right now would keep at the least).
  std::optional<Bytes> durable_contents(const std::string& path) const;
  // The contents the process sees.
  std::optional<Bytes> current_contents(const std::string& path) const;
  // The same without a copy: valid until the next operation on the filesystem.
  const Bytes* current_view(const std::string& path) const;
  // Whether the process sees a file or directory at path / whether a crash now would keep
  // its entry. Inspection for the simulator: not an operation (no latency, no trace, not
  // a crash point).
  bool visible(const std::string& path) const;
  bool durable_entry(const std::string& path) const;
  // Paths of the files the process sees under `prefix`, sorted (inspection, as above).
  std::vector<std::string> visible_files(const std::string& prefix) const;
  // Bytes of a file written since its last good sync (0 when none).
  std::uint64_t ops() const { return ops_; }

  // ---- trace
  void set_trace(bool on) { trace_on_ = on; }
  const std::vector<std::string>& trace() const { return trace_; }
  // Running digest of every trace line (its time, format text and arguments, FNV-1a's
  // xor-multiply over 64-bit words), kept whether or not lines are stored.
  std::uint64_t trace_digest() const { return digest_; }
  // Adds a line (from the simulator) to the same trace and digest.
  void note(const std::string& line);

  const SimConfig& config() const { return config_; }
  SimConfig& mutable_config() { return config_; }

 private:
  friend class SimFile;
  friend class SimLock;
  struct Impl;
  std::unique_ptr<Prng> owned_prng_;
  SimConfig config_;
  Prng& prng_;
  ManualClock* clock_;
  std::unique_ptr<Impl> impl_;
  std::vector<FaultRecord> faults_;
  std::vector<std::string> trace_;
  bool trace_on_ = false;
  std::uint64_t digest_ = 1469598103934665603ull;
  std::uint64_t ops_ = 0;
  std::uint64_t power_off_at_ = 0;  // 0: not armed
  bool powered_off_ = false;
  bool disk_full_ = false;
  std::string power_off_op_;
  std::uint64_t generation_ = 0;    // bumped at every crash; older Files are dead
  std::set<std::string> locks_;     // paths locked now

  // Counts an operation and applies power-off and latency. Returns io_error when off.
  Status begin_op(const char* name, const std::string& path, bool is_sync = false);
  bool overwrite_at_rest(const std::string& path, std::uint64_t byte_pos, std::size_t len,
                         const std::function<std::uint8_t(std::uint8_t)>& change, const std::string& detail);
  void log_fault(FaultFamily f, const std::string& path, std::uint64_t pos, std::uint64_t len,
                 std::string detail);
  void trace_line(const std::string& line);
  // One trace line from a format and its arguments. The digest takes the time, the
  // format's text and each argument (integers as words, strings as bytes), so a line is
  // formatted only when the trace is kept; the line is a function of exactly those.
  template <typename... Args>
  void trace(fmt::format_string<const Args&...> format, const Args&... args) {
    const std::uint64_t t = now_us();
    mix_word(t);
    const fmt::string_view text = format;
    mix_bytes(std::string_view(text.data(), text.size()));
    (mix_arg(args), ...);
    if (trace_on_) keep_line(t, fmt::format(format, args...));
  }
  void mix_word(std::uint64_t word) { digest_ = (digest_ ^ word) * 1099511628211ull; }
  void mix_bytes(std::string_view bytes);
  template <std::integral T>
  void mix_arg(T value) { mix_word(static_cast<std::uint64_t>(value)); }
  void mix_arg(std::string_view text) { mix_bytes(text); }
  void keep_line(std::uint64_t t, const std::string& line);
  std::uint64_t now_us() const { return clock_ ? clock_->now_us() : 0; }
};

}  // namespace cairn::fs
