#include "sim/engine_isolate.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cairn::sut {
// One field list for both directions of the child's result (nlohmann's to_json/from_json).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EngineSeedResult, seed, passed, failure, lost_acknowledged, damage_detected,
                                   lost_to_damage, digest, events, commits_attempted, commits_acknowledged, crashes,
                                   kills, opens, fs_ops, sim_time_us, families, faults, trace)
}  // namespace cairn::sut

namespace cairn::sim::cli {
namespace {

using nlohmann::json;

// The child's line back into a result; false when it is not one (a child cut short).
bool from_json_text(const std::string& text, sut::EngineSeedResult& r) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return false;
  try {
    j.get_to(r);
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::uint64_t seed = 0;
};

// Forks a child that runs `seed` and writes its result to a pipe. pid -1 when fork failed.
Child spawn(std::uint64_t seed, const std::function<sut::EngineSeedResult(std::uint64_t)>& run) {
  int fds[2];
  if (::pipe(fds) != 0) return Child{-1, -1, seed};
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string text = json(run(seed)).dump();
    for (std::size_t at = 0; at < text.size();) {
      const ssize_t n = ::write(fds[1], text.data() + at, text.size() - at);
      if (n <= 0) ::_exit(3);
      at += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return Child{-1, -1, seed};
  }
  return Child{pid, fds[0], seed};
}

// Reads the child's result to EOF and reaps it.
sut::EngineSeedResult collect(const Child& c) {
  std::string text;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(c.fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(c.fd);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  sut::EngineSeedResult r;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && from_json_text(text, r)) return r;
  r.seed = c.seed;
  r.passed = false;
  r.failure = WIFSIGNALED(status)
                  ? fmt::format("the engine's process died: signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)))
                  : fmt::format("the engine's process exited with status {}", WEXITSTATUS(status));
  return r;
}

}  // namespace

std::vector<sut::EngineSeedResult> run_isolated(const Args& a, double& wall_seconds,
                                                const std::function<sut::EngineSeedResult(std::uint64_t)>& run) {
  const auto start = std::chrono::steady_clock::now();  // allowed: the sweep's elapsed time, never a seed's input
  std::vector<sut::EngineSeedResult> out;
  std::deque<Child> running;
  std::uint64_t next = 0;
  bool stop = false;
  while (!running.empty() || (next < a.total && !stop)) {
    while (running.size() < a.jobs && next < a.total && !stop && stop_signal() == 0) {
      const Child c = spawn(a.seed_at(next++), run);
      if (c.pid < 0) {
        sut::EngineSeedResult r;
        r.seed = c.seed;
        r.passed = false;
        r.failure = fmt::format("could not start a process for the seed: {}", std::strerror(errno));
        out.push_back(std::move(r));
        continue;
      }
      running.push_back(c);
    }
    if (running.empty()) break;
    out.push_back(collect(running.front()));
    running.pop_front();
    stop = stop || stop_signal() != 0 || (a.stop_on_failure && !out.back().passed);
  }
  wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();  // allowed: elapsed time for the report
  return out;
}

}  // namespace cairn::sim::cli
