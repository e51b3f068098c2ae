// Verified sequential read-back: each system's full scan of the same records, and the
// SHA-256 bound, at 256 B and 4 KiB records (bench/harness.h).
#include <cstdio>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "bench/peers.h"
#include "core/chain.h"

namespace cairn::bench {
namespace {

// The bound: one SHA-256 per record over the same payload bytes, in memory. Returns MB/s.
double sha256_mbps(const std::vector<Bytes>& records, std::size_t total, std::uint64_t& sink) {
  ChainHasher hasher;
  const std::size_t per_round = records.size() * records.front().size();
  const auto start = Wall::now();
  std::uint64_t bytes = 0;
  for (std::size_t done = 0; done < total; done += per_round) {
    for (const Bytes& r : records) {
      sink += hasher.sha256(r)[0];
      bytes += r.size();
    }
  }
  return static_cast<double>(bytes) / seconds_since(start) / 1e6;
}

nlohmann::json read_at_size(const Config& c, std::size_t record_bytes) {
  const std::size_t total = c.smoke ? (1u << 20) : (64u << 20);
  const std::vector<Bytes> records = make_records(1024, record_bytes, 42 + record_bytes);
  std::vector<std::string> systems = appender_names();
  systems.push_back("cairn-mapped");
  std::map<std::string, std::unique_ptr<Appender>> stores;
  std::vector<std::unique_ptr<Scratch>> dirs;
  for (const std::string& name : systems) {
    dirs.push_back(std::make_unique<Scratch>(c.dir));
    stores[name] = make_appender(name);
    stores[name]->open(dirs.back()->path.string());
    for (std::size_t written = 0; written < total; written += records.size() * record_bytes) stores[name]->commit(records);
  }
  std::map<std::string, std::vector<double>> mbps;
  std::uint64_t sink = 0;
  for (unsigned run = 0; run < c.runs; ++run) {
    for (std::size_t k = 0; k <= systems.size(); ++k) {  // interleaved, the bound among them
      const std::size_t idx = (k + run) % (systems.size() + 1);
      if (idx == systems.size()) {
        mbps["sha256"].push_back(sha256_mbps(records, total, sink));
        continue;
      }
      const std::string& name = systems[idx];
      const auto start = Wall::now();
      const std::uint64_t bytes = stores[name]->scan([&](const std::uint8_t* p, std::size_t n) { sink += n ? p[0] : 0; });
      mbps[name].push_back(static_cast<double>(bytes) / seconds_since(start) / 1e6);
    }
  }
  for (auto& [name, s] : stores) s->close();
  const double bound = median(mbps["sha256"]);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, v] : mbps) {
    const double m = median(v);
    rows.push_back({{"record_bytes", record_bytes}, {"system", name}, {"mb_per_s", m},
                    {"ratio_to_sha256", bound > 0 ? m / bound : 0}});
  }
  std::fprintf(stderr, "read %zu B: cairn %.0f MB/s, cairn-mapped %.0f MB/s, sha256 bound %.0f MB/s (%llu)\n",
               record_bytes, median(mbps["cairn"]), median(mbps["cairn-mapped"]), bound,
               static_cast<unsigned long long>(sink % 2));
  return rows;
}

}  // namespace

nlohmann::json bench_read(const Config& c) {
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t size : {std::size_t{256}, std::size_t{4096}}) {
    for (auto& r : read_at_size(c, size)) rows.push_back(r);
  }
  return rows;
}

}  // namespace cairn::bench
