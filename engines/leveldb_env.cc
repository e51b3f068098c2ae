#include "engines/leveldb_env.h"

#include <cstdarg>
#include <memory>

namespace cairn::engines {

namespace {

leveldb::Status to_status(const Error& e, const std::string& path) {
  if (e.code == Errc::not_found) return leveldb::Status::NotFound(path, e.to_string());
  return leveldb::Status::IOError(path, e.to_string());
}

std::string base_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class SequentialFile final : public leveldb::SequentialFile {
 public:
  SequentialFile(std::unique_ptr<fs::File> f, std::string path) : f_(std::move(f)), path_(std::move(path)) {}
  leveldb::Status Read(size_t n, leveldb::Slice* result, char* scratch) override {
    auto got = fs::read_full(*f_, pos_, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(scratch), n));
    if (!got.ok()) return to_status(got.error(), path_);
    pos_ += *got;
    *result = leveldb::Slice(scratch, *got);
    return leveldb::Status::OK();
  }
  leveldb::Status Skip(uint64_t n) override {
    pos_ += n;
    return leveldb::Status::OK();
  }

 private:
  std::unique_ptr<fs::File> f_;
  std::string path_;
  std::uint64_t pos_ = 0;
};

class RandomAccessFile final : public leveldb::RandomAccessFile {
 public:
  RandomAccessFile(std::unique_ptr<fs::File> f, std::string path) : f_(std::move(f)), path_(std::move(path)) {}
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result, char* scratch) const override {
    auto got = fs::read_full(*f_, offset, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(scratch), n));
    if (!got.ok()) return to_status(got.error(), path_);
    *result = leveldb::Slice(scratch, *got);
    return leveldb::Status::OK();
  }

 private:
  std::unique_ptr<fs::File> f_;  // pread does not move a position: safe from const
  std::string path_;
};

class WritableFile final : public leveldb::WritableFile {
 public:
  WritableFile(std::unique_ptr<fs::File> f, std::string path, std::uint64_t size, fs::FileSystem& fs)
      : f_(std::move(f)), path_(std::move(path)), size_(size), fs_(fs) {}
  leveldb::Status Append(const leveldb::Slice& data) override {
    const Status st = fs::write_all(
        *f_, size_, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
    if (!st.ok()) return to_status(st.error(), path_);
    size_ += data.size();
    return leveldb::Status::OK();
  }
  leveldb::Status Close() override {
    const Status st = f_->close();
    return st.ok() ? leveldb::Status::OK() : to_status(st.error(), path_);
  }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }  // no user-space buffer
  leveldb::Status Sync() override {
    if (base_of(path_).rfind("MANIFEST", 0) == 0) {  // the POSIX Env's SyncDirIfManifest
      const Status dir = fs_.sync_dir(fs::parent_path(path_));
      if (!dir.ok()) return to_status(dir.error(), path_);
    }
    const Status st = f_->sync();
    return st.ok() ? leveldb::Status::OK() : to_status(st.error(), path_);
  }

 private:
  std::unique_ptr<fs::File> f_;
  std::string path_;
  std::uint64_t size_;
  fs::FileSystem& fs_;
};

class NullLogger final : public leveldb::Logger {
 public:
  void Logv(const char*, std::va_list) override {}
};

class Lock final : public leveldb::FileLock {
 public:
  explicit Lock(std::unique_ptr<fs::FileLock> l) : lock(std::move(l)) {}
  std::unique_ptr<fs::FileLock> lock;
};

}  // namespace

int SimLevelDbEnv::run_background(int max_runs) {
  int ran = 0;
  while (!queue_.empty() && ran < max_runs) {
    const auto [function, arg] = queue_.front();
    queue_.pop_front();
    function(arg);
    ++ran;
  }
  return ran;
}

leveldb::Status SimLevelDbEnv::NewSequentialFile(const std::string& fname, leveldb::SequentialFile** result) {
  auto f = env_.fs.open(fname, fs::OpenOptions{.read_only = true});
  if (!f.ok()) return to_status(f.error(), fname);
  *result = new SequentialFile(std::move(f).value(), fname);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::NewRandomAccessFile(const std::string& fname, leveldb::RandomAccessFile** result) {
  auto f = env_.fs.open(fname, fs::OpenOptions{.read_only = true});
  if (!f.ok()) return to_status(f.error(), fname);
  *result = new RandomAccessFile(std::move(f).value(), fname);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::open_writable(const std::string& fname, bool truncate, leveldb::WritableFile** result) {
  auto f = env_.fs.open(fname, fs::OpenOptions{.create = true, .truncate = truncate});
  if (!f.ok()) return to_status(f.error(), fname);
  auto size = f.value()->size();
  if (!size.ok()) return to_status(size.error(), fname);
  *result = new WritableFile(std::move(f).value(), fname, *size, env_.fs);
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::NewWritableFile(const std::string& fname, leveldb::WritableFile** result) {
  return open_writable(fname, true, result);
}

leveldb::Status SimLevelDbEnv::NewAppendableFile(const std::string& fname, leveldb::WritableFile** result) {
  return open_writable(fname, false, result);
}

bool SimLevelDbEnv::FileExists(const std::string& fname) { return env_.fs.exists(fname).value_or(false); }

leveldb::Status SimLevelDbEnv::GetChildren(const std::string& dir, std::vector<std::string>* result) {
  auto names = env_.fs.list_dir(dir);
  if (!names.ok()) return to_status(names.error(), dir);
  *result = std::move(names).value();
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::RemoveFile(const std::string& fname) {
  const Status st = env_.fs.unlink(fname);
  return st.ok() ? leveldb::Status::OK() : to_status(st.error(), fname);
}

leveldb::Status SimLevelDbEnv::CreateDir(const std::string& dirname) {
  const Status st = env_.fs.mkdir(dirname);
  return st.ok() ? leveldb::Status::OK() : to_status(st.error(), dirname);
}

leveldb::Status SimLevelDbEnv::RemoveDir(const std::string& dirname) {
  const Status st = env_.fs.rmdir(dirname);
  return st.ok() ? leveldb::Status::OK() : to_status(st.error(), dirname);
}

leveldb::Status SimLevelDbEnv::GetFileSize(const std::string& fname, uint64_t* file_size) {
  auto f = env_.fs.open(fname, fs::OpenOptions{.read_only = true});
  if (!f.ok()) return to_status(f.error(), fname);
  auto size = f.value()->size();
  if (!size.ok()) return to_status(size.error(), fname);
  *file_size = *size;
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::RenameFile(const std::string& src, const std::string& target) {
  const Status st = env_.fs.rename(src, target);
  return st.ok() ? leveldb::Status::OK() : to_status(st.error(), src);
}

leveldb::Status SimLevelDbEnv::LockFile(const std::string& fname, leveldb::FileLock** lock) {
  auto l = env_.fs.lock(fname);
  if (!l.ok()) return to_status(l.error(), fname);
  *lock = new Lock(std::move(l).value());
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::UnlockFile(leveldb::FileLock* lock) {
  auto* l = static_cast<Lock*>(lock);
  const Status st = l->lock->unlock();
  delete l;
  return st.ok() ? leveldb::Status::OK() : to_status(st.error(), "LOCK");
}

void SimLevelDbEnv::Schedule(void (*function)(void*), void* arg) { queue_.emplace_back(function, arg); }

void SimLevelDbEnv::StartThread(void (*function)(void*), void* arg) { queue_.emplace_back(function, arg); }

leveldb::Status SimLevelDbEnv::GetTestDirectory(std::string* path) {
  *path = env_.dir;
  return leveldb::Status::OK();
}

leveldb::Status SimLevelDbEnv::NewLogger(const std::string&, leveldb::Logger** result) {
  *result = new NullLogger;
  return leveldb::Status::OK();
}

uint64_t SimLevelDbEnv::NowMicros() { return env_.clock.now_us(); }

void SimLevelDbEnv::SleepForMicroseconds(int micros) { env_.sleep_us(static_cast<std::uint64_t>(micros)); }

}  // namespace cairn::engines
