#include "core/scan.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/canary.h"
#include "core/codec.h"
#include "core/frame_cursor.h"
#include "core/frame_reader.h"
#include "core/le.h"
#include "properties/properties.h"

namespace cairn {
namespace {

using format::FrameDecode;
using format::FrameStatus;
using format::kFrameHeaderBytes;

// Cheap plausibility test of a frame header at an arbitrary position, before paying for
// a CRC over its payload.
bool plausible_header(ByteView h, std::uint64_t pos, std::uint64_t expected, const ScanInput& in) {
  if (h.size() < kFrameHeaderBytes) return false;
  std::uint64_t len = le::get<std::uint32_t>(h.data() + 4);
  std::uint64_t offset = le::get<std::uint64_t>(h.data() + 8);
  // A segment of file_size bytes cannot hold more than file_size / 68 frames.
  return len <= in.max_record_bytes && pos + kFrameHeaderBytes + len <= in.file_size &&
         offset >= expected && offset - expected <= in.file_size / kFrameHeaderBytes &&
         valid_kind(h[32]) && (h[33] & ~format::kKnownFlags) == 0 && codec::known(h[34]) && h[35] == 0;
}

struct Resync {
  std::uint64_t pos = 0;
  format::FrameHeader header;
};

// Finds the first CRC-valid frame at or after `from` whose offset is >= expected.
// How many valid frames with consecutive offsets start at `at`.
Result<std::uint64_t> run_length(FrameReader& reader, const Resync& at, const ScanInput& in) {
  std::uint64_t n = 0;
  std::uint64_t pos = at.pos;
  for (std::uint64_t offset = at.header.offset; pos < in.file_size; ++offset, ++n) {
    CAIRN_ASSIGN_OR_RETURN(FrameDecode d, reader.at(pos));
    if (d.status != FrameStatus::ok || d.header.offset != offset) break;
    pos += d.frame_bytes;
  }
  return n;
}

// Where a scan resumes after damage: the first valid frame (by position) with an offset at
// or after `expected`, or the one with the lowest such offset when more records follow it
// in order. A misdirected write can leave a batch's frames in front of intact records
// (they follow the lowest offset) or behind them (they follow the first position).
Result<std::optional<Resync>> find_valid_after(FrameReader& reader, std::uint64_t from,
                                               std::uint64_t expected, const ScanInput& in) {
  std::optional<Resync> first;
  std::optional<Resync> lowest;
  for (std::uint64_t p = from; p + kFrameHeaderBytes <= in.file_size; ++p) {
    CAIRN_ASSIGN_OR_RETURN(ByteView head, reader.bytes(p, kFrameHeaderBytes));
    if (!plausible_header(head, p, expected, in)) continue;
    if (lowest && le::get<std::uint64_t>(head.data() + 8) >= lowest->header.offset) continue;
    CAIRN_ASSIGN_OR_RETURN(FrameDecode d, reader.at(p));
    if (d.status != FrameStatus::ok) continue;
    lowest = Resync{p, d.header};
    if (!first) first = lowest;
    if (d.header.offset == expected) break;
  }
  if (!first || first->pos == lowest->pos) return first;
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t first_run, run_length(reader, *first, in));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t lowest_run, run_length(reader, *lowest, in));
  return lowest_run > first_run ? lowest : first;
}

// Every CRC-valid frame after a failure, across further damaged ranges too: what they
// say about durability (the first run may end at older damage before a later batch
// proves durability) and how far their offsets go.
struct Later {
  std::uint64_t frames = 0;
  std::uint64_t max_durable_offset = 0;
  std::uint64_t max_offset = 0;
  std::uint64_t bytes = 0;    // of every frame surveyed
};

Result<Later> survey_after(FrameReader& reader, std::optional<Resync> at, const ScanInput& in) {
  Later later;
  while (at) {
    std::uint64_t pos = at->pos;
    std::uint64_t offset = at->header.offset;
    while (pos < in.file_size) {
      CAIRN_ASSIGN_OR_RETURN(FrameDecode d, reader.at(pos));
      if (d.status != FrameStatus::ok || d.header.offset != offset) break;
      later.max_durable_offset = std::max(later.max_durable_offset, d.header.durable_offset);
      later.bytes += d.frame_bytes;
      later.max_offset = std::max(later.max_offset, offset);
      later.frames += 1;
      pos += d.frame_bytes;
      offset += 1;
    }
    CAIRN_ASSIGN_OR_RETURN(at, find_valid_after(reader, std::max(pos, at->pos + 1), offset, in));
  }
  return later;
}

// The scan's running state; a copy is taken at every batch end so it can fall back to it.
struct State {
  std::uint64_t pos = format::kSegmentHeaderBytes;
  std::uint64_t next_offset = 0;
  ChainHash hash{};
  std::uint64_t last_frame_pos = 0;
  std::uint64_t first_ts = 0;
  std::uint64_t last_ts = 0;
  std::uint64_t records = 0;
  std::size_t entries = 0;
  std::size_t checkpoints = 0;
};

class Scanner {
 public:
  Scanner(FrameReader& reader, const ScanInput& in, ChainHasher& hasher)
      : in_(in), reader_(reader),
        cursor_(reader_, hasher, format::kSegmentHeaderBytes, in.base_offset, in.anchor) {
    state_.next_offset = in.base_offset;
    state_.hash = in.anchor.value_or(ChainHash{});
    state_.pos = std::min<std::uint64_t>(format::kSegmentHeaderBytes, in.file_size);  // a file cut inside its header
    committed_ = state_;
    run_ = ScanRun{format::kSegmentHeaderBytes, format::kSegmentHeaderBytes, in.base_offset, in.base_offset, 0,
                   in.anchor, {}};
  }

  Result<ScanResult> run();

 private:
  void on_frame(std::optional<ChainHash> before);
  void index(const format::FrameHeader& h, std::uint64_t pos, std::optional<ChainHash> before);
  // At a frame that fails: damage (resumes, returns true) or the tail (returns false).
  Result<bool> on_bad_frame();
  Status on_end();
  void finish();
  void commit() {
    state_.pos = cursor_.pos();
    state_.next_offset = cursor_.offset();
    if (cursor_.seeded()) state_.hash = cursor_.hash();
    committed_ = state_;
    uncommitted_records_ = 0;
    run_commits_.push_back(committed_);
  }
  // Closes the current run at its last batch end at or before `limit_pos` and starts the
  // next one at a frame whose chain hash before it is `anchor`.
  void split_run(std::uint64_t limit_pos, std::uint64_t start_pos, std::uint64_t first_offset,
                 std::optional<ChainHash> anchor);

  const ScanInput& in_;
  FrameReader& reader_;
  FrameCursor cursor_;
  ScanResult r_;
  State state_;
  State committed_;
  std::uint64_t uncommitted_records_ = 0;
  std::uint64_t last_index_pos_ = 0;
  bool any_index_ = false;
  ScanRun run_;                     // the run being followed
  std::vector<State> run_commits_;  // its batch ends so far
};

void Scanner::split_run(std::uint64_t limit_pos, std::uint64_t start_pos, std::uint64_t first_offset,
                        std::optional<ChainHash> anchor) {
  while (!run_commits_.empty() && run_commits_.back().pos > limit_pos) run_commits_.pop_back();
  if (!run_commits_.empty() && run_commits_.back().pos > run_.start_pos) {
    const State& end = run_commits_.back();
    run_.end_pos = end.pos;
    run_.next_offset = end.next_offset;
    run_.last_frame_pos = end.last_frame_pos;
    run_.last_hash = end.hash;
    r_.runs.push_back(run_);
  }
  run_commits_.clear();
  run_ = ScanRun{start_pos, start_pos, first_offset, first_offset, 0, anchor, {}};
}

Result<ScanResult> Scanner::run() {
  for (;;) {
    const std::optional<ChainHash> before =
        cursor_.seeded() ? std::optional<ChainHash>(cursor_.hash()) : std::nullopt;
    CAIRN_ASSIGN_OR_RETURN(FrameCursor::Outcome out, cursor_.next());
    if (out == FrameCursor::Outcome::frame) {
      on_frame(before);
      continue;
    }
    if (out == FrameCursor::Outcome::chain_break) {
      // An intact frame that does not continue the chain: damage (tampering or a
      // misdirected write), never a torn write. Record it and continue from it.
      // RECOVERY.md A6. Reads of it name this frame and offset too; the record changed is
      // this one or the one before it.
      const std::uint64_t o = cursor_.frame().header.offset;
      // The record before the break may be the one changed: its leaf is not known either.
      if (o > in_.base_offset && r_.leaves.size() > o - 1 - in_.base_offset &&
          !canary_on(Canary::spine_leaf_before_break_kept)) {
        r_.leaves.resize(o - 1 - in_.base_offset);
      }
      r_.damage.push_back(Finding{in_.stream, in_.segment, cursor_.frame_pos(), o, o + 1,
                                  cursor_.why() + fmt::format(" (record {} or {} was changed)", o == 0 ? 0 : o - 1, o)});
      // Repair keeps this frame and drops the record before it: its bytes no longer hash
      // to what this frame's prev_hash says.
      split_run(state_.last_frame_pos, cursor_.frame_pos(), o, cursor_.frame().header.prev_hash);
      cursor_.accept();
      on_frame(std::nullopt);
      continue;
    }
    if (out == FrameCursor::Outcome::end) {
      CAIRN_TRY(on_end());
      break;
    }
    CAIRN_ASSIGN_OR_RETURN(bool resumed, on_bad_frame());
    if (!resumed) break;
  }
  finish();
  return std::move(r_);
}

void Scanner::on_frame(std::optional<ChainHash> before) {
  const FrameDecode& d = cursor_.frame();
  const format::FrameHeader& h = d.header;
  const std::uint64_t pos = cursor_.frame_pos();
  if (h.kind == static_cast<std::uint8_t>(RecordKind::checkpoint)) {
    auto cp = format::decode_checkpoint(d.payload);
    const bool consistent = cp && cp->record_count == h.offset && cp->chain_hash == h.prev_hash;
    if (!consistent && !canary_on(Canary::checkpoint_hash_unverified)) {
      r_.damage.push_back(Finding{in_.stream, in_.segment, pos, h.offset, h.offset + 1,
                                  "checkpoint payload disagrees with the chain"});
    }
    r_.checkpoints.resize(state_.checkpoints);
    r_.checkpoints.push_back({h.offset, pos});
    state_.checkpoints = r_.checkpoints.size();
    if (!consistent && !canary_on(Canary::checkpoint_hash_unverified)) {
      // Repair drops this record's batch; what follows states its own chain.
      split_run(pos, cursor_.pos(), h.offset + 1, std::nullopt);
    }
  }
  index(h, pos, before);
  if (in_.collect_leaves && r_.damage.empty() && cursor_.seeded() && h.offset == in_.base_offset + r_.leaves.size()) {
    r_.leaves.push_back(cursor_.hash());
  }
  if (!run_.anchor && pos == run_.start_pos) run_.anchor = h.prev_hash;  // the chain as it states itself
  if (state_.records == 0) state_.first_ts = h.timestamp_us;
  state_.last_ts = h.timestamp_us;
  state_.records += 1;
  state_.last_frame_pos = pos;
  uncommitted_records_ += 1;
  if (h.flags & format::kFlagBatchEnd) commit();
}

void Scanner::index(const format::FrameHeader& h, std::uint64_t pos, std::optional<ChainHash> before) {
  if (any_index_ && pos - last_index_pos_ < in_.index_interval_bytes) return;
  r_.entries.resize(state_.entries);
  r_.entry_hashes.resize(state_.entries);
  r_.entries.push_back({h.offset, pos, h.timestamp_us});
  // The chain hash before this record is known only on a verified chain.
  r_.entry_hashes.push_back(before);
  state_.entries = r_.entries.size();
  last_index_pos_ = pos;
  any_index_ = true;
}

Result<bool> Scanner::on_bad_frame() {
  const std::uint64_t bad_pos = cursor_.pos();
  const std::uint64_t bad_offset = cursor_.offset();
  const std::string why = cursor_.why();
  CAIRN_ASSIGN_OR_RETURN(std::optional<Resync> found, find_valid_after(reader_, bad_pos + 1, bad_offset, in_));
  CAIRN_ASSIGN_OR_RETURN(Later later, survey_after(reader_, found, in_));
  const std::uint64_t floor = std::max(in_.durable_below, later.max_durable_offset);
  if (bad_offset < floor && found && !canary_on(Canary::mid_log_corruption_truncated)) {
    // RECOVERY.md A3: valid data follows and this range was durable: damage, not a torn
    // write. Report it and keep everything after it. (A4 and A5 below: nothing follows.)
    REACHABLE("scan found damage followed by valid data");
    r_.damage.push_back(Finding{in_.stream, in_.segment, bad_pos, bad_offset, found->header.offset,
                                fmt::format("{} at offset {}; valid frames resume at byte {} (offset {})",
                                            why, bad_offset, found->pos, found->header.offset)});
    r_.resumes.push_back({found->header.offset, found->pos});
    split_run(bad_pos, found->pos, found->header.offset, found->header.prev_hash);
    cursor_.jump(found->pos, found->header.offset);
    state_.hash = found->header.prev_hash;  // the chain as the resumed frame states it
    commit();
    return true;
  }
  r_.tail_reason = why;
  r_.tail_pos = bad_pos;
  r_.tail_offset = bad_offset;
  r_.tail_records = uncommitted_records_ + later.frames;
  r_.tail_last_offset = std::max(later.frames > 0 ? later.max_offset : 0, bad_offset - (bad_offset > 0 ? 1 : 0));
  r_.tail_frame_bytes = later.bytes;
  // Planted bug (canary mid_log_corruption_truncated): durable damage taken for a torn tail.
  r_.tail_is_damage = bad_offset < floor && !canary_on(Canary::mid_log_corruption_truncated);
  return false;
}

// All frames decoded to the end of the file; an incomplete last batch is a tail there.
Status Scanner::on_end() {
  if (committed_.pos >= in_.file_size) return {};
  r_.tail_reason = "incomplete batch at the end of the file";
  r_.tail_pos = committed_.pos;
  r_.tail_offset = committed_.next_offset;
  r_.tail_records = uncommitted_records_;
  r_.tail_last_offset = cursor_.offset() - 1;
  r_.tail_frame_bytes = in_.file_size - r_.tail_pos;
  r_.tail_is_damage = committed_.next_offset < in_.durable_below;
  return {};
}

void Scanner::finish() {
  if (in_.expected_last_hash && committed_.records > 0 && committed_.pos == in_.file_size &&
      committed_.hash != *in_.expected_last_hash) {
    const std::uint64_t last = committed_.next_offset - 1;
    r_.damage.push_back(Finding{in_.stream, in_.segment, committed_.last_frame_pos, last, last + 1,
                                fmt::format("the last record (offset {}) does not hash to the chain hash the "
                                            "manifest recorded for this segment",
                                            last)});
    split_run(committed_.last_frame_pos, in_.file_size, 0, std::nullopt);  // repair drops its batch
    if (r_.leaves.size() > last - in_.base_offset) r_.leaves.resize(last - in_.base_offset);  // its leaf is not known
  }
  split_run(in_.file_size, in_.file_size, 0, std::nullopt);
  r_.valid_end = committed_.pos;
  r_.next_offset = committed_.next_offset;
  r_.last_hash = committed_.hash;
  r_.last_frame_pos = committed_.records > 0 ? committed_.last_frame_pos : 0;
  r_.first_timestamp_us = committed_.first_ts;
  r_.last_timestamp_us = committed_.last_ts;
  r_.max_timestamp_us = std::max(state_.last_ts, committed_.last_ts);
  r_.records = committed_.records;
  if (r_.leaves.size() > committed_.next_offset - in_.base_offset) r_.leaves.resize(committed_.next_offset - in_.base_offset);
  r_.entries.resize(committed_.entries);
  r_.entry_hashes.resize(committed_.entries);
  r_.checkpoints.resize(committed_.checkpoints);
  r_.tail_bytes = in_.file_size - committed_.pos;
  if (r_.tail_bytes == 0) r_.tail_reason.clear();
  if (r_.tail_is_damage) {
    r_.damage.push_back(Finding{in_.stream, in_.segment, r_.tail_pos, r_.tail_offset,
                                std::max(r_.tail_offset, r_.tail_last_offset) + 1,
                                fmt::format("{} at offset {}; nothing valid follows, and the bytes "
                                            "were durable (not a torn tail)",
                                            r_.tail_reason, r_.tail_offset)});
  }
  ALWAYS(r_.valid_end <= in_.file_size, "scan never ends past the end of the file",
         {"valid_end", r_.valid_end}, {"file_size", in_.file_size});
  ALWAYS(r_.tail_bytes == 0 || r_.tail_pos >= r_.valid_end, "the failing byte lies in the tail",
         {"tail_pos", r_.tail_pos}, {"valid_end", r_.valid_end});
}

}  // namespace

Result<ScanResult> scan_segment(fs::File& file, const ScanInput& in, ChainHasher& hasher) {
  FrameReader reader(file, in.file_size, in.max_record_bytes);
  return scan_segment(reader, in, hasher);
}

Result<ScanResult> scan_segment(FrameReader& reader, const ScanInput& in, ChainHasher& hasher) {
  ALWAYS(reader.file_size() == in.file_size, "a scan reads the size it was asked to",
         {"reader_bytes", reader.file_size()}, {"file_size", in.file_size});
  Scanner scanner(reader, in, hasher);
  return scanner.run();
}

}  // namespace cairn
