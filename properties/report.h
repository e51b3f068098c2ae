// Merging property reports: combines the JSONL files of many runs and shards (as written
// by write_jsonl) into one report, and decides whether the campaign passed.
//
// A property passes the merged report when:
//   ALWAYS                 hit in some run and never false;
//   ALWAYS_OR_UNREACHABLE  never false;
//   NEVER                  never true;
//   SOMETIMES              true in at least one run;
//   REACHABLE              hit in at least one run;
//   UNREACHABLE            never hit.
// A must-hit property (ALWAYS, SOMETIMES, REACHABLE) that no run hit (or, for SOMETIMES,
// made true) is "never-hit" and fails the report, unless its id, message or file:line
// is listed in the rare list, in which case its status is "rare".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::props {

struct MergedProperty {
  std::string id;
  std::string message;
  std::string file;
  unsigned line = 0;
  std::string kind;          // "ALWAYS", "SOMETIMES", ...
  std::string assert_type;   // Antithesis assert_type
  std::string display_type;  // Antithesis display_type
  bool must_hit = false;
  std::uint64_t evaluations = 0;
  std::uint64_t true_count = 0;
  std::uint64_t false_count = 0;
  std::uint64_t runs_hit = 0;    // input files in which it was evaluated at least once
  std::string status;            // "passed", "failed", "never-hit", "rare", "unreached"
};

struct MergedReport {
  std::uint64_t runs = 0;                   // input files merged
  std::uint64_t partial_runs = 0;           // of them, runs stopped early (a cairn_run line says partial)
  std::vector<MergedProperty> properties;   // sorted by (file, line, message)
  std::uint64_t failed = 0;                 // properties with status "failed"
  std::uint64_t never_hit = 0;              // properties with status "never-hit"
  bool passed() const { return failed == 0 && never_hit == 0; }
};

class ReportMerger {
 public:
  // Adds one run's JSONL text: ours (write_jsonl: one line per property with its run
  // totals in details) or the Antithesis SDK's own local output (a registration line
  // with hit false, then a line per evaluation it reports), in any mix. Returns "" or an
  // error naming `source` and the line: a line that is not a JSON object, a JSON line
  // that is no Antithesis or cairn_run line (e.g. cairn-sim's per-seed --jsonl), a
  // malformed antithesis_assert, or a file without a single property line.
  std::string add_run(const std::string& jsonl_text, const std::string& source);
  // Computes statuses. `rare` holds ids, messages or "file:line" strings.
  MergedReport finish(const std::vector<std::string>& rare) const;

 private:
  MergedReport acc_;
};

// Human table: property, kind, hits, runs that hit it, status.
std::string render_table(const MergedReport& report);
// Machine report (JSON object text).
std::string render_json(const MergedReport& report);
// Parses a rare-list file's text: one entry per line, '#' starts a comment.
std::vector<std::string> parse_rare_list(const std::string& text);

}  // namespace cairn::props
