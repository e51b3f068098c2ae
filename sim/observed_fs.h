// ObservedFileSystem: a FileSystem that forwards every call to another one and tells an
// observer what was asked and what came back. The simulator puts it between the store
// and SimFileSystem, so the oracle learns what was written and which syncs succeeded
// from the calls themselves, not from what the store says about them.
//
// Paths reach the observer as the caller passed them. Not thread-safe (as FileSystem).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "simfs/bytes.h"
#include "simfs/filesystem.h"

namespace cairn::sim {

// What happened, call by call. Each callback runs after the call returned.
class FsObserver {
 public:
  virtual ~FsObserver() = default;
  // An open that succeeded; `created`: the file did not exist before.
  virtual void opened(const std::string& /*path*/, fs::OpenOptions /*options*/, bool /*created*/) {}
  // `written` bytes of `data` (a prefix of it, all when the write succeeded) at byte_pos.
  virtual void wrote(const std::string& /*path*/, std::uint64_t /*byte_pos*/, ByteView /*data*/, std::size_t /*written*/) {}
  virtual void truncated(const std::string& /*path*/, std::uint64_t /*size_bytes*/) {}
  virtual void synced(const std::string& /*path*/, bool /*ok*/) {}
  // A sync started (File::start_sync) covering the writes observed so far; `id` names
  // it in the sync_done that reports its result (ok, or failed).
  virtual void sync_started(const std::string& /*path*/, std::uint64_t /*id*/) {}
  virtual void sync_done(const std::string& /*path*/, std::uint64_t /*id*/, bool /*ok*/) {}
  virtual void synced_dir(const std::string& /*dir*/, bool /*ok*/) {}
  virtual void renamed(const std::string& /*from*/, const std::string& /*to*/) {}
  virtual void unlinked(const std::string& /*path*/) {}
  virtual void made_dir(const std::string& /*path*/) {}
  virtual void removed_dir(const std::string& /*path*/) {}
};

class ObservedFileSystem final : public fs::FileSystem {
 public:
  // REQUIRES: inner and the observers outlive this and every File it opens; they are told
  // in order. `present` says, without an operation on `inner`, whether a path exists (to
  // tell a create apart).
  ObservedFileSystem(fs::FileSystem& inner, std::vector<FsObserver*> observers,
                     std::function<bool(const std::string&)> present)
      : inner_(inner), observers_(std::move(observers)), present_(std::move(present)) {}

  Result<std::unique_ptr<fs::File>> open(const std::string& path, fs::OpenOptions options) override;
  Status sync_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status unlink(const std::string& path) override;
  Status mkdir(const std::string& path) override;
  Status rmdir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override { return inner_.list_dir(dir); }
  Result<bool> exists(const std::string& path) override { return inner_.exists(path); }
  Result<std::unique_ptr<fs::FileLock>> lock(const std::string& path) override { return inner_.lock(path); }
  Result<bool> lock_held(const std::string& path) override { return inner_.lock_held(path); }

 private:
  fs::FileSystem& inner_;
  std::vector<FsObserver*> observers_;
  std::function<bool(const std::string&)> present_;
  std::uint64_t next_sync_id_ = 1;  // names each started sync for the observers
};

}  // namespace cairn::sim
