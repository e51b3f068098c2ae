// cairn-sim: seeded simulation of the real storage core on SimFileSystem.
//
//   cairn-sim --seed N [--trace]                 one seed, with its configuration block
//   cairn-sim --seeds A..B [--jobs J]            a sweep
//   cairn-sim --count N                          N fresh seeds from a printed random base
//   cairn-sim ... --shard K/N --time-budget S --stop-on-failure --ops N --set key=value
//   cairn-sim ... --jsonl F --junit F --properties-out F --check-determinism
//   cairn-sim-canary --canary NAME ...           the same, with one planted bug switched on
//
// Exit status: 0 pass, 1 a seed failed, 2 usage, 3 nondeterminism.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/canary.h"
#include "properties/properties.h"
#include "sim/report.h"
#include "sim/simulation.h"

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace {

using namespace cairn;
using namespace cairn::sim;
using WallClock = std::chrono::steady_clock;  // allowed: sweep timing and progress, never the simulated world

// How many seeds any canary may need before the harness catches it (checked by ctest).
constexpr std::uint64_t kCanarySeedBound = 200;  // also in sim/tests/CMakeLists.txt

struct Args {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string seeds;
  std::uint64_t count = 0;
  unsigned jobs = 1;
  std::string shard;
  double time_budget_s = 0;
  bool stop_on_failure = false;
  std::uint64_t ops = 400;
  bool trace = false;
  std::string trace_out;
  std::string jsonl;
  std::string junit;
  std::string properties_out;
  bool check_determinism = false;
  std::string canary;
  bool list_canaries = false;
  std::vector<std::string> sets;
  bool print_digest = false;
};

int usage(const std::string& why) {
  std::fprintf(stderr, "cairn-sim: %s (see --help)\n", why.c_str());
  return 2;
}

bool parse_range(const std::string& text, std::uint64_t& a, std::uint64_t& b) {
  auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  try {
    std::size_t used = 0;
    a = std::stoull(text.substr(0, dots), &used);
    if (used != dots) return false;
    b = std::stoull(text.substr(dots + 2), &used);
    return used == text.size() - dots - 2 && a <= b;
  } catch (...) {
    return false;
  }
}

// The flags that change what a seed does, for the replay line and the second process.
std::vector<std::string> replay_flags(const Args& a) {
  std::vector<std::string> out;
  if (a.ops != 400) out.push_back(fmt::format("--ops {}", a.ops));
  for (const std::string& s : a.sets) out.push_back("--set " + s);
  if (!a.canary.empty()) out.push_back("--canary " + a.canary);
  return out;
}

std::string replay_line(const std::string& binary, std::uint64_t seed, const Args& a) {
  std::string line = fmt::format("{} --seed {}", binary, seed);
  for (const std::string& f : replay_flags(a)) line += " " + f;
  return line + "   # commit " CAIRN_GIT_COMMIT "; add --trace for the event trace";
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

SeedOptions options_for(std::uint64_t seed, const Args& a, std::string& error) {
  SeedOptions o;
  o.seed = seed;
  o.swarm = Swarm::from_seed(seed);
  o.events = a.ops;
  o.trace = a.trace || !a.trace_out.empty();
  for (const std::string& s : a.sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos) {
      error = "--set takes key=value, not '" + s + "'";
      return o;
    }
    error = o.swarm.set(s.substr(0, eq), s.substr(eq + 1));
    if (!error.empty()) return o;
  }
  if (!a.canary.empty()) o.canary = parse_canary(a.canary).value_or(Canary::none);
  return o;
}

int determinism_check(const std::vector<SeedResult>& results, const Args& a) {
  for (const SeedResult& r : results) {
    const std::uint64_t other = digest_in_child(r.seed, a, "");
    if (other == r.digest) continue;
    std::printf("NONDETERMINISM: seed %llu digest %016llx here, %016llx in a second process\n",
                static_cast<unsigned long long>(r.seed), static_cast<unsigned long long>(r.digest),
                static_cast<unsigned long long>(other));
    // Rerun both with traces and name the first event where they differ.
    std::string error;
    SeedOptions o = options_for(r.seed, a, error);
    o.trace = true;
    SeedResult here = run_seed(o);
    char tmpl[] = "/tmp/cairn-sim-trace-XXXXXX";
    int fd = ::mkstemp(tmpl);
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
    return 3;
  }
  std::printf("determinism: %zu seeds gave the same digest in a second process\n", results.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-sim: deterministic simulation of the cairn storage core under faults"};
  Args a;
  app.add_option("--seed", a.seed, "run one seed");
  app.add_option("--seeds", a.seeds, "run seeds A..B (inclusive)");
  app.add_option("--count", a.count, "run N fresh seeds from a random base (printed)");
  app.add_option("--jobs", a.jobs, "seeds run in parallel")->check(CLI::Range(1u, 256u));
  app.add_option("--shard", a.shard, "run only shard K of N (K in 0..N-1), e.g. 3/8");
  app.add_option("--time-budget", a.time_budget_s, "stop starting seeds after this many seconds");
  app.add_flag("--stop-on-failure", a.stop_on_failure, "stop starting seeds after the first failure");
  app.add_option("--ops", a.ops, "scheduled actor events per seed (workload length)");
  app.add_flag("--trace", a.trace, "print the readable event trace (single seed)");
  app.add_option("--trace-out", a.trace_out, "write the event trace of a single seed to a file");
  app.add_option("--jsonl", a.jsonl, "write one JSON line per seed");
  app.add_option("--junit", a.junit, "write a JUnit XML report");
  app.add_option("--properties-out", a.properties_out, "write the property report (Antithesis JSONL)");
  app.add_flag("--check-determinism", a.check_determinism, "rerun every seed in a second process");
  app.add_option("--canary", a.canary, "switch on one planted bug (cairn-sim-canary only)");
  app.add_flag("--list-canaries", a.list_canaries, "list canaries and their seed bounds");
  app.add_option("--set", a.sets, "override a swarm value: key=value (repeatable)");
  app.add_flag("--print-digest", a.print_digest, "print only the trace digest (used by --check-determinism)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  a.seed_given = app.count("--seed") > 0;
#if defined(CAIRN_CANARIES)
  const bool canary_build = true;
#else
  const bool canary_build = false;
#endif
  if (a.list_canaries) {
    for (const std::string& c : canary_names()) {
      std::printf("%-34s caught within %llu seeds\n", c.c_str(), static_cast<unsigned long long>(kCanarySeedBound));
    }
    if (!canary_build) std::printf("(this build plants none: use cairn-sim-canary)\n");
    return 0;
  }
  if (!a.canary.empty()) {
    if (!canary_build) return usage("this build has no canaries; use cairn-sim-canary");
    if (!parse_canary(a.canary) || a.canary == "none") return usage("unknown canary '" + a.canary + "' (see --list-canaries)");
  }
  int modes = (a.seed_given ? 1 : 0) + (a.seeds.empty() ? 0 : 1) + (a.count > 0 ? 1 : 0);
  if (modes > 1) return usage("give only one of --seed, --seeds, --count");
  std::uint64_t lo = 1, hi = 100;
  if (a.seed_given) lo = hi = a.seed;
  if (!a.seeds.empty() && !parse_range(a.seeds, lo, hi)) return usage("--seeds takes A..B, not '" + a.seeds + "'");
  if (a.count > 0) {
    std::random_device rd;  // allowed: choosing a fresh base seed, printed for replay
    lo = ((static_cast<std::uint64_t>(rd()) << 32) ^ rd()) % (UINT64_MAX - a.count);
    hi = lo + a.count - 1;
    std::printf("fresh seeds: base %llu (rerun with --seeds %llu..%llu)\n", static_cast<unsigned long long>(lo),
                static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi));
  }
  std::uint64_t shard_k = 0, shard_n = 1;
  if (!a.shard.empty()) {
    auto slash = a.shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      shard_k = std::stoull(a.shard.substr(0, slash));
      shard_n = std::stoull(a.shard.substr(slash + 1));
    } catch (...) {
      return usage("--shard takes K/N, not '" + a.shard + "'");
    }
    if (shard_n == 0 || shard_k >= shard_n) return usage("--shard K/N needs 0 <= K < N");
  }
  // The sweep is lazy: seed i of this shard is lo + shard_k + i * shard_n.
  if (hi - lo < shard_k) return usage("the shard holds no seeds of this range");
  const std::uint64_t total = (hi - lo - shard_k) / shard_n + 1;
  auto seed_at = [&](std::uint64_t i) { return lo + shard_k + i * shard_n; };
  std::string error;
  (void)options_for(lo, a, error);
  if (!error.empty()) return usage(error);

  install_property_handler();
  const std::string binary = argv[0];

  if (a.print_digest) {  // the second process of --check-determinism
    SeedOptions o = options_for(a.seed, a, error);
    // Test hook: make the second process diverge, to prove the check catches it.
    if (std::getenv("CAIRN_SIM_DIVERGE_SECOND_PROCESS") != nullptr) o.events += 1;  // allowed: test hook, never set in use
    SeedResult r = run_seed(o);
    std::printf("%016llx\n", static_cast<unsigned long long>(r.digest));
    if (!a.trace_out.empty()) {
      std::ofstream out(a.trace_out);
      for (const std::string& l : r.trace) out << l << '\n';
    }
    return 0;
  }

  std::printf("cairn-sim commit %s%s: %llu seeds (%llu..%llu%s), %llu events each, %u jobs\n", CAIRN_GIT_COMMIT,
              a.canary.empty() ? "" : (" canary " + a.canary).c_str(), static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi),
              a.shard.empty() ? "" : (", shard " + a.shard).c_str(), static_cast<unsigned long long>(a.ops), a.jobs);
  if (total == 1) {
    std::printf("configuration of seed %llu:\n%s", static_cast<unsigned long long>(seed_at(0)),
                options_for(seed_at(0), a, error).swarm.block().c_str());
  } else {
    std::printf("configuration: derived from each seed (swarm)%s\n", a.sets.empty() ? "" : ", with overrides:");
    for (const std::string& s : a.sets) std::printf("  %s\n", s.c_str());
  }
  std::fflush(stdout);

  std::vector<std::pair<std::uint64_t, SeedResult>> finished_results;  // (index, result)
  std::mutex results_mutex;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> finished{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> running{a.jobs};
  const auto start = WallClock::now();
  auto worker = [&] {
    struct Exit {
      std::atomic<unsigned>& running;
      ~Exit() { running.fetch_sub(1); }
    } on_exit{running};
    for (;;) {
      if (stop.load()) return;
      if (a.time_budget_s > 0 && std::chrono::duration<double>(WallClock::now() - start).count() > a.time_budget_s) {
        stop = true;
        return;
      }
      const std::uint64_t i = next.fetch_add(1);
      if (i >= total) return;
      std::string err;
      SeedResult r = run_seed(options_for(seed_at(i), a, err));
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
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < a.jobs; ++j) threads.emplace_back(worker);
  const bool tty = ::isatty(2) != 0;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // allowed: progress display
    if (tty) {
      double secs = std::chrono::duration<double>(WallClock::now() - start).count();
      std::fprintf(stderr, "\r[%llu/%llu] %.1f seeds/s, %llu failed ", static_cast<unsigned long long>(finished.load()),
                   static_cast<unsigned long long>(total), static_cast<double>(finished.load()) / std::max(secs, 1e-9),
                   static_cast<unsigned long long>(failed.load()));
    }
  }
  for (std::thread& t : threads) t.join();
  if (tty) std::fprintf(stderr, "\r\033[K");
  const double wall = std::chrono::duration<double>(WallClock::now() - start).count();

  std::sort(finished_results.begin(), finished_results.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<SeedResult> ran;
  std::vector<std::string> replays;
  for (auto& [i, r] : finished_results) {
    replays.push_back(replay_line(binary, r.seed, a));
    ran.push_back(std::move(r));
  }
  std::size_t passed = 0;
  for (std::size_t i = 0; i < ran.size(); ++i) {
    const SeedResult& r = ran[i];
    if (r.passed) {
      ++passed;
      continue;
    }
    std::printf("\nFAILED seed %llu (digest %016llx): %s\n  replay: %s\n", static_cast<unsigned long long>(r.seed),
                static_cast<unsigned long long>(r.digest), r.failure.c_str(), replays[i].c_str());
  }
  if (ran.size() == 1 && (a.trace || !a.trace_out.empty())) {
    if (!a.trace_out.empty()) {
      std::ofstream out(a.trace_out);
      for (const std::string& l : ran[0].trace) out << l << '\n';
    } else {
      std::printf("\ntrace of seed %llu:\n", static_cast<unsigned long long>(ran[0].seed));
      for (const std::string& l : ran[0].trace) std::printf("  %s\n", l.c_str());
    }
  }
  if (!a.jsonl.empty()) {
    std::ofstream out(a.jsonl);
    for (std::size_t i = 0; i < ran.size(); ++i) out << result_json(ran[i], replays[i]) << '\n';
  }
  if (!a.junit.empty()) {
    std::ofstream out(a.junit);
    out << junit_xml(ran, wall, replays);
  }
  if (!a.properties_out.empty()) {
    std::string err = props::write_jsonl_file(props::global_catalog(), a.properties_out);
    if (!err.empty()) std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
  }
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
  if (ran.size() < total) {
    std::printf("%llu seeds not run (time budget or stop on failure)\n",
                static_cast<unsigned long long>(total - ran.size()));
  }
  std::printf("%zu passed, %zu failed\n", passed, ran.size() - passed);
  std::fflush(stdout);
  if (a.check_determinism) {
    int rc = determinism_check(ran, a);
    if (rc != 0) return rc;
  }
  return passed == ran.size() ? 0 : 1;
}
