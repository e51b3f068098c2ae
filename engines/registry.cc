#include "engines/registry.h"

namespace cairn::engines {

// The configurations, as a table. caught_within: the seeds (1..N) a sweep of a lossy one
// needs to catch a loss, with margin over what was measured (each is caught at seed 1:
// README, "Other engines"); ctest holds both directions (engines/tests/CMakeLists.txt).
const std::vector<EngineInfo>& all() {
  static const std::vector<EngineInfo> table = {
      {"cairn-log", "cairn's store through the engine interface, sync always", true, 0,
       [] { return make_cairn_log(true); }},
      {"cairn-log-manual", "cairn's store, sync manual (never synced: acknowledged is not durable)", false, 10,
       [] { return make_cairn_log(false); }},
      {"sqlite-wal-full", "SQLite, journal_mode=WAL, synchronous=FULL", true, 0,
       [] { return make_sqlite("WAL", "FULL"); }},
      // SQLite documents it: only EXTRA syncs the directory after the journal's unlink, so
      // a power loss right after a commit may bring the journal back and roll it back.
      {"sqlite-rollback-full", "SQLite, journal_mode=DELETE (rollback journal), synchronous=FULL", false, 10,
       [] { return make_sqlite("DELETE", "FULL"); }},
      {"sqlite-rollback-extra", "SQLite, journal_mode=DELETE, synchronous=EXTRA (syncs the directory after the unlink)",
       true, 0, [] { return make_sqlite("DELETE", "EXTRA"); }},
      {"sqlite-wal-off", "SQLite, journal_mode=WAL, synchronous=OFF (never syncs)", false, 10,
       [] { return make_sqlite("WAL", "OFF"); }},
      {"leveldb-sync", "LevelDB, WriteOptions::sync=true", true, 0, [] { return make_leveldb(true); }},
      {"leveldb-nosync", "LevelDB, WriteOptions::sync=false (not durable by its documentation)", false, 10,
       [] { return make_leveldb(false); }},
  };
  return table;
}

const EngineInfo* find(const std::string& name) {
  for (const EngineInfo& e : all()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace cairn::engines
