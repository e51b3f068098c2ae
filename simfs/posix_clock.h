// The real clock: microseconds since the Unix epoch (CLOCK_REALTIME).
#pragma once

#include "simfs/clock.h"

namespace cairn {

class SystemClock final : public Clock {
 public:
  std::uint64_t now_us() override;
};

}  // namespace cairn
