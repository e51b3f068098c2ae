#include "bench/peers.h"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>

#include "core/store.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"

namespace cairn::bench {
namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

enum class CairnMode : std::uint8_t { plain, mapped, pipelined };

class CairnAppender final : public Appender {
 public:
  explicit CairnAppender(CairnMode mode = CairnMode::plain) : mode_(mode) {}
  std::string name() const override {
    return mode_ == CairnMode::mapped ? "cairn-mapped" : mode_ == CairnMode::pipelined ? "cairn-pipelined" : "cairn";
  }
  void open(const std::string& dir) override {
    Options o;
    o.sync = SyncPolicy{};  // always: one fdatasync per batch
    o.mapped_reads = mode_ == CairnMode::mapped;
    auto s = Store::open(fs_, clock_, dir, o);
    check(s.ok(), s.ok() ? "" : s.error().to_string());
    store_ = std::move(s).value();
  }
  void commit(const std::vector<Bytes>& batch) override {
    auto r = mode_ == CairnMode::pipelined ? store_->append_pipelined(1, batch) : store_->append(1, batch);
    check(r.ok(), r.ok() ? "" : r.error().to_string());
    last_ = r->last_offset;
    pending_ = mode_ == CairnMode::pipelined;
  }
  void drain() override {
    if (!pending_) return;
    Status st = store_->wait_durable(1, last_);
    check(st.ok(), st.ok() ? "" : st.error().to_string());
    pending_ = false;
  }
  std::uint64_t scan(const std::function<void(const std::uint8_t*, std::size_t)>& sink) override {
    std::uint64_t bytes = 0;
    auto st = store_->stats(1);
    check(st.ok(), "cairn stats");
    std::uint64_t at = st->first_offset;
    while (at < st->next_offset) {
      auto r = store_->read(1, at, 1 << 20);
      check(r.ok(), r.ok() ? "" : r.error().to_string());
      for (const Record& rec : *r) {
        if (rec.kind == RecordKind::data) {
          sink(rec.payload.data(), rec.payload.size());
          bytes += rec.payload.size();
        }
        at = rec.offset + 1;
      }
    }
    return bytes;
  }
  void close() override {
    if (store_) (void)store_->close();
    store_.reset();
  }

 private:
  CairnMode mode_;
  std::uint64_t last_ = 0;
  bool pending_ = false;  // a pipelined batch not yet waited for
  fs::PosixFileSystem fs_;
  SystemClock clock_;
  std::unique_ptr<Store> store_;
};

// The bound: the same payload bytes, appended with write() and made durable with
// fdatasync(), with no framing, checksums or hashing.
class RawAppender final : public Appender {
 public:
  std::string name() const override { return "raw"; }
  void open(const std::string& dir) override {
    path_ = dir + "/raw.log";
    fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
    check(fd_ >= 0, "open " + path_);
  }
  void commit(const std::vector<Bytes>& batch) override {
    buf_.clear();
    for (const Bytes& b : batch) buf_.insert(buf_.end(), b.begin(), b.end());
    std::size_t done = 0;
    while (done < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      check(n > 0, "write");
      done += static_cast<std::size_t>(n);
    }
    check(::fdatasync(fd_) == 0, "fdatasync");
  }
  std::uint64_t scan(const std::function<void(const std::uint8_t*, std::size_t)>& sink) override {
    Bytes chunk(1 << 20);
    std::uint64_t pos = 0;
    for (;;) {
      ssize_t n = ::pread(fd_, chunk.data(), chunk.size(), static_cast<off_t>(pos));
      check(n >= 0, "pread");
      if (n == 0) break;
      sink(chunk.data(), static_cast<std::size_t>(n));
      pos += static_cast<std::uint64_t>(n);
    }
    return pos;
  }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  std::string path_;
  int fd_ = -1;
  Bytes buf_;
};

class SqliteAppender final : public Appender {
 public:
  std::string name() const override { return "sqlite"; }
  void open(const std::string& dir) override {
    check(sqlite3_open((dir + "/log.db").c_str(), &db_) == SQLITE_OK, "sqlite3_open");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE log (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
    check(sqlite3_prepare_v2(db_, "INSERT INTO log (payload) VALUES (?)", -1, &insert_, nullptr) == SQLITE_OK,
          "prepare");
  }
  void commit(const std::vector<Bytes>& batch) override {
    exec("BEGIN");
    for (const Bytes& b : batch) {
      sqlite3_bind_blob(insert_, 1, b.data(), static_cast<int>(b.size()), SQLITE_STATIC);
      check(sqlite3_step(insert_) == SQLITE_DONE, "insert");
      sqlite3_reset(insert_);
    }
    exec("COMMIT");
  }
  std::uint64_t scan(const std::function<void(const std::uint8_t*, std::size_t)>& sink) override {
    sqlite3_stmt* q = nullptr;
    check(sqlite3_prepare_v2(db_, "SELECT payload FROM log ORDER BY id", -1, &q, nullptr) == SQLITE_OK, "prepare");
    std::uint64_t bytes = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(q, 0));
      const std::size_t n = static_cast<std::size_t>(sqlite3_column_bytes(q, 0));
      sink(p, n);
      bytes += n;
    }
    sqlite3_finalize(q);
    return bytes;
  }
  void close() override {
    if (insert_) sqlite3_finalize(insert_);
    if (db_) sqlite3_close(db_);
    insert_ = nullptr;
    db_ = nullptr;
  }

 private:
  void exec(const char* sql) { check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK, sql); }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

// Keys are big-endian sequence numbers, so iteration order is append order.
std::string seq_key(std::uint64_t n) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, n >>= 8) k[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xff);
  return k;
}

// LevelDB and RocksDB share one API shape; one appender serves both.
struct LevelDbApi {
  using DB = leveldb::DB;
  using Options = leveldb::Options;
  using WriteOptions = leveldb::WriteOptions;
  using ReadOptions = leveldb::ReadOptions;
  using WriteBatch = leveldb::WriteBatch;
  using Slice = leveldb::Slice;
  using Iterator = leveldb::Iterator;
  static constexpr const char* name = "leveldb";
};

struct RocksDbApi {
  using DB = rocksdb::DB;
  using Options = rocksdb::Options;
  using WriteOptions = rocksdb::WriteOptions;
  using ReadOptions = rocksdb::ReadOptions;
  using WriteBatch = rocksdb::WriteBatch;
  using Slice = rocksdb::Slice;
  using Iterator = rocksdb::Iterator;
  static constexpr const char* name = "rocksdb";
};

template <typename Api>
class KvAppender final : public Appender {
 public:
  std::string name() const override { return Api::name; }
  void open(const std::string& dir) override {
    typename Api::Options o;
    o.create_if_missing = true;
    typename Api::DB* db = nullptr;
    check(Api::DB::Open(o, dir + "/" + Api::name, &db).ok(), std::string(Api::name) + " open");
    db_.reset(db);
  }
  void commit(const std::vector<Bytes>& batch) override {
    typename Api::WriteBatch wb;
    for (const Bytes& b : batch) {
      wb.Put(seq_key(next_++), typename Api::Slice(reinterpret_cast<const char*>(b.data()), b.size()));
    }
    typename Api::WriteOptions w;
    w.sync = true;
    check(db_->Write(w, &wb).ok(), std::string(Api::name) + " write");
  }
  std::uint64_t scan(const std::function<void(const std::uint8_t*, std::size_t)>& sink) override {
    std::unique_ptr<typename Api::Iterator> it(db_->NewIterator(typename Api::ReadOptions()));
    std::uint64_t bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      sink(reinterpret_cast<const std::uint8_t*>(it->value().data()), it->value().size());
      bytes += it->value().size();
    }
    return bytes;
  }
  void close() override { db_.reset(); }

 private:
  std::unique_ptr<typename Api::DB> db_;
  std::uint64_t next_ = 0;
};

}  // namespace

const std::vector<std::string>& appender_names() {
  static const std::vector<std::string> names = {"raw", "cairn", "sqlite", "leveldb", "rocksdb"};
  return names;
}

std::unique_ptr<Appender> make_appender(const std::string& name) {
  if (name == "cairn") return std::make_unique<CairnAppender>();
  if (name == "cairn-mapped") return std::make_unique<CairnAppender>(CairnMode::mapped);
  if (name == "cairn-pipelined") return std::make_unique<CairnAppender>(CairnMode::pipelined);
  if (name == "raw") return std::make_unique<RawAppender>();
  if (name == "sqlite") return std::make_unique<SqliteAppender>();
  if (name == "leveldb") return std::make_unique<KvAppender<LevelDbApi>>();
  if (name == "rocksdb") return std::make_unique<KvAppender<RocksDbApi>>();
  throw std::runtime_error("unknown system " + name);
}

}  // namespace cairn::bench
