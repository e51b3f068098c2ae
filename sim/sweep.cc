// cairn-sim's sweep: seeds on several threads with progress, the report of what ran, and
// the determinism check in a second process.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/cli.h"
#include "sim/report.h"

namespace cairn::sim::cli {
namespace {

using WallClock = std::chrono::steady_clock;  // allowed: sweep timing and progress, never the simulated world

double seconds_since(WallClock::time_point start) {
  return std::chrono::duration<double>(WallClock::now() - start).count();
}

// Runs the seed in a second process and returns its digest (0 when it could not run).
std::uint64_t digest_in_child(std::uint64_t seed, const Args& a, const std::string& trace_file) {
  std::string cmd = fmt::format("/proc/{}/exe --seed {} --print-digest", ::getpid(), seed);  // allowed: locating our own binary
  for (const std::string& f : replay_flags(a)) cmd += " " + f;
  if (!trace_file.empty()) cmd += " --trace-out " + trace_file;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  char buf[64] = {0};
  std::uint64_t digest = 0;
  if (std::fgets(buf, sizeof(buf), p) != nullptr) digest = std::strtoull(buf, nullptr, 16);
  ::pclose(p);
  return digest;
}

// Reruns a seed here and in a second process with traces; prints where they part.
void first_difference(const SeedResult& r, const Args& a) {
  std::string error;
  SeedOptions o = options_for(r.seed, a, error);
  o.trace = true;
  const SeedResult here = run_seed(o);
  char tmpl[] = "/tmp/cairn-sim-trace-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd >= 0) ::close(fd);
  digest_in_child(r.seed, a, tmpl);
  std::ifstream in(tmpl);
  std::string line;
  std::size_t i = 0;
  for (; std::getline(in, line); ++i) {
    if (i >= here.trace.size() || here.trace[i] != line) break;
  }
  std::printf("first difference at trace line %zu:\n  here:  %s\n  other: %s\n", i + 1,
              i < here.trace.size() ? here.trace[i].c_str() : "(end)", line.c_str());
  ::unlink(tmpl);
}

void print_summary(const std::vector<SeedResult>& ran, const Args& a, double wall) {
  std::uint64_t events = 0, crashes = 0, faults = 0;
  for (const SeedResult& r : ran) {
    events += r.events;
    crashes += r.crashes;
    for (auto f : r.faults) faults += f;
  }
  if (ran.size() == 1) {
    std::printf("seed %llu: digest %016llx, %llu events, %llu crashes, %llu faults injected, %llu records acknowledged\n",
                static_cast<unsigned long long>(ran[0].seed), static_cast<unsigned long long>(ran[0].digest),
                static_cast<unsigned long long>(ran[0].events), static_cast<unsigned long long>(ran[0].crashes),
                static_cast<unsigned long long>(faults), static_cast<unsigned long long>(ran[0].records_acknowledged));
  }
  std::printf("%zu seeds in %.1fs (%.1f seeds/s on %u jobs): %llu events, %llu crashes, %llu faults\n", ran.size(),
              wall, static_cast<double>(ran.size()) / std::max(wall, 1e-9), a.jobs,
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(crashes),
              static_cast<unsigned long long>(faults));
  if (ran.size() < a.total) {
    std::printf("%llu seeds not run (time budget or stop on failure)\n", static_cast<unsigned long long>(a.total - ran.size()));
  }
}

void write_trace(const SeedResult& r, const Args& a) {
  if (!a.trace_out.empty()) {
    std::ofstream out(a.trace_out);
    for (const std::string& l : r.trace) out << l << '\n';
    return;
  }
  std::printf("\ntrace of seed %llu:\n", static_cast<unsigned long long>(r.seed));
  for (const std::string& l : r.trace) std::printf("  %s\n", l.c_str());
}

}  // namespace

std::vector<SeedResult> sweep(const Args& a, double& wall_seconds) {
  std::vector<std::pair<std::uint64_t, SeedResult>> finished_results;  // (index, result)
  std::mutex results_mutex;
  std::atomic<std::uint64_t> next{0}, finished{0}, failed{0};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> running{a.jobs};
  const auto start = WallClock::now();
  auto worker = [&] {
    for (;;) {
      if (stop.load() || (a.time_budget_s > 0 && seconds_since(start) > a.time_budget_s)) break;
      const std::uint64_t i = next.fetch_add(1);
      if (i >= a.total) break;
      std::string err;
      SeedResult r = run_seed(options_for(a.seed_at(i), a, err));
      if (!r.passed) {
        failed.fetch_add(1);
        if (a.stop_on_failure) stop = true;
      }
      {
        std::lock_guard lock(results_mutex);
        finished_results.emplace_back(i, std::move(r));
      }
      finished.fetch_add(1);
    }
    running.fetch_sub(1);
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < a.jobs; ++j) threads.emplace_back(worker);
  const bool tty = ::isatty(2) != 0;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // allowed: progress display
    if (tty) {
      std::fprintf(stderr, "\r[%llu/%llu] %.1f seeds/s, %llu failed ", static_cast<unsigned long long>(finished.load()),
                   static_cast<unsigned long long>(a.total),
                   static_cast<double>(finished.load()) / std::max(seconds_since(start), 1e-9),
                   static_cast<unsigned long long>(failed.load()));
    }
  }
  for (std::thread& t : threads) t.join();
  if (tty) std::fprintf(stderr, "\r\033[K");
  wall_seconds = seconds_since(start);
  std::sort(finished_results.begin(), finished_results.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<SeedResult> ran;
  for (auto& [i, r] : finished_results) ran.push_back(std::move(r));
  return ran;
}

std::size_t report(const std::vector<SeedResult>& ran, const Args& a, const std::string& binary, double wall) {
  std::vector<std::string> replays;
  std::size_t passed = 0;
  for (const SeedResult& r : ran) {
    replays.push_back(replay_line(binary, r.seed, a));
    if (r.passed) {
      ++passed;
      continue;
    }
    std::printf("\nFAILED seed %llu (digest %016llx): %s\n  replay: %s\n  pinned: %s\n",
                static_cast<unsigned long long>(r.seed), static_cast<unsigned long long>(r.digest), r.failure.c_str(),
                replays.back().c_str(), pinned_line(binary, r.seed, a).c_str());
  }
  if (ran.size() == 1 && (a.trace || !a.trace_out.empty())) write_trace(ran[0], a);
  if (!a.jsonl.empty()) {
    std::ofstream out(a.jsonl);
    for (std::size_t i = 0; i < ran.size(); ++i) out << result_json(ran[i], replays[i]) << '\n';
  }
  if (!a.junit.empty()) {
    std::ofstream out(a.junit);
    out << junit_xml(ran, wall, replays);
  }
  if (!a.properties_out.empty()) {
    const std::string err = props::write_jsonl_file(props::global_catalog(), a.properties_out);
    if (!err.empty()) std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
  }
  print_summary(ran, a, wall);
  std::printf("%zu passed, %zu failed\n", passed, ran.size() - passed);
  std::fflush(stdout);
  return passed;
}

int determinism_check(const std::vector<SeedResult>& results, const Args& a) {
  for (const SeedResult& r : results) {
    const std::uint64_t other = digest_in_child(r.seed, a, "");
    if (other == r.digest) continue;
    std::printf("NONDETERMINISM: seed %llu digest %016llx here, %016llx in a second process\n",
                static_cast<unsigned long long>(r.seed), static_cast<unsigned long long>(r.digest),
                static_cast<unsigned long long>(other));
    first_difference(r, a);
    return 3;
  }
  std::printf("determinism: %zu seeds gave the same digest in a second process\n", results.size());
  return 0;
}

}  // namespace cairn::sim::cli
