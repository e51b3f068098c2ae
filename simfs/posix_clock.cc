#include "simfs/posix_clock.h"

#include <chrono>

namespace cairn {

std::uint64_t SystemClock::now_us() {
  auto now = std::chrono::system_clock::now().time_since_epoch();  // allowed: the real clock
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

}  // namespace cairn
