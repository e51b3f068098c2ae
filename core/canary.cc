#include "core/canary.h"

namespace cairn {

const std::vector<std::string>& canary_names() {
  static const std::vector<std::string> names = {
      "ack-before-fsync",           "no-dir-fsync-on-create",
      "metadata-no-fsync-before-rename", "torn-tail-fatal",
      "mid-log-corruption-truncated",    "zero-frames-accepted",
      "failed-fsync-retried",            "append-after-short-write",
      "index-trusted-over-log",          "checkpoint-hash-unverified"};
  return names;
}

const char* canary_name(Canary c) {
  if (c == Canary::none) return "none";
  return canary_names()[static_cast<std::size_t>(c) - 1].c_str();
}

std::optional<Canary> parse_canary(const std::string& name) {
  const auto& names = canary_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Canary>(i + 1);
  }
  if (name == "none") return Canary::none;
  return std::nullopt;
}

#if defined(CAIRN_CANARIES)
namespace {
// Per thread: a simulated run (one seed) runs on one thread, and sweeps run seeds on
// several threads at once, each with its own canary.
thread_local Canary g_canary = Canary::none;
}
bool canary_on(Canary c) { return g_canary == c; }
void set_canary(Canary c) { g_canary = c; }
#endif

}  // namespace cairn
