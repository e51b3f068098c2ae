// cairn-sim's arguments: parsing, the seed range and shard, and the replay lines.
#include "sim/cli.h"

#include <cstdio>
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/canary.h"
#include "core/cli/numbers.h"
#include "sim/tape_file.h"
#if defined(CAIRN_WITH_ENGINES)
#include "engines/registry.h"
#endif

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace cairn::sim::cli {
namespace {

using cairn::cli::unsigned_number;

int usage(const std::string& why) {
  const bool names_help = why.find("--list-") != std::string::npos;
  std::fprintf(stderr, "cairn-sim: %s%s\n", why.c_str(), names_help ? "" : " (see --help)");
  return 2;
}

bool parse_range(const std::string& text, std::uint64_t& a, std::uint64_t& b) {
  auto dots = text.find("..");
  if (dots == std::string::npos || text.find('-') != std::string::npos) return false;
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

const CLI::Validator kSeedNumber = unsigned_number();

void add_options(CLI::App& app, Args& a) {
  app.add_option("--seed", a.seed, "run one seed")->check(kSeedNumber);
  app.add_option("--seeds", a.seeds, "run seeds A..B (inclusive)");
  app.add_option("--count", a.count, "run N fresh seeds from a random base (printed)")
      ->check(kSeedNumber)
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  app.add_option("--jobs", a.jobs, "seeds run in parallel")->check(CLI::Range(1u, 256u));
  app.add_option("--shard", a.shard, "run only shard K of N (K in 0..N-1), e.g. 3/8");
  app.add_option("--time-budget", a.time_budget_s, "stop starting seeds after this many seconds")
      ->check(CLI::Range(1e-3, 1e9));
  app.add_flag("--stop-on-failure", a.stop_on_failure, "stop starting seeds after the first failure");
  app.add_option("--ops", a.ops, "scheduled actor events per seed (workload length)")
      ->check(kSeedNumber)
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  app.add_option("--progress-every", a.progress_every_s,
                 "seconds between progress lines when stderr is not a terminal (0: none)")
      ->check(CLI::Range(0.0, 1e6));
  app.add_flag("--trace", a.trace, "print the readable event trace (single seed)");
  app.add_option("--trace-out", a.trace_out,
                 "write the event trace of a single seed to a file; on a sweep, a directory that gets seed-N.trace per failing seed");
  app.add_option("--jsonl", a.jsonl, "write one JSON line per seed");
  app.add_option("--junit", a.junit, "write a JUnit XML report");
  app.add_option("--properties-out", a.properties_out, "write the property report (Antithesis JSONL)");
  app.add_flag("--check-determinism", a.check_determinism, "rerun every seed in a second process");
  app.add_option("--canary", a.canary, "switch on one planted bug (cairn-sim-canary only)");
  app.add_flag("--list-canaries", a.list_canaries, "list the planted bugs: canaries and the mutation set");
  app.add_flag("--list-keys", a.list_keys, "list every swarm key with its range and meaning");
  app.add_option("--set", a.sets, "override a swarm value: key=value (repeatable)");
  app.add_flag("--print-digest", a.print_digest, "print only the trace digest (used by --check-determinism)");
  app.add_flag("--pin", a.pin, "print each seed's pinned arguments (every swarm key set) and exit");
  app.add_option("--replay", a.replay, "run a decision tape file (or an engine fuzzer's input) instead of a seed");
  app.add_option("--tape-out", a.tape_out, "write the decision tape of a single seed's run (with --shrink: the shrunk tape)");
  app.add_flag("--shrink", a.shrink, "minimize a failing --seed or --replay tape while the same check fails");
  app.add_option("--shrink-budget", a.shrink_budget_s, "seconds --shrink may take (default 120)")->check(CLI::Range(0.1, 1e6));
  app.add_option("--shrink-runs", a.shrink_runs, "runs --shrink may take (0: no limit; deterministic)")->check(kSeedNumber);
  app.add_option("--trace-json", a.trace_json, "write the trace as JSON lines, one object per event (a folder on a sweep)");
  app.add_option("--html", a.html, "write a self-contained HTML timeline of the run (a folder on a sweep)");
  app.add_option("--engine", a.engine, "the engine under test: cairn (default: the full world) or one of --list-engines");
  app.add_flag("--list-engines", a.list_engines, "list the engine configurations --engine takes");
  app.add_flag("--expect-loss", a.expect_loss, "with --engine: pass only if some seed loses acknowledged data");
  app.add_flag("--posix-fs", a.posix_fs,
               "with --engine: only what POSIX promises (directory entries reverted one by one unless synced, stale extensions)");
  app.add_flag("--isolate", a.isolate,
               "with --engine: run each seed in a child process, so an engine that aborts fails its seed, not the sweep");
  app.set_version_flag("--version", std::string("cairn-sim commit ") + CAIRN_GIT_COMMIT);
}

// --trace and the output files: one seed for a trace, every path writable before a seed runs.
// On a sweep, --trace-out names a directory that gets one trace per failing seed.
int check_outputs(const Args& a) {
  if (a.trace && a.total != 1) {
    return usage("--trace prints one seed's events: give --seed N, or --trace-out DIR on a sweep for a trace per failing seed");
  }
  if ((!a.tape_out.empty() || a.shrink) && a.total != 1) return usage("--tape-out and --shrink take one seed (--seed N) or --replay FILE");
  std::vector<const std::string*> files = {&a.jsonl, &a.junit, &a.properties_out, &a.tape_out};
  for (const std::string* p : {&a.trace_out, &a.trace_json, &a.html}) {
    if (a.total == 1 || p->empty()) {
      files.push_back(p);
      continue;
    }
    const std::string err = check_output_dir(*p);  // a sweep: one file per failing seed in the folder
    if (!err.empty()) {
      std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
      return 2;
    }
  }
  for (const std::string* p : files) {
    const std::string err = check_output_path(*p);
    if (!err.empty()) {
      std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
      return 2;
    }
  }
  return -1;
}

// The seed range of this run: --seed, --seeds, --count, then --shard.
int seed_range(Args& a) {
  const int modes = (a.seed_given ? 1 : 0) + (a.seeds.empty() ? 0 : 1) + (a.count > 0 ? 1 : 0);
  if (modes > 1) return usage("give only one of --seed, --seeds, --count");
  if (a.seed_given) a.lo = a.hi = a.seed;
  if (!a.seeds.empty() && !parse_range(a.seeds, a.lo, a.hi)) return usage("--seeds takes A..B, not '" + a.seeds + "'");
  if (a.count > 0) {
    std::random_device rd;  // allowed: choosing a fresh base seed, printed for replay
    a.lo = ((static_cast<std::uint64_t>(rd()) << 32) ^ rd()) % (UINT64_MAX - a.count);
    a.hi = a.lo + a.count - 1;
    std::printf("fresh seeds: base %llu (rerun with --seeds %llu..%llu)\n", static_cast<unsigned long long>(a.lo),
                static_cast<unsigned long long>(a.lo), static_cast<unsigned long long>(a.hi));
  }
  if (!a.shard.empty()) {
    const auto slash = a.shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      a.shard_k = std::stoull(a.shard.substr(0, slash));
      a.shard_n = std::stoull(a.shard.substr(slash + 1));
    } catch (...) {
      return usage("--shard takes K/N, not '" + a.shard + "'");
    }
    if (a.shard_n == 0 || a.shard_k >= a.shard_n) return usage("--shard K/N needs 0 <= K < N");
  }
  if (a.hi - a.lo < a.shard_k) return usage("the shard holds no seeds of this range");
  a.total = (a.hi - a.lo - a.shard_k) / a.shard_n + 1;
  return -1;
}

// --replay FILE: a tape file sets the seed, --ops, --set and --canary; any other file is
// an engine fuzzer's input (seed 0, kFuzzInputOps events unless --ops).
int load_replay(const CLI::App& app, Args& a) {
  if (a.seed_given || !a.seeds.empty() || a.count > 0) return usage("--replay runs its tape: give no --seed, --seeds or --count");
  std::string text;
  const std::string err = read_whole_file(a.replay, text);
  if (!err.empty()) return usage("--replay: " + err);
  a.seed_given = true;
  if (!looks_like_tape(text)) {
    a.seed = 0;
    if (app.count("--ops") == 0) a.ops = kFuzzInputOps;
    a.replay_bytes = std::make_shared<const std::string>(std::move(text));
    return -1;
  }
  if (app.count("--ops") + app.count("--set") + app.count("--canary") > 0) {
    return usage("--replay: the tape holds its ops, sets and canary (edit the tape to change them)");
  }
  TapeFile t;
  const std::string why = parse_tape(text, t);
  if (!why.empty()) return usage("--replay " + a.replay + ": " + why);
  a.seed = t.seed;
  a.ops = t.ops;
  a.sets = t.sets;
  a.canary = t.canary;
  a.replay_failure = t.failure;
  a.replay_values = std::make_shared<const std::vector<std::uint64_t>>(std::move(t.choices));
  return -1;
}

// --engine NAME (not cairn): a known configuration, and only the options its runs use.
int check_engine(const CLI::App& app, Args& a) {
  if (a.engine == "cairn") {
    return a.expect_loss || a.posix_fs || a.isolate ? usage("--expect-loss, --posix-fs and --isolate go with --engine NAME")
                                                    : -1;
  }
#if defined(CAIRN_WITH_ENGINES)
  if (engines::find(a.engine) == nullptr) return usage("unknown engine '" + a.engine + "' (see --list-engines)");
#else
  return usage("this build runs only cairn's own engine; --engine " + a.engine + " is in cairn-sim");
#endif
  for (const char* name : {"--set", "--canary", "--replay", "--tape-out", "--shrink", "--trace-json", "--html",
                           "--junit", "--pin"}) {
    if (app.count(name) > 0) return usage(std::string(name) + " applies to cairn's own engine, not --engine " + a.engine);
  }
  if (a.isolate && !a.properties_out.empty()) {
    return usage("--properties-out needs the seeds in this process (the coverage is counted here), not --isolate");
  }
  if (app.count("--ops") == 0) a.ops = kEngineEvents;
  return -1;
}

}  // namespace

int parse(int argc, char** argv, Args& a) {
  CLI::App app{"cairn-sim: deterministic simulation of the cairn storage core under faults"};
  add_options(app, a);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  a.seed_given = app.count("--seed") > 0;
  if (a.list_engines) return -1;
  if (const int rc = check_engine(app, a); rc >= 0) return rc;
  if (!a.replay.empty()) {
    const int rc = load_replay(app, a);
    if (rc >= 0) return rc;
  }
#if defined(CAIRN_CANARIES)
  const bool canary_build = true;
#else
  const bool canary_build = false;
#endif
  if (!a.canary.empty()) {
    if (!canary_build) return usage("this build has no canaries; use cairn-sim-canary");
    if (!parse_canary(a.canary) || a.canary == "none") return usage("unknown canary '" + a.canary + "' (see --list-canaries)");
  }
  if (a.list_keys || a.list_canaries) return -1;
  int rc = seed_range(a);
  if (rc >= 0) return rc;
  rc = check_outputs(a);
  if (rc >= 0) return rc;
  if (a.engine != "cairn") return -1;
  std::string error;
  (void)options_for(a.lo, a, error);
  return error.empty() ? -1 : usage(error);
}

SeedOptions options_for(std::uint64_t seed, const Args& a, std::string& error) {
  SeedOptions o;
  o.seed = seed;
  o.swarm = Swarm::from_seed(seed);
  o.events = a.ops;
  const bool traced_output = !a.trace_out.empty() || !a.trace_json.empty() || !a.html.empty();
  o.trace = a.trace || (traced_output && a.total == 1);  // a sweep traces its failures afterwards
  for (const std::string& s : a.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      error = "--set takes key=value, not '" + s + "'";
      return o;
    }
    error = o.swarm.set(s.substr(0, eq), s.substr(eq + 1));
    if (!error.empty()) return o;
  }
  if (!a.canary.empty()) o.canary = parse_canary(a.canary).value_or(Canary::none);
  o.overrides = a.sets;
  o.replay_values = a.replay_values;
  o.replay_bytes = a.replay_bytes;
  return o;
}

std::vector<std::string> replay_flags(const Args& a) {
  std::vector<std::string> out;
  if (!a.replay.empty()) {  // the tape holds the rest (a fuzzer's input: --ops)
    out.push_back("--replay " + a.replay);
    if (a.replay_bytes && a.ops != kFuzzInputOps) out.push_back(fmt::format("--ops {}", a.ops));
    return out;
  }
  if (a.ops != 400) out.push_back(fmt::format("--ops {}", a.ops));
  for (const std::string& s : a.sets) out.push_back("--set " + s);
  if (!a.canary.empty()) out.push_back("--canary " + a.canary);
  return out;
}

std::string replay_line(const std::string& binary, std::uint64_t seed, const Args& a) {
  std::string line = a.replay.empty() ? fmt::format("{} --seed {}", binary, seed) : binary;
  for (const std::string& f : replay_flags(a)) line += " " + f;
  return line + "   # commit " CAIRN_GIT_COMMIT "; add --trace for the event trace";
}

std::string pinned_line(const std::string& binary, std::uint64_t seed, const Args& a) {
  if (!a.replay.empty()) return binary + " --replay " + a.replay + "   # a tape pins every choice";
  std::string error;
  const SeedOptions o = options_for(seed, a, error);
  std::string line = fmt::format("{} --seed {}", binary, seed);
  if (a.ops != 400) line += fmt::format(" --ops {}", a.ops);
  for (const auto& [key, value] : o.swarm.fields()) line += fmt::format(" --set {}={}", key, value);
  if (!a.canary.empty()) line += " --canary " + a.canary;
  return line;
}

}  // namespace cairn::sim::cli
