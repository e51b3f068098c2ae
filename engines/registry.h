// The engines cairn-sim can run under the system-under-test harness (sut/run.h), by name:
// `cairn-sim --engine NAME`. Each configuration says whether it promises that an
// acknowledged commit survives power loss (a sweep must find no loss) or not (a sweep must
// catch a loss within `caught_within` seeds: the harness's proof that it sees one).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sut/engine.h"

namespace cairn::engines {

struct EngineInfo {
  std::string name;         // "sqlite-wal-full"
  std::string description;  // one line: engine and configuration
  bool durable = true;      // acknowledged commits must survive every crash
  std::uint64_t caught_within = 0;  // not durable: the first N seeds (1..N) include a loss
  std::function<std::unique_ptr<sut::Engine>()> make;
};

// Every configuration, in a fixed order.
const std::vector<EngineInfo>& all();
// The configuration called `name`, or nullptr.
const EngineInfo* find(const std::string& name);

// The adapters (one file each).
std::unique_ptr<sut::Engine> make_cairn_log(bool sync_always);
std::unique_ptr<sut::Engine> make_sqlite(const std::string& journal_mode, const std::string& synchronous);
std::unique_ptr<sut::Engine> make_leveldb(bool sync);

}  // namespace cairn::engines
