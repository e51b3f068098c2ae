// The systems a user choosing a durable local log would compare, behind one interface:
// cairn (sync=always), a raw file (write + fdatasync of the same bytes: the bound),
// SQLite (WAL, synchronous=FULL, one transaction per batch), LevelDB and RocksDB (sync
// writes, one WriteBatch per batch). Benchmark code: errors throw std::runtime_error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "simfs/bytes.h"

namespace cairn::bench {

class Appender {
 public:
  virtual ~Appender() = default;
  virtual std::string name() const = 0;
  // Opens a fresh store in `dir` (an empty directory).
  virtual void open(const std::string& dir) = 0;
  // Appends a batch; durable when this returns, except for a pipelined appender, whose
  // batch is durable once the next commit (or drain) returns.
  virtual void commit(const std::vector<Bytes>& batch) = 0;
  // Returns when every batch committed so far is durable.
  virtual void drain() {}
  // Reads every record back in order, calling `sink` on each payload; returns bytes read.
  virtual std::uint64_t scan(const std::function<void(const std::uint8_t*, std::size_t)>& sink) = 0;
  virtual void close() = 0;
};

// "cairn", "raw", "sqlite", "leveldb", "rocksdb" (appender_names()), "cairn-mapped"
// (cairn reading sealed segments through mappings) and "cairn-pipelined" (each batch's
// fdatasync in flight while the next one is framed, hashed and written:
// Store::append_pipelined, the previous batch acknowledged durable inside each commit).
std::unique_ptr<Appender> make_appender(const std::string& name);
const std::vector<std::string>& appender_names();

}  // namespace cairn::bench
