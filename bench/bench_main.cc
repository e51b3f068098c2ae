// cairn-bench: cairn against the systems a user would pick instead, and against this
// machine's limits. Every figure is the median of --runs interleaved runs (systems take
// turns within each run) on the same data, reported with its ratio to a baseline measured
// in the same invocation.
//
//   cairn-bench [--out bench/results] [--runs 3] [--dir /tmp] [--smoke]
//
// Writes results.json, results.md and append.svg into --out.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/peers.h"
#include "bench/svg.h"
#include "core/chain.h"
#include "core/cli/numbers.h"
#include "core/format.h"
#include "core/store.h"
#include "sim/simulation.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"
#include "simfs/prng.h"

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace {

using namespace cairn;
using namespace cairn::bench;
using Wall = std::chrono::steady_clock;

double seconds_since(Wall::time_point t) { return std::chrono::duration<double>(Wall::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Config {
  std::string out = "bench/results";
  std::string dir = "/tmp";
  unsigned runs = 3;
  bool smoke = false;
};

// A scratch directory removed on destruction.
struct Scratch {
  std::filesystem::path path;
  explicit Scratch(const std::string& base) {
    std::string t = (std::filesystem::path(base) / "cairn-bench-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp in " + base);
    path = t;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::vector<Bytes> make_records(std::size_t count, std::size_t bytes, std::uint64_t seed) {
  Prng p(seed);
  std::vector<Bytes> out(count, Bytes(bytes));
  for (Bytes& r : out) {
    for (auto& b : r) b = static_cast<std::uint8_t>(p.next_u64());
  }
  return out;
}

// ---- append

nlohmann::json bench_append(const Config& c) {
  const std::vector<std::size_t> sizes = c.smoke ? std::vector<std::size_t>{256} : std::vector<std::size_t>{256, 4096};
  const std::vector<std::size_t> batches = c.smoke ? std::vector<std::size_t>{1, 16} : std::vector<std::size_t>{1, 16, 64, 1024};
  const auto& systems = appender_names();
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t size : sizes) {
    for (std::size_t batch : batches) {
      const std::size_t target_bytes = c.smoke ? 64 * 1024 : 16u << 20;
      const std::size_t commits = std::clamp<std::size_t>(target_bytes / (size * batch), c.smoke ? 5 : 20, c.smoke ? 20 : 600);
      const std::vector<Bytes> records = make_records(batch, size, size * 7919 + batch);
      // metrics[system] = per-run values
      std::map<std::string, std::vector<double>> rps, mbps, p50, p99;
      for (unsigned run = 0; run < c.runs; ++run) {
        for (std::size_t k = 0; k < systems.size(); ++k) {
          const std::string& name = systems[(k + run) % systems.size()];  // interleave
          Scratch dir(c.dir);
          auto a = make_appender(name);
          a->open(dir.path.string());
          std::vector<double> lat_us;
          lat_us.reserve(commits);
          const auto start = Wall::now();
          for (std::size_t i = 0; i < commits; ++i) {
            const auto t = Wall::now();
            a->commit(records);
            lat_us.push_back(seconds_since(t) * 1e6);
          }
          const double secs = seconds_since(start);
          a->close();
          rps[name].push_back(static_cast<double>(commits * batch) / secs);
          mbps[name].push_back(static_cast<double>(commits * batch * size) / secs / 1e6);
          p50[name].push_back(percentile(lat_us, 0.5));
          p99[name].push_back(percentile(lat_us, 0.99));
        }
      }
      const double raw_rps = median(rps["raw"]);
      for (const std::string& name : systems) {
        const double r = median(rps[name]);
        rows.push_back({{"system", name}, {"record_bytes", size}, {"batch", batch}, {"commits", commits},
                        {"records_per_s", r}, {"mb_per_s", median(mbps[name])},
                        {"p50_commit_us", median(p50[name])}, {"p99_commit_us", median(p99[name])},
                        {"ratio_to_raw", raw_rps > 0 ? r / raw_rps : 0}});
      }
      std::fprintf(stderr, "append %zu B x %zu: cairn %.0f rec/s, raw %.0f rec/s\n", size, batch,
                   median(rps["cairn"]), raw_rps);
    }
  }
  return rows;
}

// ---- read-back

nlohmann::json bench_read(const Config& c) {
  const std::size_t record_bytes = 4096;
  const std::size_t total = c.smoke ? (1u << 20) : (64u << 20);
  const std::size_t per_batch = 1024;
  const std::vector<Bytes> records = make_records(per_batch, record_bytes, 42);
  const auto& systems = appender_names();
  std::map<std::string, std::unique_ptr<Appender>> stores;
  std::map<std::string, std::unique_ptr<Scratch>> dirs;
  for (const std::string& name : systems) {
    dirs[name] = std::make_unique<Scratch>(c.dir);
    stores[name] = make_appender(name);
    stores[name]->open(dirs[name]->path.string());
    for (std::size_t written = 0; written < total; written += per_batch * record_bytes) stores[name]->commit(records);
  }
  std::map<std::string, std::vector<double>> mbps;
  ChainHasher hasher;
  std::uint64_t sink_acc = 0;
  for (unsigned run = 0; run < c.runs; ++run) {
    for (std::size_t k = 0; k <= systems.size(); ++k) {
      const std::size_t idx = (k + run) % (systems.size() + 1);
      if (idx == systems.size()) {
        // The bound: one SHA-256 per record over the same payload bytes, in memory.
        const auto start = Wall::now();
        std::uint64_t bytes = 0;
        for (std::size_t written = 0; written < total; written += per_batch * record_bytes) {
          for (const Bytes& r : records) {
            sink_acc += hasher.sha256(r)[0];
            bytes += r.size();
          }
        }
        mbps["sha256"].push_back(static_cast<double>(bytes) / seconds_since(start) / 1e6);
        continue;
      }
      const std::string& name = systems[idx];
      const auto start = Wall::now();
      std::uint64_t bytes = stores[name]->scan([&](const std::uint8_t* p, std::size_t n) { sink_acc += n ? p[0] : 0; });
      mbps[name].push_back(static_cast<double>(bytes) / seconds_since(start) / 1e6);
    }
  }
  for (auto& [name, s] : stores) s->close();
  const double cairn_mbps = median(mbps["cairn"]);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, v] : mbps) {
    const double m = median(v);
    rows.push_back({{"system", name}, {"mb_per_s", m}, {"cairn_over_this", m > 0 ? cairn_mbps / m : 0}});
  }
  std::fprintf(stderr, "read: cairn verified %.0f MB/s, sha256 bound %.0f MB/s (%llu)\n", cairn_mbps,
               median(mbps["sha256"]), static_cast<unsigned long long>(sink_acc % 2));
  return rows;
}

// ---- recovery

nlohmann::json bench_recovery(const Config& c) {
  const std::vector<std::uint64_t> sizes_mib = c.smoke ? std::vector<std::uint64_t>{2, 4, 8} : std::vector<std::uint64_t>{64, 256, 1024};
  const std::uint64_t segment_bytes = c.smoke ? (1u << 20) : (16u << 20);
  fs::PosixFileSystem fs;
  SystemClock clock;
  Options o;
  o.max_segment_bytes = segment_bytes;
  o.sync = parse_sync_policy("manual").value();
  const std::vector<Bytes> records = make_records(256, 4096, 7);
  std::vector<std::unique_ptr<Scratch>> dirs;
  std::vector<std::string> active;
  for (std::uint64_t mib : sizes_mib) {
    dirs.push_back(std::make_unique<Scratch>(c.dir));
    auto store = Store::open(fs, clock, dirs.back()->path.string(), o).value();
    // Whole sealed segments, then the same half-full active segment in every log, so only
    // the total size differs.
    const std::uint64_t sealed = mib * (1ull << 20) / segment_bytes - 1;
    while (store->stats(1).ok() ? store->stats(1)->segments <= sealed : true) (void)store->append(1, records);
    std::uint64_t fill = 0;
    while (fill < segment_bytes / 2) {
      (void)store->append(1, std::vector<Bytes>(records.begin(), records.begin() + 16));
      fill += 16 * (4096 + 68);
    }
    (void)store->sync();
    std::uint64_t base = 0;
    for (const auto& e : std::filesystem::directory_iterator(dirs.back()->path / format::stream_dir_name(1))) {
      if (auto b = format::parse_segment_name(e.path().filename().string(), "log")) base = std::max(base, *b);
    }
    active.push_back((dirs.back()->path / format::stream_dir_name(1) / format::segment_file_name(base)).string());
    store.reset();  // unclean: no close()
  }
  std::map<std::uint64_t, std::vector<double>> ms;
  for (unsigned run = 0; run < c.runs; ++run) {
    for (std::size_t k = 0; k < sizes_mib.size(); ++k) {
      const std::size_t i = (k + run) % sizes_mib.size();
      {  // a torn tail: half a frame of garbage after the last complete batch
        std::ofstream tail(active[i], std::ios::binary | std::ios::app);
        tail << std::string(1000, '\x5a');
      }
      const auto start = Wall::now();
      auto store = Store::open(fs, clock, dirs[i]->path.string(), o);
      const double t = seconds_since(start) * 1e3;
      if (!store.ok() || store.value()->recovery_report().torn_tails.size() != 1) {
        throw std::runtime_error("recovery did not cut the torn tail");
      }
      ms[sizes_mib[i]].push_back(t);
    }
  }
  nlohmann::json rows = nlohmann::json::array();
  const double base_ms = median(ms[sizes_mib.front()]);
  for (std::uint64_t mib : sizes_mib) {
    rows.push_back({{"log_mib", mib}, {"open_ms", median(ms[mib])}, {"ratio_to_smallest", median(ms[mib]) / base_ms}});
  }
  std::fprintf(stderr, "recovery: %.1f ms at %llu MiB, %.1f ms at %llu MiB\n", base_ms,
               static_cast<unsigned long long>(sizes_mib.front()), median(ms[sizes_mib.back()]),
               static_cast<unsigned long long>(sizes_mib.back()));
  return rows;
}

// ---- simulator

nlohmann::json bench_sim(const Config& c) {
  const std::uint64_t seeds = c.smoke ? 5 : 300;
  std::vector<double> sps, eps, speedup;
  for (unsigned run = 0; run < c.runs; ++run) {
    std::uint64_t events = 0, sim_us = 0;
    const auto start = Wall::now();
    for (std::uint64_t s = 1; s <= seeds; ++s) {
      sim::SeedOptions opt;
      opt.seed = s;
      opt.swarm = sim::Swarm::from_seed(s);
      sim::SeedResult r = sim::run_seed(opt);
      events += r.fs_ops;
      sim_us += r.sim_time_us - 1'000'000'000;
    }
    const double secs = seconds_since(start);
    sps.push_back(static_cast<double>(seeds) / secs);
    eps.push_back(static_cast<double>(events) / secs);
    speedup.push_back(static_cast<double>(sim_us) / 1e6 / secs);
  }
  std::fprintf(stderr, "simulator: %.1f seeds/s on one core\n", median(sps));
  return {{"seeds_per_s_per_core", median(sps)}, {"fs_ops_per_s_per_core", median(eps)},
          {"simulated_over_wall", median(speedup)}, {"ratio_to_target_100", median(sps) / 100.0},
          {"seeds_per_run", seeds}};
}

// The CPU's model name from /proc/cpuinfo ("unknown CPU" where there is none).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
  }
  return "unknown CPU";
}

std::string machine() {
  struct utsname u {};
  ::uname(&u);
  return fmt::format("{}, {} {} {}, {} cores", cpu_model(), u.sysname, u.release, u.machine,
                     ::sysconf(_SC_NPROCESSORS_ONLN));
}

std::string markdown(const nlohmann::json& j) {
  std::string md = "# cairn benchmark results\n\n";
  md += fmt::format("Command: `{}`  \nMachine: {}  \nEach figure: median of {} interleaved runs.\n\n",
                    j["command"].get<std::string>(), j["machine"].get<std::string>(), j["runs"].get<unsigned>());
  md += "## Append, one durable commit per batch\n\n| record | batch | system | records/s | MB/s | p50 commit µs | p99 commit µs | × raw |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : j["append"]) {
    md += fmt::format("| {} B | {} | {} | {:.0f} | {:.1f} | {:.0f} | {:.0f} | {:.2f} |\n", r["record_bytes"].get<std::size_t>(),
                      r["batch"].get<std::size_t>(), r["system"].get<std::string>(), r["records_per_s"].get<double>(),
                      r["mb_per_s"].get<double>(), r["p50_commit_us"].get<double>(), r["p99_commit_us"].get<double>(),
                      r["ratio_to_raw"].get<double>());
  }
  md += "\n## Sequential read-back (4 KiB records)\n\n| reader | MB/s | cairn ÷ this |\n|---|---|---|\n";
  for (const auto& r : j["read"]) {
    md += fmt::format("| {} | {:.0f} | {:.2f} |\n", r["system"].get<std::string>(), r["mb_per_s"].get<double>(),
                      r["cairn_over_this"].get<double>());
  }
  md += "\n`cairn` is the verified read (CRC32C per frame, SHA-256 chain); `sha256` is one SHA-256 per record over the same payloads, in memory: the bound.\n";
  md += "\n## Recovery after an unclean shutdown (with a torn tail)\n\n| log | open ms | × smallest |\n|---|---|---|\n";
  for (const auto& r : j["recovery"]) {
    md += fmt::format("| {} MiB | {:.1f} | {:.2f} |\n", r["log_mib"].get<std::uint64_t>(), r["open_ms"].get<double>(),
                      r["ratio_to_smallest"].get<double>());
  }
  const auto& s = j["simulator"];
  md += fmt::format("\n## Simulator\n\n{:.1f} seeds/s per core ({:.2f} × the 100 seeds/s target), {:.0f} simulated filesystem operations/s, simulated time {:.1f} × wall time.\n",
                    s["seeds_per_s_per_core"].get<double>(), s["ratio_to_target_100"].get<double>(),
                    s["fs_ops_per_s_per_core"].get<double>(), s["simulated_over_wall"].get<double>());
  md += "\n## Targets\n\n| target | measured | met |\n|---|---|---|\n";
  for (const auto& t : j["targets"]) {
    md += fmt::format("| {} | {} | {} |\n", t["target"].get<std::string>(), t["measured"].get<std::string>(),
                      t["met"].get<bool>() ? "yes" : "no");
  }
  md += "\n![append throughput](append.svg)\n";
  return md;
}

nlohmann::json targets(const nlohmann::json& j) {
  nlohmann::json out = nlohmann::json::array();
  auto find = [&](const std::string& sys, std::size_t size, std::size_t batch) {
    for (const auto& r : j["append"]) {
      if (r["system"] == sys && r["record_bytes"] == size && r["batch"] == batch) return r["records_per_s"].get<double>();
    }
    return 0.0;
  };
  double worst_raw = 1e9, worst_sqlite = 1e9, worst_rocks = 1e9;
  for (const auto& r : j["append"]) {
    if (r["system"] != "cairn") continue;
    const std::size_t size = r["record_bytes"], batch = r["batch"];
    const double me = r["records_per_s"];
    if (batch >= 64) worst_raw = std::min(worst_raw, me / find("raw", size, batch));
    worst_sqlite = std::min(worst_sqlite, me / find("sqlite", size, batch));
    worst_rocks = std::min(worst_rocks, me / find("rocksdb", size, batch));
  }
  auto shown = [](double v) { return v > 1e8 ? std::string("not measured") : fmt::format("worst {:.2f}x", v); };
  out.push_back({{"target", "cairn at batch >= 64 within 0.8x of raw"}, {"measured", shown(worst_raw)}, {"met", worst_raw >= 0.8 && worst_raw < 1e8}});
  out.push_back({{"target", ">= 2x SQLite at every batch size"}, {"measured", shown(worst_sqlite)}, {"met", worst_sqlite >= 2.0}});
  out.push_back({{"target", ">= 1.2x RocksDB at every batch size"}, {"measured", shown(worst_rocks)}, {"met", worst_rocks >= 1.2}});
  double read_ratio = 0;
  for (const auto& r : j["read"]) {
    if (r["system"] == "sha256") read_ratio = r["cairn_over_this"];
  }
  out.push_back({{"target", "verified read >= 0.6x the SHA-256 bound"}, {"measured", fmt::format("{:.2f}x", read_ratio)}, {"met", read_ratio >= 0.6}});
  double worst_rec = 0;
  for (const auto& r : j["recovery"]) worst_rec = std::max(worst_rec, r["ratio_to_smallest"].get<double>());
  out.push_back({{"target", "recovery time flat across log sizes (largest <= 1.5x smallest)"}, {"measured", fmt::format("largest {:.2f}x smallest", worst_rec)}, {"met", worst_rec <= 1.5}});
  const double sps = j["simulator"]["seeds_per_s_per_core"];
  out.push_back({{"target", ">= 100 seeds/s per core"}, {"measured", fmt::format("{:.1f} seeds/s", sps)}, {"met", sps >= 100}});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-bench: cairn against raw files, SQLite, LevelDB and RocksDB"};
  Config c;
  app.add_option("--out", c.out, "directory for results.json, results.md, append.svg");
  app.add_option("--dir", c.dir, "scratch directory on the disk to measure");
  app.add_option("--runs", c.runs, "interleaved runs per figure (median)")
      ->check(cairn::cli::unsigned_number())
      ->check(CLI::Range(1u, 50u));
  app.add_flag("--smoke", c.smoke, "a few-second run with tiny sizes (for ctest)");
  app.set_version_flag("--version", std::string("cairn-bench commit ") + CAIRN_GIT_COMMIT);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::string command = "cairn-bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  try {
    nlohmann::json j;
    j["command"] = command;
    j["machine"] = machine();
    j["runs"] = c.runs;
    j["append"] = bench_append(c);
    j["read"] = bench_read(c);
    j["recovery"] = bench_recovery(c);
    j["simulator"] = bench_sim(c);
    j["targets"] = targets(j);
    std::filesystem::create_directories(c.out);
    std::ofstream(std::filesystem::path(c.out) / "results.json") << j.dump(2) << '\n';
    std::ofstream(std::filesystem::path(c.out) / "results.md") << markdown(j);
    std::ofstream(std::filesystem::path(c.out) / "append.svg") << append_svg(j["append"]);
    std::printf("%s", markdown(j).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
