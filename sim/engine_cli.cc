// cairn-sim --engine NAME: the seeds of the run on another engine's configuration through
// the system-under-test harness (sut/run.h), with the sweep's threads and progress, a
// replay line per failure and the summary the README's engine table is made from.
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "properties/properties.h"
#include "sim/cli.h"
#include "sim/engine_isolate.h"
#include "sim/report.h"
#include "sut/run.h"
#if defined(CAIRN_WITH_ENGINES)
#include "engines/registry.h"
#endif

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace cairn::sim::cli {

#if defined(CAIRN_WITH_ENGINES)

namespace {

std::string engine_replay(const std::string& binary, std::uint64_t seed, const Args& a) {
  std::string line = fmt::format("{} --engine {} --seed {}", binary, a.engine, seed);
  if (a.ops != kEngineEvents) line += fmt::format(" --ops {}", a.ops);
  if (a.posix_fs) line += " --posix-fs";
  return line + "   # commit " CAIRN_GIT_COMMIT "; add --trace for the event trace";
}

std::string result_json(const sut::EngineSeedResult& r, const std::string& engine, const std::string& replay) {
  nlohmann::json j = {{"engine", engine},
                      {"seed", r.seed},
                      {"passed", r.passed},
                      {"lost_acknowledged", r.lost_acknowledged},
                      {"damage_detected", r.damage_detected},
                      {"lost_to_damage", r.lost_to_damage},
                      {"failure", r.failure},
                      {"digest", fmt::format("{:016x}", r.digest)},
                      {"events", r.events},
                      {"commits_attempted", r.commits_attempted},
                      {"commits_acknowledged", r.commits_acknowledged},
                      {"crashes", r.crashes},
                      {"kills", r.kills},
                      {"fs_ops", r.fs_ops},
                      {"families", r.families},
                      {"faults", fault_counts_json(r.faults)}};
  if (!r.passed) j["replay"] = replay;
  return j.dump();
}

sut::EngineSeedResult run_one(const engines::EngineInfo& info, std::uint64_t seed, const Args& a, bool trace) {
  const auto engine = info.make();
  return sut::run_engine_seed(*engine, sut::EngineSeedOptions{seed, a.ops, trace, a.posix_fs});
}

// The trace of a single seed (--trace, --trace-out FILE) or of each failing seed of a
// sweep (--trace-out DIR: seed-N.trace). "" or why one could not be written.
std::string write_traces(const engines::EngineInfo& info, const std::vector<sut::EngineSeedResult>& ran,
                         const Args& a) {
  if (ran.size() == 1 && a.trace) {
    for (const std::string& line : ran[0].trace) std::printf("%s\n", line.c_str());
  }
  if (a.trace_out.empty()) return "";
  if (ran.size() == 1) return write_trace_file(a.trace_out, ran[0].trace);
  for (const sut::EngineSeedResult& r : ran) {
    if (r.passed) continue;
    const auto again = run_one(info, r.seed, a, true);
    const std::string err = write_trace_file(fmt::format("{}/seed-{}.trace", a.trace_out, r.seed), again.trace);
    if (!err.empty()) return err;
  }
  return "";
}

struct Tally {
  std::size_t passed = 0, lost = 0, other = 0;
  std::optional<std::uint64_t> first_failing;
  std::uint64_t attempted = 0, acknowledged = 0, crashes = 0;
  std::uint64_t damaged = 0, detected = 0, lost_to_damage = 0;  // seeds with damage at rest; commits
};

Tally report(const engines::EngineInfo& info, const std::vector<sut::EngineSeedResult>& ran, const Args& a,
             const std::string& binary, std::vector<std::string>& json_lines) {
  Tally t;
  for (const sut::EngineSeedResult& r : ran) {
    const std::string replay = engine_replay(binary, r.seed, a);
    json_lines.push_back(result_json(r, info.name, replay));
    t.attempted += r.commits_attempted;
    t.acknowledged += r.commits_acknowledged;
    t.crashes += r.crashes;
    t.damaged += r.faults[static_cast<std::size_t>(fs::FaultFamily::bit_flip)] > 0 ? 1 : 0;
    t.detected += r.damage_detected ? 1 : 0;
    t.lost_to_damage += r.lost_to_damage;
    if (r.passed) {
      ++t.passed;
      continue;
    }
    (r.lost_acknowledged ? t.lost : t.other) += 1;
    if (!t.first_failing) t.first_failing = r.seed;
    std::printf("\n%s seed %llu (digest %016llx, faults [%s]): %s\n  replay: %s\n",
                r.lost_acknowledged ? "LOST ACKNOWLEDGED DATA:" : "FAILED", static_cast<unsigned long long>(r.seed),
                static_cast<unsigned long long>(r.digest), r.families.c_str(), r.failure.c_str(), replay.c_str());
  }
  std::printf("\nengine %s: %zu seeds, %zu passed, %zu lost acknowledged data, %zu failed otherwise; "
              "%llu commits attempted, %llu acknowledged, %llu power losses\n",
              info.name.c_str(), ran.size(), t.passed, t.lost, t.other, static_cast<unsigned long long>(t.attempted),
              static_cast<unsigned long long>(t.acknowledged), static_cast<unsigned long long>(t.crashes));
  if (t.damaged > 0) {
    std::printf("damage at rest in %llu seeds: reported by the engine in %llu, %llu acknowledged commits dropped "
                "(allowed after damage; altered data is not)\n",
                static_cast<unsigned long long>(t.damaged), static_cast<unsigned long long>(t.detected),
                static_cast<unsigned long long>(t.lost_to_damage));
  }
  if (t.first_failing) {
    std::printf("first failing seed: %llu  (%s)\n", static_cast<unsigned long long>(*t.first_failing),
                engine_replay(binary, *t.first_failing, a).c_str());
  }
  return t;
}

// The seeds on a.jobs threads of this process.
std::vector<sut::EngineSeedResult> run_in_process(const engines::EngineInfo& info, const Args& a, double& wall,
                                                  bool trace) {
  std::map<std::uint64_t, sut::EngineSeedResult> results;
  std::mutex results_mutex;
  for_each_seed(a, wall, [&](std::uint64_t i) {
    auto r = run_one(info, a.seed_at(i), a, trace);
    const bool passed = r.passed;
    std::lock_guard lock(results_mutex);
    results.emplace(i, std::move(r));
    return passed;
  });
  std::vector<sut::EngineSeedResult> ran;
  for (auto& [i, r] : results) ran.push_back(std::move(r));
  return ran;
}

// --check-determinism for engines: every seed again in this process (after every other
// seed ran: global state an engine keeps between runs would show). 0, or 3 on a difference.
int rerun_compare(const engines::EngineInfo& info, const std::vector<sut::EngineSeedResult>& ran, const Args& a) {
  for (const sut::EngineSeedResult& r : ran) {
    const auto again = run_one(info, r.seed, a, false);
    if (again.digest != r.digest) {
      std::printf("NONDETERMINISTIC seed %llu: digest %016llx then %016llx\n", static_cast<unsigned long long>(r.seed),
                  static_cast<unsigned long long>(r.digest), static_cast<unsigned long long>(again.digest));
      return 3;
    }
  }
  std::printf("determinism: %zu seeds ran twice with the same digests\n", ran.size());
  return 0;
}

}  // namespace

int list_engines() {
  std::printf("%-22s %-10s %s\n", "cairn", "durable", "cairn's store in the full simulated world (the default)");
  for (const engines::EngineInfo& e : engines::all()) {
    const std::string promise =
        e.durable ? "durable" : fmt::format("lossy: caught within {} seeds", e.caught_within);
    std::printf("%-22s %-10s %s\n", e.name.c_str(), promise.c_str(), e.description.c_str());
  }
  return 0;
}

int engine_command(const Args& a, const std::string& binary) {
  const engines::EngineInfo& info = *engines::find(a.engine);
  std::printf("cairn-sim commit %s engine %s (%s; %s%s): %llu seeds (%llu..%llu), %llu events each, %u jobs\n",
              CAIRN_GIT_COMMIT, info.name.c_str(), info.description.c_str(),
              info.durable ? "promises acknowledged commits survive" : "does not promise durability",
              a.posix_fs ? "; a filesystem that keeps only what POSIX promises" : "",
              static_cast<unsigned long long>(a.total), static_cast<unsigned long long>(a.lo),
              static_cast<unsigned long long>(a.hi), static_cast<unsigned long long>(a.ops), a.jobs);
  std::fflush(stdout);
  double wall = 0;
  const bool trace = a.trace && a.total == 1;
  std::vector<sut::EngineSeedResult> ran =
      a.isolate ? run_isolated(a, wall, [&](std::uint64_t seed) { return run_one(info, seed, a, trace); })
                : run_in_process(info, a, wall, trace);
  std::vector<std::string> json_lines;
  const Tally t = report(info, ran, a, binary, json_lines);
  std::printf("%.1f s, %.1f seeds/s\n", wall, static_cast<double>(ran.size()) / std::max(wall, 1e-9));
  std::string err = write_traces(info, ran, a);
  if (err.empty() && !a.jsonl.empty()) err = write_trace_file(a.jsonl, json_lines);
  if (err.empty() && !a.properties_out.empty()) {
    err = props::write_jsonl_file(props::global_catalog(), a.properties_out, ran.size() < a.total);
  }
  if (!err.empty()) {
    std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
    return 2;
  }
  if (stop_signal() != 0) return 128 + stop_signal();
  if (a.check_determinism) {
    if (const int det = rerun_compare(info, ran, a); det != 0) return det;
  }
  if (a.expect_loss) {
    std::printf(t.lost > 0 ? "expected: a loss of acknowledged data was caught\n"
                           : "NOT CAUGHT: no seed lost acknowledged data (--expect-loss)\n");
    return t.lost > 0 && t.other == 0 ? 0 : 1;
  }
  return t.passed == ran.size() ? 0 : 1;
}

#else

int list_engines() {
  std::printf("this build runs only cairn's own engine (the full world); the others are in cairn-sim\n");
  return 0;
}

int engine_command(const Args&, const std::string&) { return 2; }

#endif

}  // namespace cairn::sim::cli
