#include "sut/engine.h"

#include <fmt/format.h>

#include "sut/kv_model.h"

namespace cairn::sut {

fs::SimConfig Engine::faults() const {
  fs::SimConfig c;
  c.lost_writes = true;
  c.torn_writes = true;
  c.dir_reverts = true;
  // The journaling filesystems these engines run on (ext4 data=ordered, xfs): directory
  // operations reach the disk in order, any fsync commits all of them, and a file's size
  // reaches the disk only after its data (no zeroed or stale extension after a crash).
  // EngineSeedOptions::posix_fs takes all three away.
  c.ordered_dir_reverts = true;
  c.fsync_commits_metadata = true;
  c.fsync_failures = true;
  c.write_errors = true;
  c.latency_min_us = 5;
  c.latency_max_us = 50;
  return c;
}

Commit Engine::draw(Prng& rng, std::uint64_t number) const {
  Commit c;
  c.number = number;
  const std::uint64_t puts = rng.range(1, 8);
  for (std::uint64_t i = 0; i < puts; ++i) {
    std::string key = fmt::format("k{:02}", rng.below(64));
    std::string value = fmt::format("c{}.{}:", number, i);
    value.append(static_cast<std::size_t>(rng.below(201)), static_cast<char>('a' + number % 26));
    c.puts.emplace_back(std::move(key), std::move(value));
  }
  return c;
}

std::unique_ptr<Model> Engine::model() const { return std::make_unique<KvModel>(); }

}  // namespace cairn::sut
