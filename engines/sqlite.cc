// SQLite as a system under test, through the cairn VFS (engines/sqlite_vfs.h): a table
// kv(k PRIMARY KEY, v); a commit is one transaction of INSERT OR REPLACE, acknowledged
// when COMMIT returns SQLITE_OK. Configured by journal mode and synchronous level
// (https://www.sqlite.org/pragma.html#pragma_synchronous). Small pages and a low WAL
// checkpoint threshold make a short workload reach page spills and checkpoints.
#include <sqlite3.h>

#include <map>

#include <fmt/format.h>

#include "engines/registry.h"
#include "engines/sqlite_vfs.h"

namespace cairn::engines {

namespace {

Error sqlite_error(sqlite3* db, int rc, const std::string& what) {
  return make_error(rc == SQLITE_CORRUPT ? Errc::corruption : Errc::io_error,
                    fmt::format("sqlite {}: {} ({})", what, db != nullptr ? sqlite3_errmsg(db) : "no connection",
                                sqlite3_errstr(rc)));
}

class SqliteSession final : public sut::Session {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {}
  ~SqliteSession() override { sqlite3_close_v2(db_); }

  Status exec(const std::string& sql) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, sql);
    return {};
  }

  Status commit(const sut::Commit& c) override {
    if (Status st = exec("BEGIN"); !st.ok()) return st;
    sqlite3_stmt* put = nullptr;
    int rc = sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", -1, &put, nullptr);
    for (std::size_t i = 0; rc == SQLITE_OK && i < c.puts.size(); ++i) {
      sqlite3_bind_text(put, 1, c.puts[i].first.data(), static_cast<int>(c.puts[i].first.size()), SQLITE_STATIC);
      sqlite3_bind_text(put, 2, c.puts[i].second.data(), static_cast<int>(c.puts[i].second.size()), SQLITE_STATIC);
      rc = sqlite3_step(put);
      rc = rc == SQLITE_DONE ? sqlite3_reset(put) : rc;
    }
    sqlite3_finalize(put);
    if (rc != SQLITE_OK) {
      const Error e = sqlite_error(db_, rc, "insert");
      (void)exec("ROLLBACK");
      return e;
    }
    return exec("COMMIT");
  }

  Result<std::map<std::string, std::string>> read_all() override {
    std::map<std::string, std::string> held;
    sqlite3_stmt* all = nullptr;
    int rc = sqlite3_prepare_v2(db_, "SELECT k, v FROM kv", -1, &all, nullptr);
    while (rc == SQLITE_OK && (rc = sqlite3_step(all)) == SQLITE_ROW) {
      const auto* k = reinterpret_cast<const char*>(sqlite3_column_text(all, 0));
      const auto* v = reinterpret_cast<const char*>(sqlite3_column_text(all, 1));
      held[k != nullptr ? k : ""] = v != nullptr ? v : "";
      rc = SQLITE_OK;
    }
    sqlite3_finalize(all);
    if (rc != SQLITE_DONE) return sqlite_error(db_, rc, "select");
    return held;
  }

  Status close() override {
    const int rc = sqlite3_close(db_);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "close");
    db_ = nullptr;
    return {};
  }

 private:
  sqlite3* db_;
};

class SqliteEngine final : public sut::Engine {
 public:
  SqliteEngine(std::string journal_mode, std::string synchronous)
      : hold_(vfs_mutex()), journal_mode_(std::move(journal_mode)), synchronous_(std::move(synchronous)) {}

  Result<std::unique_ptr<sut::Session>> open(sut::Environment& env) override {
    if (cairn_vfs() == nullptr) return make_error(Errc::io_error, "sqlite: the cairn VFS did not register");
    set_vfs_environment(VfsEnvironment{&env.fs, &env.clock, env.sleep_us, &env.random, env.dir});
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2((env.dir + "/test.db").c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   "cairn");
    auto session = std::make_unique<SqliteSession>(db);  // closes db on every path
    if (rc != SQLITE_OK) return sqlite_error(db, rc, "open");
    // WAL: exclusive locking first, before the first read (no shared memory in this VFS).
    // Rollback journals keep normal locking: in exclusive mode SQLite zeroes the journal's
    // header at commit instead of deleting it (PERSIST), which is not the mode under test.
    const std::string setup = fmt::format(
        "{}PRAGMA page_size=1024; PRAGMA cache_size=8; PRAGMA journal_mode={}; "
        "PRAGMA synchronous={}; PRAGMA wal_autocheckpoint=16; "
        "CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v TEXT NOT NULL)",
        journal_mode_ == "WAL" ? "PRAGMA locking_mode=EXCLUSIVE; " : "", journal_mode_, synchronous_);
    if (Status st = session->exec(setup); !st.ok()) return std::move(st).error();
    return std::unique_ptr<sut::Session>(std::move(session));
  }

 private:
  std::lock_guard<std::mutex> hold_;  // the VFS is process-wide: one SQLite seed at a time
  std::string journal_mode_;
  std::string synchronous_;
};

}  // namespace

std::unique_ptr<sut::Engine> make_sqlite(const std::string& journal_mode, const std::string& synchronous) {
  return std::make_unique<SqliteEngine>(journal_mode, synchronous);
}

}  // namespace cairn::engines
