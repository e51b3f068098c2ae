#include "sim/observed_fs.h"

namespace cairn::sim {
namespace {

// Tells every observer, in order.
template <typename F>
void tell(const std::vector<FsObserver*>& observers, F&& f) {
  for (FsObserver* o : observers) f(*o);
}

// A sync that did not reach the filesystem (read-only file, closed file, power off) says
// nothing about durability either way.
bool reached(const Status& st) {
  return st.ok() || (st.error().code == Errc::io_error && st.error().message.find("power is off") == std::string::npos);
}

// A started sync: its result reaches the observers when waited for (one that is never
// waited for reports nothing: its writes stay unsynced in every model).
class ObservedSync final : public fs::PendingSync {
 public:
  ObservedSync(std::unique_ptr<fs::PendingSync> inner, std::string path, std::uint64_t id,
               const std::vector<FsObserver*>& observers)
      : inner_(std::move(inner)), path_(std::move(path)), id_(id), observers_(observers) {}
  Status wait() override {
    Status st = inner_->wait();
    if (reached(st)) tell(observers_, [&](FsObserver& o) { o.sync_done(path_, id_, st.ok()); });
    return st;
  }

 private:
  std::unique_ptr<fs::PendingSync> inner_;
  std::string path_;
  std::uint64_t id_;
  const std::vector<FsObserver*>& observers_;
};

class ObservedFile final : public fs::File {
 public:
  ObservedFile(std::unique_ptr<fs::File> inner, std::string path, const std::vector<FsObserver*>& observers,
               std::uint64_t& next_sync_id)
      : inner_(std::move(inner)), path_(std::move(path)), observers_(observers), next_sync_id_(next_sync_id) {}

  Result<std::size_t> pread(std::uint64_t byte_pos, std::span<std::uint8_t> dst) override {
    return inner_->pread(byte_pos, dst);
  }
  Result<std::size_t> pwrite(std::uint64_t byte_pos, std::span<const std::uint8_t> src) override {
    auto r = inner_->pwrite(byte_pos, src);
    if (r.ok() && *r > 0) tell(observers_, [&](FsObserver& o) { o.wrote(path_, byte_pos, src, *r); });
    return r;
  }
  Result<std::size_t> append(std::span<const std::uint8_t> src) override {
    CAIRN_ASSIGN_OR_RETURN(std::uint64_t end, inner_->size());
    return pwrite(end, src);
  }
  Result<std::uint64_t> size() override { return inner_->size(); }
  Status truncate(std::uint64_t size_bytes) override {
    Status st = inner_->truncate(size_bytes);
    if (st.ok()) tell(observers_, [&](FsObserver& o) { o.truncated(path_, size_bytes); });
    return st;
  }
  Status sync() override {
    Status st = inner_->sync();
    if (reached(st)) tell(observers_, [&](FsObserver& o) { o.synced(path_, st.ok()); });
    return st;
  }
  Result<std::unique_ptr<fs::PendingSync>> start_sync() override {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::PendingSync> inner, inner_->start_sync());
    const std::uint64_t id = next_sync_id_++;
    tell(observers_, [&](FsObserver& o) { o.sync_started(path_, id); });
    return std::unique_ptr<fs::PendingSync>(std::make_unique<ObservedSync>(std::move(inner), path_, id, observers_));
  }
  Status close() override { return inner_->close(); }
  Result<std::unique_ptr<fs::Mapping>> map(std::uint64_t len) override { return inner_->map(len); }

 private:
  std::unique_ptr<fs::File> inner_;
  std::string path_;
  const std::vector<FsObserver*>& observers_;
  std::uint64_t& next_sync_id_;
};

}  // namespace

Result<std::unique_ptr<fs::File>> ObservedFileSystem::open(const std::string& path, fs::OpenOptions options) {
  const bool existed = !options.create || present_(path);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file, inner_.open(path, options));
  tell(observers_, [&](FsObserver& o) { o.opened(path, options, !existed); });
  return std::unique_ptr<fs::File>(new ObservedFile(std::move(file), path, observers_, next_sync_id_));
}

Status ObservedFileSystem::sync_dir(const std::string& dir) {
  Status st = inner_.sync_dir(dir);
  if (reached(st)) tell(observers_, [&](FsObserver& o) { o.synced_dir(dir, st.ok()); });
  return st;
}

Status ObservedFileSystem::rename(const std::string& from, const std::string& to) {
  Status st = inner_.rename(from, to);
  if (st.ok()) tell(observers_, [&](FsObserver& o) { o.renamed(from, to); });
  return st;
}

Status ObservedFileSystem::unlink(const std::string& path) {
  Status st = inner_.unlink(path);
  if (st.ok()) tell(observers_, [&](FsObserver& o) { o.unlinked(path); });
  return st;
}

Status ObservedFileSystem::mkdir(const std::string& path) {
  Status st = inner_.mkdir(path);
  if (st.ok()) tell(observers_, [&](FsObserver& o) { o.made_dir(path); });
  return st;
}

Status ObservedFileSystem::rmdir(const std::string& path) {
  Status st = inner_.rmdir(path);
  if (st.ok()) tell(observers_, [&](FsObserver& o) { o.removed_dir(path); });
  return st;
}

}  // namespace cairn::sim
