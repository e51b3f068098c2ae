// The deterministic PRNG of the simulated world: xoshiro256** (Blackman & Vigna, 2018),
// seeded through SplitMix64. Its own range reduction (Lemire's multiply-shift with
// rejection) replaces std::uniform_int_distribution (named, never used: allowed),
// whose output differs between standard libraries. Probabilities are integers in parts
// per million, never doubles.
//
// With a DecisionTape attached (attach()), every draw goes through the tape: recording
// keeps what the generator drew (the run is unchanged), replaying hands out the tape's
// values instead. Each draw's tape value is ordered so that 0 is the simplest choice: a
// chance_ppm draw is stored as 0 for "no" (DecisionTape::chance).
#pragma once

#include <cstdint>

#include "simfs/decision_tape.h"

namespace cairn {

__extension__ typedef unsigned __int128 PrngU128;  // GCC/Clang extension, for Lemire's method

class Prng {
 public:
  explicit Prng(std::uint64_t seed) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (std::uint64_t& word : s_) word = splitmix64(x);
  }

  // The tape every draw goes through from now on (nullptr: none). Not owned.
  void attach(DecisionTape* tape) { tape_ = tape; }
  DecisionTape* tape() const { return tape_; }

  std::uint64_t next_u64() {
    const std::uint64_t v = raw_u64();
    return tape_ != nullptr ? tape_->choose(0, v) : v;
  }

  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t v = raw_below(n);
    return tape_ != nullptr ? tape_->choose(n, v) : v;
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) {
    if (hi - lo == UINT64_MAX) return next_u64();
    return lo + below(hi - lo + 1);
  }

  // True with probability ppm / 1,000,000 (no draw when ppm is 0).
  bool chance_ppm(std::uint32_t ppm) {
    if (ppm == 0) return false;
    const bool drawn = raw_below(1'000'000) < ppm;
    return tape_ != nullptr ? tape_->chance(ppm, drawn) : drawn;
  }
  bool coin() {
    const std::uint64_t v = raw_u64() >> 63;
    return (tape_ != nullptr ? tape_->choose(2, v) : v) != 0;
  }

  // An independent generator derived from this one (for a sub-system's own stream); it
  // draws through the same tape.
  Prng fork() {
    Prng f(next_u64());
    f.tape_ = tape_;
    return f;
  }

 private:
  std::uint64_t raw_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  std::uint64_t raw_below(std::uint64_t n) {
    // Lemire, "Fast Random Integer Generation in an Interval" (2019).
    PrngU128 m = static_cast<PrngU128>(raw_u64()) * n;
    std::uint64_t low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<PrngU128>(raw_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4]{};
  DecisionTape* tape_ = nullptr;
};

}  // namespace cairn
