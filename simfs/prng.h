// The deterministic PRNG of the simulated world: xoshiro256** (Blackman & Vigna, 2018),
// seeded through SplitMix64. Its own range reduction (Lemire's multiply-shift with
// rejection) replaces std::uniform_int_distribution (named, never used: allowed),
// whose output differs between standard libraries. Probabilities are integers in parts
// per million, never doubles.
#pragma once

#include <cstdint>

namespace cairn {

__extension__ typedef unsigned __int128 PrngU128;  // GCC/Clang extension, for Lemire's method

class Prng {
 public:
  explicit Prng(std::uint64_t seed) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (std::uint64_t& word : s_) word = splitmix64(x);
  }

  std::uint64_t next_u64() {
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

  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) {
    // Lemire, "Fast Random Integer Generation in an Interval" (2019).
    PrngU128 m = static_cast<PrngU128>(next_u64()) * n;
    std::uint64_t low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<PrngU128>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) {
    if (hi - lo == UINT64_MAX) return next_u64();
    return lo + below(hi - lo + 1);
  }

  // True with probability ppm / 1,000,000.
  bool chance_ppm(std::uint32_t ppm) { return ppm > 0 && below(1'000'000) < ppm; }
  bool coin() { return (next_u64() >> 63) != 0; }

  // An independent generator derived from this one (for a sub-system's own stream).
  Prng fork() { return Prng(next_u64()); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4]{};
};

}  // namespace cairn
