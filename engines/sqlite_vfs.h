// An sqlite3_vfs over cairn::fs::FileSystem (https://www.sqlite.org/vfs.html): SQLite's
// files, time, randomness and sleep come from the simulator, so a seed replays exactly.
// It follows the unix VFS (src/os_unix.c) where durability depends on it: a journal or WAL
// opened with create has its directory synced after its first sync, xDelete with syncDir
// syncs the directory, a short read zero-fills and returns SQLITE_IOERR_SHORT_READ, and
// the device promises powersafe overwrite (what SimFileSystem's torn writes keep). It
// differs in one place: a failed directory sync is an error here (unix ignores it).
//
// No shared memory (io methods version 1): WAL needs `PRAGMA locking_mode=EXCLUSIVE`
// before journal_mode=WAL. Locks are recorded, never contended (one connection).
//
// One process-wide VFS named "cairn", registered as the default (SQLite's own PRNG reseeds
// from the default VFS: sqlite3_randomness(0, NULL)). Its environment is process-wide too:
// hold vfs_mutex() from set_vfs_environment until the connection is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "simfs/clock.h"
#include "simfs/filesystem.h"
#include "simfs/prng.h"

struct sqlite3_vfs;

namespace cairn::engines {

struct VfsEnvironment {
  fs::FileSystem* fs = nullptr;
  Clock* clock = nullptr;
  std::function<void(std::uint64_t)> sleep_us;
  Prng* random = nullptr;
  std::string temp_dir;  // where SQLite's nameless temporary files go
};

// Serializes every use of the VFS in the process.
std::mutex& vfs_mutex();
// Registers the VFS once (as the default) and returns it.
sqlite3_vfs* cairn_vfs();
// The environment of the files opened from now on, and SQLite's PRNG reseeded from it.
// REQUIRES: vfs_mutex() held by the caller.
void set_vfs_environment(const VfsEnvironment& env);

}  // namespace cairn::engines
