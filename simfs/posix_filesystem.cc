#include "simfs/posix_filesystem.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace cairn::fs {
namespace {

Error errno_error(const char* call, const std::string& path, int err) {
  Errc code = Errc::io_error;
  switch (err) {
    case ENOSPC:
    case EDQUOT: code = Errc::no_space; break;
    case ENOENT: code = Errc::not_found; break;
    case EEXIST: code = Errc::already_exists; break;
    case EINVAL:
    case EISDIR:
    case ENOTDIR:
    case ENAMETOOLONG: code = Errc::invalid_argument; break;
    default: break;
  }
  Error e = make_error(code, std::string(call) + " " + path + ": " + std::strerror(err));
  e.segment = path;
  return e;
}

class PosixMapping final : public Mapping {
 public:
  PosixMapping(void* addr, std::size_t len) : addr_(addr), len_(len) {}
  ~PosixMapping() override {
    if (len_ > 0) ::munmap(addr_, len_);
  }
  ByteView bytes() const override { return ByteView(static_cast<const std::uint8_t*>(addr_), len_); }

 private:
  void* addr_;
  std::size_t len_;
};

// One thread per file that runs its submitted fdatasync(2) calls in order. fdatasync
// may run beside the owner's pwrite calls on the same descriptor (the kernel serialises
// what it must). Stopped (after the queue drains) before the descriptor is closed.
class SyncWorker {
 public:
  explicit SyncWorker(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~SyncWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  // The errno of the fdatasync (0: it succeeded), once it has run.
  std::future<int> submit() {
    std::promise<int> p;
    std::future<int> f = p.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(p));
    }
    cv_.notify_one();
    return f;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_, and nothing left to run
      std::promise<int> p = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      p.set_value(::fdatasync(fd_) == 0 ? 0 : errno);
      lock.lock();
    }
  }

  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::promise<int>> queue_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members above exist
};

class PosixPendingSync final : public PendingSync {
 public:
  PosixPendingSync(std::future<int> result, std::string path) : result_(std::move(result)), path_(std::move(path)) {}
  ~PosixPendingSync() override {
    if (result_.valid()) result_.wait();
  }
  Status wait() override {
    if (!result_.valid()) return make_error(Errc::invalid_argument, "wait() on a sync already waited for: " + path_);
    const int err = result_.get();
    if (err != 0) return errno_error("fdatasync", path_, err);
    return {};
  }

 private:
  std::future<int> result_;
  std::string path_;
};

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, bool read_only)
      : fd_(fd), path_(std::move(path)), read_only_(read_only) {}
  ~PosixFile() override {
    worker_.reset();
    if (fd_ >= 0) ::close(fd_);
  }

  Result<std::size_t> pread(std::uint64_t byte_pos, std::span<std::uint8_t> dst) override {
    if (fd_ < 0) return closed();
    for (;;) {
      ssize_t n = ::pread(fd_, dst.data(), dst.size(), static_cast<off_t>(byte_pos));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return errno_error("pread", path_, errno);
    }
  }

  Result<std::size_t> pwrite(std::uint64_t byte_pos, std::span<const std::uint8_t> src) override {
    if (fd_ < 0) return closed();
    if (read_only_) return read_only("pwrite");
    for (;;) {
      ssize_t n = ::pwrite(fd_, src.data(), src.size(), static_cast<off_t>(byte_pos));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return errno_error("pwrite", path_, errno);
    }
  }

  Result<std::size_t> append(std::span<const std::uint8_t> src) override {
    CAIRN_ASSIGN_OR_RETURN(std::uint64_t end, size());
    return pwrite(end, src);
  }

  Result<std::uint64_t> size() override {
    if (fd_ < 0) return closed();
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno_error("fstat", path_, errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

  Status truncate(std::uint64_t size_bytes) override {
    if (fd_ < 0) return closed();
    if (read_only_) return read_only("ftruncate");
    if (::ftruncate(fd_, static_cast<off_t>(size_bytes)) != 0) {
      return errno_error("ftruncate", path_, errno);
    }
    return {};
  }

  Status sync() override {
    if (fd_ < 0) return closed();
    if (read_only_) return read_only("fdatasync");
    if (::fdatasync(fd_) != 0) return errno_error("fdatasync", path_, errno);
    return {};
  }

  Result<std::unique_ptr<PendingSync>> start_sync() override {
    if (fd_ < 0) return closed();
    if (read_only_) return read_only("fdatasync");
    if (!worker_) worker_ = std::make_unique<SyncWorker>(fd_);
    return std::unique_ptr<PendingSync>(std::make_unique<PosixPendingSync>(worker_->submit(), path_));
  }

  Result<std::unique_ptr<Mapping>> map(std::uint64_t len) override {
    CAIRN_ASSIGN_OR_RETURN(std::uint64_t file_bytes, size());
    if (len > file_bytes || len > SIZE_MAX) {
      Error e = make_error(Errc::invalid_argument,
                           "map of " + std::to_string(len) + " bytes past the end of " + path_ + " (" +
                               std::to_string(file_bytes) + " bytes)");
      e.segment = path_;
      return e;
    }
    if (len == 0) return std::unique_ptr<Mapping>(new PosixMapping(nullptr, 0));
    void* addr = ::mmap(nullptr, static_cast<std::size_t>(len), PROT_READ, MAP_SHARED, fd_, 0);
    if (addr == MAP_FAILED) return errno_error("mmap", path_, errno);
    return std::unique_ptr<Mapping>(new PosixMapping(addr, static_cast<std::size_t>(len)));
  }

  Status close() override {
    if (fd_ < 0) return closed();
    worker_.reset();  // every started sync has run
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return errno_error("close", path_, errno);
    return {};
  }

 private:
  Error closed() const { return make_error(Errc::invalid_argument, "file is closed: " + path_); }
  Error read_only(const char* call) const {
    Error e = make_error(Errc::read_only, std::string(call) + " " + path_ + ": opened read-only");
    e.segment = path_;
    return e;
  }

  int fd_;
  std::string path_;
  bool read_only_;
  std::unique_ptr<SyncWorker> worker_;  // made by the first start_sync
};

class PosixLock final : public FileLock {
 public:
  PosixLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixLock() override { (void)unlock(); }
  Status unlock() override {
    if (fd_ < 0) return {};
    const int fd = fd_;
    fd_ = -1;
    // Closing the descriptor releases the flock; unlock first so an error is reported.
    const int rc = ::flock(fd, LOCK_UN);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return errno_error("flock(LOCK_UN)", path_, err);
    return {};
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<File>> PosixFileSystem::open(const std::string& path, OpenOptions options) {
  if (options.read_only && (options.create || options.truncate)) {
    return make_error(Errc::invalid_argument, "open " + path + ": read_only excludes create and truncate");
  }
  int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  if (options.create) flags |= O_CREAT;
  if (options.create && options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno_error("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(Errc::invalid_argument, "open " + path + ": not a regular file");
  }
  return std::unique_ptr<File>(new PosixFile(fd, path, options.read_only));
}

Result<std::unique_ptr<FileLock>> PosixFileSystem::lock(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("open lock file", path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      Error e = make_error(Errc::locked, "lock " + path + " is held by another writer");
      e.segment = path;
      return e;
    }
    return errno_error("flock", path, err);
  }
  return std::unique_ptr<FileLock>(new PosixLock(fd, path));
}

Result<bool> PosixFileSystem::lock_held(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    return errno_error("open lock file", path, errno);
  }
  // A shared lock is refused only while someone holds the exclusive one.
  const int rc = ::flock(fd, LOCK_SH | LOCK_NB);
  const int err = errno;
  ::close(fd);  // releases the shared lock, if taken
  if (rc == 0) return false;
  if (err == EWOULDBLOCK) return true;
  return errno_error("flock", path, err);
}

Status PosixFileSystem::sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open dir", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_error("fsync dir", dir, err);
  return {};
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return errno_error("rename", from + " -> " + to, errno);
  return {};
}

Status PosixFileSystem::unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return errno_error("unlink", path, errno);
  return {};
}

Status PosixFileSystem::mkdir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return errno_error("mkdir", path, errno);
  return {};
}

Status PosixFileSystem::rmdir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      Error e = make_error(Errc::invalid_argument, "rmdir " + path + ": directory not empty");
      e.segment = path;
      return e;
    }
    return errno_error("rmdir", path, errno);
  }
  return {};
}

Result<std::vector<std::string>> PosixFileSystem::list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno_error("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return errno_error("readdir", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> PosixFileSystem::exists(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return errno_error("stat", path, errno);
}

}  // namespace cairn::fs
