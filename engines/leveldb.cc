// LevelDB as a system under test, through SimLevelDbEnv (engines/leveldb_env.h): a commit
// is one WriteBatch of puts, acknowledged when DB::Write returns OK, with
// WriteOptions::sync true (durable per LevelDB's documentation) or false (not: "a crash
// of the machine may lose some recent writes"). The smallest write buffer LevelDB allows
// (64 KiB) and larger values than the default workload's make a short run switch
// memtables, write level-0 tables and compact.
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <map>

#include <fmt/format.h>

#include "engines/leveldb_env.h"
#include "engines/registry.h"

namespace cairn::engines {

namespace {

Error leveldb_error(const leveldb::Status& s, const std::string& what) {
  return make_error(s.IsCorruption() ? Errc::corruption : Errc::io_error,
                    fmt::format("leveldb {}: {}", what, s.ToString()));
}

class LevelDbSession final : public sut::Session {
 public:
  LevelDbSession(std::unique_ptr<SimLevelDbEnv> env, bool sync) : env_(std::move(env)), sync_(sync) {}
  ~LevelDbSession() override {
    // The DB waits for scheduled compactions when it is deleted: run them first (after a
    // kill their I/O fails, which ends them).
    while (env_->run_background() > 0) {
    }
    delete db_;
  }

  Status open(const std::string& dir) {
    leveldb::Options o;
    o.env = env_.get();
    o.create_if_missing = true;
    o.write_buffer_size = 64 << 10;
    const leveldb::Status s = leveldb::DB::Open(o, dir, &db_);
    if (!s.ok()) return leveldb_error(s, "open");
    return {};
  }

  Status commit(const sut::Commit& c) override {
    leveldb::WriteBatch batch;
    for (const auto& [key, value] : c.puts) batch.Put(key, value);
    leveldb::WriteOptions w;
    w.sync = sync_;
    const leveldb::Status s = db_->Write(w, &batch);
    if (!s.ok()) return leveldb_error(s, "write");
    return {};
  }

  Result<std::map<std::string, std::string>> read_all() override {
    std::map<std::string, std::string> held;
    leveldb::ReadOptions r;
    r.verify_checksums = true;  // the block CRCs (off by default): damage is reported, not returned
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(r));
    for (it->SeekToFirst(); it->Valid(); it->Next()) held[it->key().ToString()] = it->value().ToString();
    if (!it->status().ok()) return leveldb_error(it->status(), "scan");
    return held;
  }

  void run_background() override { (void)env_->run_background(); }

  Status close() override {
    while (env_->run_background() > 0) {
    }
    delete db_;
    db_ = nullptr;
    return {};
  }

 private:
  std::unique_ptr<SimLevelDbEnv> env_;
  bool sync_;
  leveldb::DB* db_ = nullptr;
};

class LevelDbEngine final : public sut::Engine {
 public:
  explicit LevelDbEngine(bool sync) : sync_(sync) {}

  Result<std::unique_ptr<sut::Session>> open(sut::Environment& env) override {
    auto session = std::make_unique<LevelDbSession>(std::make_unique<SimLevelDbEnv>(env), sync_);
    if (Status st = session->open(env.dir); !st.ok()) return std::move(st).error();
    return std::unique_ptr<sut::Session>(std::move(session));
  }

  // Log records and table blocks carry CRC32C; with paranoid_checks off (the default: on,
  // a torn log tail is fatal) recovery skips a damaged log block and keeps what follows.
  sut::DamagePromise damage_promise() const override { return sut::DamagePromise::no_altered; }

  // Values of up to 2000 bytes: memtables fill within a run.
  sut::Commit draw(Prng& rng, std::uint64_t number) const override {
    sut::Commit c = sut::Engine::draw(rng, number);
    for (auto& [key, value] : c.puts) value.append(static_cast<std::size_t>(rng.below(1800)), '+');
    return c;
  }

 private:
  bool sync_;
};

}  // namespace

std::unique_ptr<sut::Engine> make_leveldb(bool sync) { return std::make_unique<LevelDbEngine>(sync); }

}  // namespace cairn::engines
