// cairn-sim: seeded simulation of the real storage core on SimFileSystem.
//
//   cairn-sim --seed N [--trace]                 one seed, with its configuration block
//   cairn-sim --seeds A..B [--jobs J]            a sweep
//   cairn-sim --count N                          N fresh seeds from a printed random base
//   cairn-sim ... --shard K/N --time-budget S --stop-on-failure --ops N --set key=value
//   cairn-sim ... --jsonl F --junit F --properties-out F --check-determinism
//   cairn-sim --list-keys                        every swarm key, its range and meaning
//   cairn-sim --seed N --pin                     the seed's arguments with every swarm key set
//   cairn-sim --seed N --shrink [--tape-out F]   the smallest tape that fails the same check
//   cairn-sim --replay FILE                      a decision tape (or an engine fuzzer's input)
//   cairn-sim ... --trace-json F --html F        the trace as JSON lines / a page to look at
//   cairn-sim --engine NAME --seeds A..B         another engine (SQLite, LevelDB, ...) through
//                                                the system-under-test harness (sut/)
//   cairn-sim --list-engines                     the configurations --engine takes
//   cairn-sim-canary --canary NAME ...           the same, with one planted bug switched on
//   cairn-sim-canary --list-canaries             the planted bugs (canaries, mutation set)
//
// A failure prints two replay lines: `replay` (the seed, its swarm derived again) and
// `pinned` (every swarm key set: what corpus/sim-regressions.txt keeps).
//
// Exit status: 0 pass, 1 a seed failed, 2 usage or a report that could not be written,
// 3 nondeterminism, 130 / 143 stopped by SIGINT / SIGTERM (reports written, marked partial).
#include <cstdio>
#include <cstdlib>

#include "core/canary.h"
#include "sim/cli.h"
#include "sim/simulation.h"
#include "sim/tape_cli.h"
#include "sim/tape_file.h"

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace {

using namespace cairn;
using namespace cairn::sim;

int list_canaries() {
#if defined(CAIRN_CANARIES)
  for (const PlantedBug& b : planted_bugs()) {
    std::printf("%-36s %-9s %s\n", b.name, b.mutation ? "mutation" : "canary", b.imitates);
  }
#else
  std::printf("this build plants none: use cairn-sim-canary\n");
#endif
  return 0;
}

// The second process of --check-determinism: one seed, its digest, its trace.
int print_digest(const cli::Args& a) {
  std::string error;
  SeedOptions o = cli::options_for(a.seed, a, error);
  // Test hook: make the second process diverge, to prove the check catches it.
  if (std::getenv("CAIRN_SIM_DIVERGE_SECOND_PROCESS") != nullptr) o.events += 1;  // allowed: test hook, never set in use
  const SeedResult r = run_seed(o);
  std::printf("%016llx\n", static_cast<unsigned long long>(r.digest));
  if (!a.trace_out.empty() && !cli::write_trace_file(a.trace_out, r.trace).empty()) return 2;
  return 0;
}

void print_header(const cli::Args& a) {
  std::printf("cairn-sim commit %s%s: %llu seeds (%llu..%llu%s), %llu events each, %u jobs\n", CAIRN_GIT_COMMIT,
              a.canary.empty() ? "" : (" canary " + a.canary).c_str(), static_cast<unsigned long long>(a.total),
              static_cast<unsigned long long>(a.lo), static_cast<unsigned long long>(a.hi),
              a.shard.empty() ? "" : (", shard " + a.shard).c_str(), static_cast<unsigned long long>(a.ops), a.jobs);
  if (a.total == 1) {
    std::string error;
    std::printf("configuration of seed %llu:\n%s", static_cast<unsigned long long>(a.seed_at(0)),
                swarm_of(cli::options_for(a.seed_at(0), a, error)).block().c_str());
  } else {
    std::printf("configuration: derived from each seed (swarm)%s\n", a.sets.empty() ? "" : ", with overrides:");
    for (const std::string& s : a.sets) std::printf("  %s\n", s.c_str());
  }
  std::fflush(stdout);
}

// A replayed tape that records a failure: whether the run failed the same check.
void same_failure(const SeedResult& r, const cli::Args& a) {
  if (!r.passed && failure_check(r.failure) == failure_check(a.replay_failure)) {
    std::printf("the same failure as the tape records\n");
  } else {
    std::printf("NOT the failure the tape records: %s\n", a.replay_failure.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  cli::Args a;
  const int rc = cli::parse(argc, argv, a);
  if (rc >= 0) return rc;
  if (a.list_keys) {
    std::printf("%s", Swarm::key_list().c_str());
    return 0;
  }
  if (a.list_canaries) return list_canaries();
  if (a.list_engines) return cli::list_engines();
  install_property_handler();
  if (a.engine != "cairn") {
    cli::install_stop_signals();
    return cli::engine_command(a, argv[0]);
  }
  if (a.print_digest) return print_digest(a);
  if (a.pin) {  // arguments for corpus/sim-regressions.txt
    for (std::uint64_t i = 0; i < a.total; ++i) {
      const std::string line = cli::pinned_line("", a.seed_at(i), a);
      std::printf("%s\n", line.substr(line.find("--seed")).c_str());
    }
    return 0;
  }
  if (a.shrink) return cli::shrink_command(a, argv[0]);
  print_header(a);
  cli::install_stop_signals();
  double wall = 0;
  const std::vector<SeedResult> ran = cli::sweep(a, wall);
  const cli::Reported reported = cli::report(ran, a, argv[0], wall);
  if (cli::stop_signal() != 0) return 128 + cli::stop_signal();
  if (!reported.reports_written) return 2;
  if (ran.size() == 1 && !a.replay_failure.empty()) same_failure(ran[0], a);
  if (!a.tape_out.empty() && cli::write_run_tape(a, argv[0]) != 0) return 2;
  if (a.check_determinism) {
    const int det = cli::determinism_check(ran, a);
    if (det != 0) return det;
  }
  return reported.passed == ran.size() ? 0 : 1;
}
