// cairn-bench: cairn against the systems a user would pick instead, and against this
// machine's limits. Every figure is the median of --runs interleaved runs (systems take
// turns within each run) on the same data, reported with its ratio to a baseline measured
// in the same invocation.
//
//   cairn-bench [--out bench/results] [--runs 3] [--dir /tmp] [--smoke]
//
// Writes results.json, results.md and a chart per figure (append, read, recovery,
// simulator, compression .svg) into --out.
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

#include "bench/harness.h"
#include "bench/peers.h"
#include "bench/report.h"
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
// ---- append

nlohmann::json bench_append(const Config& c) {
  const std::vector<std::size_t> sizes = c.smoke ? std::vector<std::size_t>{256} : std::vector<std::size_t>{256, 4096};
  const std::vector<std::size_t> batches = c.smoke ? std::vector<std::size_t>{1, 16} : std::vector<std::size_t>{1, 16, 64, 1024};
  std::vector<std::string> systems = appender_names();
  systems.insert(systems.begin() + 2, "cairn-pipelined");
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
          a->drain();
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
      std::fprintf(stderr, "append %zu B x %zu: cairn %.0f rec/s, pipelined %.0f rec/s, raw %.0f rec/s\n", size, batch,
                   median(rps["cairn"]), median(rps["cairn-pipelined"]), raw_rps);
    }
  }
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
  // The logs were written without fsync: let the kernel write them back before timing
  // opens, or an open's fsync waits behind the writeback of up to 1.3 GiB of other logs.
  ::sync();
  // An open's time is mostly the copy and fdatasync of the active segment (RECOVERY.md
  // A7), whose latency on a shared virtual disk varies by 2x from one open to the next:
  // three times the runs of the other figures (an open takes tens of milliseconds).
  const unsigned runs = 3 * c.runs;
  std::map<std::uint64_t, std::vector<double>> ms;
  for (unsigned run = 0; run < runs; ++run) {
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-bench: cairn against raw files, SQLite, LevelDB and RocksDB"};
  Config c;
  app.add_option("--out", c.out, "directory for results.json, results.md, append.svg");
  app.add_option("--dir", c.dir, "scratch directory on the disk to measure");
  app.add_option("--runs", c.runs, "interleaved runs per figure (median)")
      ->check(cairn::cli::unsigned_number())
      ->check(CLI::Range(1u, 50u));
  app.add_option("--text-log", c.text_log, "a text log for the compression figure (missing: a generated one)");
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
    j["compression"] = bench_compression(c);
    j["targets"] = targets(j);
    std::filesystem::create_directories(c.out);
    std::ofstream(std::filesystem::path(c.out) / "results.json") << j.dump(2) << '\n';
    std::ofstream(std::filesystem::path(c.out) / "results.md") << markdown(j);
    write_charts(j, c.out);
    std::printf("%s", markdown(j).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
