// One process's view of the filesystem: forwards every call to the FileSystem below until
// the process is killed, after which every call (also through Files opened before) fails
// with io_error and changes nothing. The harness gives each engine process its own, so
// the destructors of a dead process's objects cannot write after its death.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "simfs/filesystem.h"

namespace cairn::sut {

class ProcessFileSystem final : public fs::FileSystem {
 public:
  explicit ProcessFileSystem(fs::FileSystem& below) : below_(below), dead_(std::make_shared<bool>(false)) {}
  // From now on every call fails; the FileSystem below sees none of them.
  void kill() { *dead_ = true; }
  bool killed() const { return *dead_; }

  Result<std::unique_ptr<fs::File>> open(const std::string& path, fs::OpenOptions options) override;
  Status sync_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status unlink(const std::string& path) override;
  Status mkdir(const std::string& path) override;
  Status rmdir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Result<bool> exists(const std::string& path) override;
  Result<std::unique_ptr<fs::FileLock>> lock(const std::string& path) override;
  Result<bool> lock_held(const std::string& path) override;

 private:
  fs::FileSystem& below_;
  std::shared_ptr<bool> dead_;
};

}  // namespace cairn::sut
