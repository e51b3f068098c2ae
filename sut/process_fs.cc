#include "sut/process_fs.h"

namespace cairn::sut {

namespace {

Error dead(const std::string& path) {
  Error e = make_error(Errc::io_error, "the process is dead");
  e.segment = path;
  return e;
}

class ProcessFile final : public fs::File {
 public:
  ProcessFile(std::unique_ptr<fs::File> f, std::shared_ptr<bool> d, std::string path)
      : f_(std::move(f)), dead_(std::move(d)), path_(std::move(path)) {}
  Result<std::size_t> pread(std::uint64_t pos, std::span<std::uint8_t> dst) override {
    if (*dead_) return dead(path_);
    return f_->pread(pos, dst);
  }
  Result<std::size_t> pwrite(std::uint64_t pos, std::span<const std::uint8_t> src) override {
    if (*dead_) return dead(path_);
    return f_->pwrite(pos, src);
  }
  Result<std::size_t> append(std::span<const std::uint8_t> src) override {
    if (*dead_) return dead(path_);
    return f_->append(src);
  }
  Result<std::uint64_t> size() override {
    if (*dead_) return dead(path_);
    return f_->size();
  }
  Status truncate(std::uint64_t size_bytes) override {
    if (*dead_) return dead(path_);
    return f_->truncate(size_bytes);
  }
  Status sync() override {
    if (*dead_) return dead(path_);
    return f_->sync();
  }
  // A sync already started goes on in the kernel when the process dies.
  Result<std::unique_ptr<fs::PendingSync>> start_sync() override {
    if (*dead_) return dead(path_);
    return f_->start_sync();
  }
  Status close() override {
    if (*dead_) return dead(path_);
    return f_->close();
  }
  Result<std::unique_ptr<fs::Mapping>> map(std::uint64_t len) override {
    if (*dead_) return dead(path_);
    return f_->map(len);
  }

 private:
  std::unique_ptr<fs::File> f_;
  std::shared_ptr<bool> dead_;
  std::string path_;
};

class ProcessLock final : public fs::FileLock {
 public:
  ProcessLock(std::unique_ptr<fs::FileLock> l, std::shared_ptr<bool> d) : l_(std::move(l)), dead_(std::move(d)) {}
  Status unlock() override {
    if (*dead_) return dead("lock");
    return l_->unlock();
  }

 private:
  std::unique_ptr<fs::FileLock> l_;
  std::shared_ptr<bool> dead_;
};

}  // namespace

Result<std::unique_ptr<fs::File>> ProcessFileSystem::open(const std::string& path, fs::OpenOptions options) {
  if (*dead_) return dead(path);
  auto f = below_.open(path, options);
  if (!f.ok()) return std::move(f).error();
  return std::unique_ptr<fs::File>(std::make_unique<ProcessFile>(std::move(f).value(), dead_, path));
}

Status ProcessFileSystem::sync_dir(const std::string& dir) {
  if (*dead_) return dead(dir);
  return below_.sync_dir(dir);
}

Status ProcessFileSystem::rename(const std::string& from, const std::string& to) {
  if (*dead_) return dead(from);
  return below_.rename(from, to);
}

Status ProcessFileSystem::unlink(const std::string& path) {
  if (*dead_) return dead(path);
  return below_.unlink(path);
}

Status ProcessFileSystem::mkdir(const std::string& path) {
  if (*dead_) return dead(path);
  return below_.mkdir(path);
}

Status ProcessFileSystem::rmdir(const std::string& path) {
  if (*dead_) return dead(path);
  return below_.rmdir(path);
}

Result<std::vector<std::string>> ProcessFileSystem::list_dir(const std::string& dir) {
  if (*dead_) return dead(dir);
  return below_.list_dir(dir);
}

Result<bool> ProcessFileSystem::exists(const std::string& path) {
  if (*dead_) return dead(path);
  return below_.exists(path);
}

Result<std::unique_ptr<fs::FileLock>> ProcessFileSystem::lock(const std::string& path) {
  if (*dead_) return dead(path);
  auto l = below_.lock(path);
  if (!l.ok()) return std::move(l).error();
  return std::unique_ptr<fs::FileLock>(std::make_unique<ProcessLock>(std::move(l).value(), dead_));
}

Result<bool> ProcessFileSystem::lock_held(const std::string& path) {
  if (*dead_) return dead(path);
  return below_.lock_held(path);
}

}  // namespace cairn::sut
