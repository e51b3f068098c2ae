// Time as the core sees it: microseconds from an injected Clock. The core never reads
// the wall clock itself. SystemClock (simfs/posix_clock.h) is the real one; ManualClock
// is moved by its owner (tests, the simulator, SimFileSystem latency).
#pragma once

#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since an epoch chosen by the implementation.
  virtual std::uint64_t now_us() = 0;
};

// A clock that only moves when told to. Deterministic.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::uint64_t start_us = 0) : now_us_(start_us) {}
  std::uint64_t now_us() override { return now_us_; }
  void advance_us(std::uint64_t delta_us) { now_us_ += delta_us; }
  void set_us(std::uint64_t t_us) { now_us_ = t_us; }

 private:
  std::uint64_t now_us_;
};

}  // namespace cairn
