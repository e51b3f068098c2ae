// A decision tape on disk (private to sim/): what `cairn-sim --replay FILE` runs and
// `--shrink` / `--tape-out` write. A text file:
//
//   cairn-sim tape 1
//   # free comment lines: the commit, the command that made it, shrink figures
//   seed 3
//   ops 52
//   canary always-no-fsync          (only for cairn-sim-canary)
//   set key=value                   (zero or more: applied after the swarm is drawn)
//   failure <text>                  (the failure the tape shows, if it shows one)
//   choices 17
//   0 1 0 913 ...                   (the values, whitespace-separated)
//
// The seed names the run (it is in the trace, so the digest of a seed's recorded tape
// equals the seed's); every choice comes from the values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn::sim {

inline constexpr const char* kTapeMagic = "cairn-sim tape 1";
// A fuzzer's input (fuzz/engine.cc) runs seed 0 for this many actor events.
inline constexpr std::uint64_t kFuzzInputOps = 150;

struct TapeFile {
  std::vector<std::string> comments;  // without the leading "# "
  std::uint64_t seed = 0;
  std::uint64_t ops = 400;
  std::string canary;                 // "" when none
  std::vector<std::string> sets;      // key=value
  std::string failure;                // "" when the tape records none
  std::vector<std::uint64_t> choices;
};

// The text of a tape file.
std::string tape_text(const TapeFile& t);
// Parses a tape file's text. "" on success, else the line number and what is wrong. Never
// allocates by a count read from the text (the values are read, then counted).
std::string parse_tape(const std::string& text, TapeFile& out);
// Whether `text` starts like a tape file (else it may be raw fuzzer bytes).
bool looks_like_tape(const std::string& text);

// Reads a whole file (up to `max_bytes`). "" or the path and the reason.
std::string read_whole_file(const std::string& path, std::string& out, std::size_t max_bytes = 256u << 20);
// Writes a whole file. "" or the path and the reason.
std::string write_whole_file(const std::string& path, const std::string& text);

// What identifies "the same failure": the failure text with every number and hex run
// replaced by '#' (offsets, sizes, paths and digests vary; the check and its wording do
// not). Two failures are the same when their checks are equal.
std::string failure_check(const std::string& failure);

}  // namespace cairn::sim
