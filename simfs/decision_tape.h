// The decision tape: every choice a simulated run makes, as a sequence of bounded
// integers in which 0 is the simplest choice (no fault, the smallest size, the first
// option). A Prng with a tape attached (simfs/prng.h) draws through it.
//
// The idea, and the order that makes shrinking work (a tape is simpler when it is shorter,
// then when it is smaller lexicographically), are Hypothesis's: D. R. MacIver and
// A. F. Donaldson, "Test-Case Reduction via Test-Case Generation: Insights from the
// Hypothesis Reducer", ECOOP 2020. This is our own code.
//
// Three modes:
//   recording  every choice is the value the seeded PRNG drew; the tape keeps it, so a
//              seed run with a recording tape is the same run as without one.
//   replaying  choices come from a list of values; a value above a choice's largest is
//              clamped to the largest; past the end of the list every choice is 0.
//   bytes      choices are read from raw bytes (a fuzzer's input): 1, 2, 4 or 8 bytes
//              little-endian per choice by the size of its range, reduced modulo the
//              range; past the end of the bytes every choice is 0.
// In every mode the tape keeps the values it handed out (`used`), with each one's range,
// and marks spans (a run's events), which is all a shrinker needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn {

class DecisionTape {
 public:
  enum class Mode : std::uint8_t { recording, replaying, bytes };

  // A labelled run of choices [begin, end) (indices into used()).
  struct Span {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string label;
  };

  static DecisionTape recording() { return DecisionTape(Mode::recording); }
  static DecisionTape replaying(std::vector<std::uint64_t> values);
  static DecisionTape from_bytes(const std::uint8_t* data, std::size_t size);

  // One choice in [0, n), or the whole 64-bit range when n == 0. `drawn` is the value the
  // seeded PRNG produced (used when recording, ignored otherwise). Returns the choice.
  std::uint64_t choose(std::uint64_t n, std::uint64_t drawn);

  // A chance of ppm in 1,000,000, stored so that 0 is "no": the value kept is 0 for no and
  // 1,000,000 - ppm (the smallest value meaning yes) for yes, whatever was drawn, so two
  // tapes with the same outcomes are the same tape. Recording: `drawn` is the outcome the
  // PRNG gave. Replaying and bytes: yes when the value is at least 1,000,000 - ppm.
  // REQUIRES: 0 < ppm.
  bool chance(std::uint32_t ppm, bool drawn);

  // Spans: begin_span returns the span's index; end_span closes it at the current choice.
  std::size_t begin_span(std::string label);
  void end_span(std::size_t index);

  const std::vector<std::uint64_t>& used() const { return used_; }
  // The range of each used choice (0: the whole 64-bit range).
  const std::vector<std::uint64_t>& bounds() const { return bounds_; }
  const std::vector<Span>& spans() const { return spans_; }
  // Choices read past the end of the replayed values or bytes (each was 0).
  std::size_t overrun() const { return overrun_; }

 private:
  explicit DecisionTape(Mode m) : mode_(m) {}
  std::uint64_t next_replayed(std::uint64_t n);
  std::uint64_t next_from_bytes(std::uint64_t n);

  Mode mode_;
  std::vector<std::uint64_t> source_;  // replaying
  std::vector<std::uint8_t> bytes_;    // bytes
  std::size_t cursor_ = 0;
  std::size_t overrun_ = 0;
  std::vector<std::uint64_t> used_;
  std::vector<std::uint64_t> bounds_;
  std::vector<Span> spans_;
};

}  // namespace cairn
