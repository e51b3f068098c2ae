// A leveldb::Env over cairn::fs::FileSystem (leveldb/env.h, LevelDB 1.23): LevelDB's
// files, clock and sleep come from the simulator, and its background work (compactions)
// is queued and run by the harness between steps on the harness's own thread, so a seed
// replays exactly. It follows the POSIX Env where durability depends on it: a writable
// file's Sync of a MANIFEST file also syncs its directory (SyncDirIfManifest), and
// nothing else syncs a directory.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include <leveldb/env.h>

#include "sut/engine.h"

namespace cairn::engines {

class SimLevelDbEnv final : public leveldb::Env {
 public:
  explicit SimLevelDbEnv(sut::Environment& env) : env_(env) {}

  // Runs queued background work (and what it queues) until none is left, at most
  // `max_runs` items. Returns how many ran.
  int run_background(int max_runs = 64);

  leveldb::Status NewSequentialFile(const std::string& fname, leveldb::SequentialFile** result) override;
  leveldb::Status NewRandomAccessFile(const std::string& fname, leveldb::RandomAccessFile** result) override;
  leveldb::Status NewWritableFile(const std::string& fname, leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname, leveldb::WritableFile** result) override;
  bool FileExists(const std::string& fname) override;
  leveldb::Status GetChildren(const std::string& dir, std::vector<std::string>* result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status CreateDir(const std::string& dirname) override;
  leveldb::Status RemoveDir(const std::string& dirname) override;
  leveldb::Status GetFileSize(const std::string& fname, uint64_t* file_size) override;
  leveldb::Status RenameFile(const std::string& src, const std::string& target) override;
  leveldb::Status LockFile(const std::string& fname, leveldb::FileLock** lock) override;
  leveldb::Status UnlockFile(leveldb::FileLock* lock) override;
  void Schedule(void (*function)(void* arg), void* arg) override;
  void StartThread(void (*function)(void* arg), void* arg) override;
  leveldb::Status GetTestDirectory(std::string* path) override;
  leveldb::Status NewLogger(const std::string& fname, leveldb::Logger** result) override;
  uint64_t NowMicros() override;
  void SleepForMicroseconds(int micros) override;

 private:
  leveldb::Status open_writable(const std::string& fname, bool truncate, leveldb::WritableFile** result);

  sut::Environment& env_;
  std::deque<std::pair<void (*)(void*), void*>> queue_;
};

}  // namespace cairn::engines
