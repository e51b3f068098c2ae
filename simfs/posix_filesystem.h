// PosixFileSystem: the FileSystem interface on the real OS (open/pread/pwrite/
// fdatasync/rename/unlink/mkdir/opendir, fsync of a directory for sync_dir, and flock(2)
// for lock/lock_held; flock locks belong to an open file description, so a second lock
// of one path conflicts also inside one process).
// Paths are used as given. errno maps to Errc as: ENOSPC/EDQUOT -> no_space,
// ENOENT -> not_found, EEXIST -> already_exists, EINVAL/EISDIR/ENOTDIR/ENAMETOOLONG ->
// invalid_argument, anything else -> io_error; messages name the call, path and errno.
#pragma once

#include "simfs/filesystem.h"

namespace cairn::fs {

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenOptions options) override;
  Status sync_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status unlink(const std::string& path) override;
  Status mkdir(const std::string& path) override;
  Status rmdir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Result<bool> exists(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override;
  Result<bool> lock_held(const std::string& path) override;
};

}  // namespace cairn::fs
