// cairn-sim --tape-out and --shrink (sim/tape_cli.h).
#include "sim/tape_cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "sim/shrink.h"
#include "sim/tape_file.h"
#include "simfs/decision_tape.h"

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace cairn::sim::cli {
namespace {

using WallClock = std::chrono::steady_clock;  // allowed: the shrink budget and progress, never the simulated world

// The run of `a` with a tape recording (or replaying) every choice: its result and choices.
SeedResult run_with_tape(const Args& a, std::vector<std::uint64_t>& choices) {
  std::string error;
  SeedOptions o = options_for(a.seed, a, error);
  DecisionTape tape = tape_for(o);
  o.tape = &tape;
  SeedResult r = run_seed(o);
  choices = tape.used();
  while (!choices.empty() && choices.back() == 0) choices.pop_back();
  return r;
}

TapeFile tape_of(const Args& a, std::vector<std::uint64_t> choices, std::uint64_t ops, const std::string& failure) {
  TapeFile t;
  t.seed = a.seed;
  t.ops = ops;
  t.canary = a.canary;
  t.sets = a.sets;
  t.failure = failure;
  t.choices = std::move(choices);
  t.comments.push_back(std::string("commit ") + CAIRN_GIT_COMMIT);
  return t;
}

std::string made_by(const Args& a, const std::string& binary) {
  const std::string line = replay_line(binary, a.seed, a);
  return "made from: " + line.substr(0, line.find("   #"));
}

// Trace lines of one run of a tape (what a person reads).
std::size_t trace_lines(const Args& a, const std::vector<std::uint64_t>& choices, std::uint64_t ops) {
  std::string error;
  SeedOptions o = options_for(a.seed, a, error);
  o.replay_bytes = nullptr;
  o.replay_values = std::make_shared<const std::vector<std::uint64_t>>(choices);
  o.events = ops;
  o.trace = true;
  return run_seed(o).trace.size();
}

void print_progress(const ShrinkProgress& p, double seconds) {
  std::fprintf(stderr, "shrink: %.0fs, %llu runs, %llu kept: %llu events, %zu choices, %llu faults [%s]\n", seconds,
               static_cast<unsigned long long>(p.runs), static_cast<unsigned long long>(p.accepted),
               static_cast<unsigned long long>(p.events), p.choices, static_cast<unsigned long long>(p.faults), p.pass);
}

}  // namespace

int write_run_tape(const Args& a, const std::string& binary) {
  std::vector<std::uint64_t> choices;
  const SeedResult r = run_with_tape(a, choices);
  TapeFile t = tape_of(a, std::move(choices), a.ops, r.failure);
  t.comments.push_back(made_by(a, binary));
  const std::string err = write_whole_file(a.tape_out, tape_text(t));
  if (!err.empty()) {
    std::fprintf(stderr, "cairn-sim: cannot write the tape: %s\n", err.c_str());
    return 2;
  }
  std::printf("tape: %s (%zu choices; replay: %s --replay %s)\n", a.tape_out.c_str(), t.choices.size(), binary.c_str(),
              a.tape_out.c_str());
  return 0;
}

int shrink_command(const Args& a, const std::string& binary) {
  ShrinkOptions so;
  std::string error;
  so.base = options_for(a.seed, a, error);
  so.base.replay_values = nullptr;
  so.base.replay_bytes = nullptr;
  const SeedResult first = run_with_tape(a, so.choices);
  if (first.passed) {
    std::error_code ec;  // the empty file the output check created, when there is one
    if (!a.tape_out.empty() && std::filesystem::file_size(a.tape_out, ec) == 0 && !ec) std::filesystem::remove(a.tape_out, ec);
    std::printf("%s passes: nothing to shrink\n", a.replay.empty() ? fmt::format("seed {}", a.seed).c_str() : a.replay.c_str());
    return 0;
  }
  std::printf("shrinking: %s\n  fails at event %llu with %llu faults, a tape of %zu choices\n", first.failure.c_str(),
              static_cast<unsigned long long>(first.events), static_cast<unsigned long long>(faults_injected(first)),
              so.choices.size());
  std::fflush(stdout);
  const auto start = WallClock::now();
  auto seconds = [start] { return std::chrono::duration<double>(WallClock::now() - start).count(); };
  double last_line = 0;
  so.max_runs = a.shrink_runs;
  so.out_of_budget = [&] { return seconds() >= a.shrink_budget_s; };
  so.progress = [&](const ShrinkProgress& p) {
    if (seconds() - last_line < 2 && std::string(p.pass) != "done") return;
    last_line = seconds();
    print_progress(p, last_line);
  };
  const std::vector<std::uint64_t> given = so.choices;
  const ShrinkResult s = shrink(so);
  const std::size_t lines_before = trace_lines(a, given, a.ops);
  const std::size_t lines_after = trace_lines(a, s.choices, s.events);
  const std::string path = a.tape_out.empty() ? fmt::format("cairn-sim-shrunk-seed-{}.tape", a.seed) : a.tape_out;
  TapeFile t = tape_of(a, s.choices, s.events, s.after.failure);
  t.comments.push_back(made_by(a, binary) + " --shrink");
  t.comments.push_back(fmt::format("shrunk in {} runs: events {} -> {}, faults {} -> {}, trace lines {} -> {}, choices {} -> {}",
                                   s.runs, s.before.events, s.after.events, faults_injected(s.before),
                                   faults_injected(s.after), lines_before, lines_after, given.size(), s.choices.size()));
  const std::string err = write_whole_file(path, tape_text(t));
  if (!err.empty()) {
    std::fprintf(stderr, "cairn-sim: cannot write the shrunk tape: %s\n", err.c_str());
    return 2;
  }
  std::printf("shrunk in %llu runs (%.1fs%s): events %llu -> %llu, faults %llu -> %llu, trace lines %zu -> %zu, choices %zu -> %zu\n",
              static_cast<unsigned long long>(s.runs), seconds(), s.stopped_by_budget ? ", budget reached" : "",
              static_cast<unsigned long long>(s.before.events),
              static_cast<unsigned long long>(s.after.events),
              static_cast<unsigned long long>(faults_injected(s.before)), static_cast<unsigned long long>(faults_injected(s.after)),
              lines_before, lines_after, given.size(), s.choices.size());
  std::printf("  fails the same way: %s\n  tape:   %s\n  replay: %s --replay %s\n", s.after.failure.c_str(), path.c_str(),
              binary.c_str(), path.c_str());
  return 1;
}

}  // namespace cairn::sim::cli
