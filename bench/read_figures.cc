// Verified sequential read-back: each system's full scan of the same records, and the
// SHA-256 bound, at 256 B and 4 KiB records (bench/harness.h).
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "bench/peers.h"
#include "core/chain.h"
#include "core/store.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"

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

// Verified read of stream 1 of the store in `dir` on two cores: two read-only opens, each
// reading half the offsets. Each half's reader starts its chain at the index entry (or
// checkpoint) before its first offset and ends it at the frame after its last, whose
// prev_hash links it to the other half: the two halves verify one chain. Returns the
// payload bytes read; `secs` the time the reads took (the opens not counted, as no other
// system's open is).
std::uint64_t two_core_scan(const std::string& dir, std::uint64_t& sink, double& secs) {
  fs::PosixFileSystem fs;
  SystemClock clock;
  Options o;
  o.read_only = true;
  auto a = Store::open(fs, clock, dir, o);
  auto b = Store::open(fs, clock, dir, o);
  if (!a.ok() || !b.ok()) throw std::runtime_error("two_core_scan: a read-only open failed");
  const auto st = (*a)->stats(1);
  if (!st.ok()) throw std::runtime_error("two_core_scan: " + st.error().to_string());
  const std::uint64_t mid = st->first_offset + (st->next_offset - st->first_offset) / 2;
  std::uint64_t bytes[2] = {0, 0}, firsts[2] = {0, 0};
  auto half = [&](Store& store, std::uint64_t from, std::uint64_t to, int k) {
    for (std::uint64_t at = from; at < to;) {
      auto r = store.read(1, at, 1 << 20);
      if (!r.ok()) throw std::runtime_error("two_core_scan: " + r.error().to_string());
      if (r->empty() || r->front().offset >= to) break;
      for (const Record& rec : *r) {
        if (rec.offset >= to) break;
        if (rec.kind == RecordKind::data) bytes[k] += rec.payload.size(), firsts[k] += rec.payload.empty() ? 0 : rec.payload[0];
        at = rec.offset + 1;
      }
    }
  };
  const auto start = Wall::now();
  std::thread second([&] { half(**b, mid, st->next_offset, 1); });
  half(**a, st->first_offset, mid, 0);
  second.join();
  secs = seconds_since(start);
  sink += firsts[0] + firsts[1];
  return bytes[0] + bytes[1];
}

// Store::verify() of every stream of the store in `dir` (read-only open, the open not
// timed) with `threads` verify threads (Options::verify_threads). Returns the seconds
// verify took; throws unless the report is clean.
double verify_secs(const std::string& dir, std::uint32_t threads, bool mapped) {
  fs::PosixFileSystem fs;
  SystemClock clock;
  Options o;
  o.read_only = true;
  o.verify_threads = threads;
  o.mapped_reads = mapped;
  auto store = Store::open(fs, clock, dir, o);
  if (!store.ok()) throw std::runtime_error("verify_secs: " + store.error().to_string());
  const auto start = Wall::now();
  auto report = (*store)->verify();
  const double secs = seconds_since(start);
  if (!report.ok() || !report->clean()) throw std::runtime_error("verify_secs: the benchmark's store does not verify clean");
  return secs;
}

// Store::verify() of a log of several segments (256 MiB of payload: four sealed segments
// and the active one), on one thread, on two, and on two through mmap, interleaved.
// Adds MB/s of payload to `mbps` ("cairn-verify", "cairn-verify-2t", "cairn-verify-2t-mapped").
void verify_figures(const Config& c, const std::vector<Bytes>& records, std::map<std::string, std::vector<double>>& mbps) {
  const std::size_t total = c.smoke ? (2u << 20) : (256u << 20);
  Scratch dir(c.dir);
  std::uint64_t written = 0;
  {
    fs::PosixFileSystem fs;
    SystemClock clock;
    Options o;
    o.sync = parse_sync_policy("manual").value();
    auto store = Store::open(fs, clock, dir.path.string(), o);
    if (!store.ok()) throw std::runtime_error("verify_figures: " + store.error().to_string());
    for (; written < total; written += records.size() * records.front().size()) {
      if (!(*store)->append(1, records).ok()) throw std::runtime_error("verify_figures: append failed");
    }
    if (!(*store)->close().ok()) throw std::runtime_error("verify_figures: close failed");
  }
  const struct {
    const char* name;
    std::uint32_t threads;
    bool mapped;
  } modes[] = {{"cairn-verify", 1, false}, {"cairn-verify-2t", 2, false}, {"cairn-verify-2t-mapped", 2, true}};
  for (unsigned run = 0; run < c.runs; ++run) {
    for (std::size_t k = 0; k < std::size(modes); ++k) {
      const auto& m = modes[(k + run) % std::size(modes)];
      mbps[m.name].push_back(static_cast<double>(written) / verify_secs(dir.path.string(), m.threads, m.mapped) / 1e6);
    }
  }
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
    for (std::size_t k = 0; k <= systems.size() + 1; ++k) {  // interleaved, the bound and two cores among them
      const std::size_t idx = (k + run) % (systems.size() + 2);
      if (idx == systems.size()) {
        mbps["sha256"].push_back(sha256_mbps(records, total, sink));
        continue;
      }
      if (idx == systems.size() + 1) {
        double secs = 0;
        const std::uint64_t bytes = two_core_scan(dirs[1]->path.string(), sink, secs);  // systems[1] is "cairn"
        mbps["cairn-2cores"].push_back(static_cast<double>(bytes) / secs / 1e6);
        continue;
      }
      const std::string& name = systems[idx];
      const auto start = Wall::now();
      const std::uint64_t bytes = stores[name]->scan([&](const std::uint8_t* p, std::size_t n) { sink += n ? p[0] : 0; });
      mbps[name].push_back(static_cast<double>(bytes) / seconds_since(start) / 1e6);
    }
  }
  for (auto& [name, s] : stores) s->close();
  verify_figures(c, records, mbps);
  const double bound = median(mbps["sha256"]);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, v] : mbps) {
    const double m = median(v);
    rows.push_back({{"record_bytes", record_bytes}, {"system", name}, {"mb_per_s", m},
                    {"ratio_to_sha256", bound > 0 ? m / bound : 0}});
  }
  std::fprintf(stderr,
               "read %zu B: cairn %.0f MB/s, cairn-mapped %.0f MB/s, two cores %.0f MB/s, verify %.0f / %.0f / %.0f MB/s "
               "(1 thread / 2 / 2 mapped), sha256 bound %.0f MB/s (%llu)\n",
               record_bytes, median(mbps["cairn"]), median(mbps["cairn-mapped"]), median(mbps["cairn-2cores"]),
               median(mbps["cairn-verify"]), median(mbps["cairn-verify-2t"]), median(mbps["cairn-verify-2t-mapped"]), bound,
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
