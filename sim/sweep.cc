// cairn-sim's sweep: seeds on several threads with progress, the report of what ran, and
// the determinism check in a second process.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/cli.h"
#include "sim/report.h"
#include "sim/tape_file.h"
#include "sim/trace_events.h"
#include "sim/trace_page.h"

namespace cairn::sim::cli {
namespace {

using WallClock = std::chrono::steady_clock;  // allowed: sweep timing and progress, never the simulated world

// The signal that asked the sweep to stop (0: none). Lock-free, so a handler may set it.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

// Writes `text` to `path`; "" or the path and the reason it failed.
std::string write_report(const std::string& path, const std::string& text) {
  const std::string err = write_whole_file(path, text);
  return err.empty() ? err : "cannot write " + err;
}

double seconds_since(WallClock::time_point start) {
  return std::chrono::duration<double>(WallClock::now() - start).count();
}

// Runs the seed in a second process and returns its digest (0 when it could not run).
std::uint64_t digest_in_child(std::uint64_t seed, const Args& a, const std::string& trace_file) {
  std::string cmd = fmt::format("/proc/{}/exe --print-digest", ::getpid());  // allowed: locating our own binary
  if (a.replay.empty()) cmd += fmt::format(" --seed {}", seed);  // a tape names its own seed
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
    faults += faults_injected(r);
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
    const int sig = g_stop_signal.load();
    const std::string why = sig != 0 ? std::string("stopped by ") + signal_name(sig) : "time budget or stop on failure";
    std::printf("%llu seeds not run (%s)\n", static_cast<unsigned long long>(a.total - ran.size()), why.c_str());
  }
}

std::string write_trace(const SeedResult& r, const Args& a) {
  if (!a.trace_out.empty()) return write_trace_file(a.trace_out, r.trace);
  std::printf("\ntrace of seed %llu:\n", static_cast<unsigned long long>(r.seed));
  for (const std::string& l : r.trace) std::printf("  %s\n", l.c_str());
  return {};
}

// The --trace-json and --html views of a traced run, to the given paths ("" skips one).
std::string write_views(const SeedResult& r, const Args& a, const std::string& binary, const std::string& json_path,
                        const std::string& html_path) {
  const std::vector<TraceEvent> events = trace_events(r);
  if (!json_path.empty()) {
    const std::string err = write_report(json_path, trace_json_lines(events));
    if (!err.empty()) return err;
  }
  if (html_path.empty()) return {};
  PageInfo info;
  info.title = fmt::format("cairn-sim {}{}", a.replay.empty() ? fmt::format("seed {}", r.seed) : a.replay,
                           a.canary.empty() ? "" : " (canary " + a.canary + ")");
  const std::string line = replay_line(binary, r.seed, a);
  info.replay = line.substr(0, line.find("   #"));
  info.failure = r.failure;
  return write_report(html_path, trace_page(events, info));
}

// A sweep's failing seed, run again with its trace on, into seed-N.trace / .jsonl / .html
// in the folders --trace-out, --trace-json and --html name.
std::string trace_failure(const SeedResult& r, const Args& a, const std::string& binary) {
  std::string error;
  SeedOptions o = options_for(r.seed, a, error);
  o.trace = true;
  const SeedResult again = run_seed(o);
  auto in = [&r](const std::string& dir, const char* ext) {
    return dir.empty() ? std::string() : fmt::format("{}/seed-{}.{}", dir, r.seed, ext);
  };
  const std::string trace_path = in(a.trace_out, "trace");
  if (!trace_path.empty()) {
    const std::string err = write_trace_file(trace_path, again.trace);
    if (!err.empty()) return err;
  }
  const std::string err = write_views(again, a, binary, in(a.trace_json, "jsonl"), in(a.html, "html"));
  if (!err.empty()) return err;
  for (const std::string& p : {trace_path, in(a.trace_json, "jsonl"), in(a.html, "html")}) {
    if (!p.empty()) std::printf("  trace:  %s%s\n", p.c_str(), again.digest == r.digest ? "" : " (NONDETERMINISM: another digest)");
  }
  return {};
}

}  // namespace

std::string write_trace_file(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + '\n';
  return write_report(path, text);
}

void install_stop_signals() {
  struct sigaction act {};
  act.sa_handler = on_stop_signal;
  act.sa_flags = SA_RESETHAND;  // a second signal ends the process at once
  ::sigemptyset(&act.sa_mask);
  ::sigaction(SIGINT, &act, nullptr);
  ::sigaction(SIGTERM, &act, nullptr);
}

int stop_signal() { return g_stop_signal.load(); }

std::string check_output_path(const std::string& path) {
  if (path.empty()) return {};
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("cannot write {}: {}", path, std::strerror(errno));
  ::close(fd);
  return {};
}

std::string check_output_dir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fmt::format("cannot create directory {}: {}", path, ec.message());
  if (!std::filesystem::is_directory(path, ec)) return fmt::format("{} is not a directory", path);
  const std::string probe = path + "/.cairn-sim-write-check";
  std::string err = check_output_path(probe);
  ::unlink(probe.c_str());
  return err;
}

void for_each_seed(const Args& a, double& wall_seconds, const std::function<bool(std::uint64_t)>& run_index) {
  std::atomic<std::uint64_t> next{0}, finished{0}, failed{0};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> running{a.jobs};
  const auto start = WallClock::now();
  auto worker = [&] {
    for (;;) {
      if (stop.load() || g_stop_signal.load() != 0) break;
      if (a.time_budget_s > 0 && seconds_since(start) > a.time_budget_s) break;
      const std::uint64_t i = next.fetch_add(1);
      if (i >= a.total) break;
      if (!run_index(i)) {
        failed.fetch_add(1);
        if (a.stop_on_failure) stop = true;
      }
      finished.fetch_add(1);
    }
    running.fetch_sub(1);
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < a.jobs; ++j) threads.emplace_back(worker);
  const bool tty = ::isatty(2) != 0;
  double next_line_s = a.progress_every_s;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(tty ? 200 : 50));  // allowed: progress display
    const double elapsed = seconds_since(start);
    const bool line_due = !tty && a.progress_every_s > 0 && elapsed >= next_line_s;
    if (!tty && !line_due) continue;
    if (line_due) next_line_s = elapsed + a.progress_every_s;
    std::fprintf(stderr, "%s[%llu/%llu] %.1f seeds/s, %llu failed, %.0fs%s", tty ? "\r" : "cairn-sim: ",
                 static_cast<unsigned long long>(finished.load()), static_cast<unsigned long long>(a.total),
                 static_cast<double>(finished.load()) / std::max(elapsed, 1e-9),
                 static_cast<unsigned long long>(failed.load()), elapsed, tty ? " " : "\n");
  }
  for (std::thread& t : threads) t.join();
  if (tty) std::fprintf(stderr, "\r\033[K");
  wall_seconds = seconds_since(start);
}

std::vector<SeedResult> sweep(const Args& a, double& wall_seconds) {
  std::map<std::uint64_t, SeedResult> results;  // by index: only the seeds that ran
  std::mutex results_mutex;
  for_each_seed(a, wall_seconds, [&](std::uint64_t i) {
    std::string err;
    SeedResult r = run_seed(options_for(a.seed_at(i), a, err));
    const bool passed = r.passed;
    std::lock_guard lock(results_mutex);
    results.emplace(i, std::move(r));
    return passed;
  });
  std::vector<SeedResult> ran;
  for (auto& [i, r] : results) ran.push_back(std::move(r));
  return ran;
}

namespace {

// The --jsonl, --junit and --properties-out reports; a run cut short is marked partial
// in each. Returns false (after saying why) when one could not be written.
bool write_reports(const std::vector<SeedResult>& ran, const Args& a, const std::vector<std::string>& replays,
                   double wall) {
  const bool partial = ran.size() < a.total;
  std::vector<std::string> errors;
  if (!a.jsonl.empty()) {
    std::string text;
    for (std::size_t i = 0; i < ran.size(); ++i) text += result_json(ran[i], replays[i]) + '\n';
    if (partial) text += partial_json(ran.size(), a.total, stop_signal()) + '\n';
    errors.push_back(write_report(a.jsonl, text));
  }
  if (!a.junit.empty()) errors.push_back(write_report(a.junit, junit_xml(ran, wall, replays, partial)));
  if (!a.properties_out.empty()) {
    errors.push_back(props::write_jsonl_file(props::global_catalog(), a.properties_out, partial));
  }
  bool ok = true;
  for (const std::string& e : errors) {
    if (e.empty()) continue;
    std::fprintf(stderr, "cairn-sim: %s\n", e.c_str());
    ok = false;
  }
  return ok;
}

}  // namespace

Reported report(const std::vector<SeedResult>& ran, const Args& a, const std::string& binary, double wall) {
  std::vector<std::string> replays;
  Reported out;
  for (const SeedResult& r : ran) {
    replays.push_back(replay_line(binary, r.seed, a));
    if (r.passed) {
      ++out.passed;
      continue;
    }
    std::printf("\nFAILED seed %llu (digest %016llx): %s\n  replay: %s\n  pinned: %s\n",
                static_cast<unsigned long long>(r.seed), static_cast<unsigned long long>(r.digest), r.failure.c_str(),
                replays.back().c_str(), pinned_line(binary, r.seed, a).c_str());
    if (ran.size() > 1 && !(a.trace_out.empty() && a.trace_json.empty() && a.html.empty())) {
      const std::string err = trace_failure(r, a, binary);
      if (!err.empty()) std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
      out.reports_written = out.reports_written && err.empty();
    }
  }
  if (ran.size() == 1 && (a.trace || !a.trace_out.empty())) {
    const std::string err = write_trace(ran[0], a);
    if (!err.empty()) std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
    out.reports_written = err.empty();
  }
  if (ran.size() == 1 && !(a.trace_json.empty() && a.html.empty())) {
    const std::string err = write_views(ran[0], a, binary, a.trace_json, a.html);
    if (!err.empty()) std::fprintf(stderr, "cairn-sim: %s\n", err.c_str());
    out.reports_written = out.reports_written && err.empty();
  }
  out.reports_written = write_reports(ran, a, replays, wall) && out.reports_written;
  print_summary(ran, a, wall);
  std::printf("%zu passed, %zu failed\n", out.passed, ran.size() - out.passed);
  std::fflush(stdout);
  return out;
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
