// The oracle reading the store's files itself (sim/format_rules, never the core): the
// frames and the chain as FORMAT.md defines them, what verify must report, and which
// segments retention may remove.
#include <algorithm>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/oracle.h"

namespace cairn::sim {
namespace {

constexpr char kStoreDir[] = "/store";
constexpr std::uint32_t kFrameLimit = 1u << 30;

std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::vector<std::pair<std::uint64_t, std::string>> segment_files(const fs::SimFileSystem& sim, std::uint64_t stream) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  const std::string dir = std::string(kStoreDir) + "/" + rules::stream_dir(stream) + "/";
  for (const std::string& path : sim.visible_files(dir)) {
    if (auto base = rules::segment_base(name_of(path), "log")) out.emplace_back(*base, path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<Oracle::SegmentView> Oracle::segments(std::uint64_t stream) const {
  std::vector<SegmentView> out;
  for (const auto& [base, path] : segment_files(sim_, stream)) {
    const Bytes* file = sim_.current_view(path);
    out.push_back(SegmentView{base, file ? file->size() : 0, std::nullopt, faults_.file_or_records_touched(stream, name_of(path))});
  }
  return out;
}

// The timestamp of a segment's last record when every byte after its header is a valid frame.
std::optional<std::uint64_t> last_timestamp(const fs::SimFileSystem& sim, std::uint64_t stream, std::uint64_t base) {
  const Bytes* file = sim.current_view(std::string(kStoreDir) + "/" + rules::stream_dir(stream) + "/" + rules::segment_name(base));
  if (file == nullptr || !rules::segment_header(*file)) return std::nullopt;
  std::uint64_t pos = rules::kHeaderBytes;
  std::optional<std::uint64_t> ts;
  while (auto f = rules::frame_at(*file, pos, kFrameLimit)) {
    ts = f->timestamp_us;
    pos += f->bytes;
  }
  return pos == file->size() ? ts : std::nullopt;
}

// Retention removes exactly the eligible segments: whole sealed ones, oldest first, while
// the oldest is entirely older than the cutoff or the stream is above its byte limit,
// never the active one. Timestamps are read only for the segments the rule reaches.
Oracle::PurgePlan Oracle::plan_purge(std::uint64_t stream, const PurgeOptions& p, std::uint64_t now_us) const {
  PurgePlan plan;
  plan.before = segments(stream);
  std::uint64_t total = 0;
  for (const SegmentView& v : plan.before) {
    total += v.size_bytes;
    plan.known = plan.known && !v.touched;
  }
  for (; plan.eligible + 1 < plan.before.size(); ++plan.eligible) {
    SegmentView& oldest = plan.before[plan.eligible];
    const bool too_big = p.max_total_bytes && total > *p.max_total_bytes;
    if (!too_big && p.older_than_us) {
      oldest.last_ts = last_timestamp(sim_, stream, oldest.base);
      if (!oldest.last_ts) plan.known = false;
    }
    const bool too_old = p.older_than_us && now_us >= *p.older_than_us && oldest.last_ts &&
                         *oldest.last_ts < now_us - *p.older_than_us;
    if (!too_old && !too_big) break;
    total -= oldest.size_bytes;
  }
  return plan;
}

std::string Oracle::purge_ok(std::uint64_t stream, const PurgeOptions& p, std::uint64_t now_us, const PurgePlan& plan,
                             const StreamStats& st) {
  OracleStream& s = streams_[stream];
  s.purge_in_flight = false;
  if (st.first_offset < s.first) {
    return fmt::format("stream {}: purge moved the first offset back from {} to {}", stream, s.first, st.first_offset);
  }
  if (st.next_offset != s.next) {
    return fmt::format("stream {}: purge changed the next offset from {} to {}", stream, s.next, st.next_offset);
  }
  const std::vector<SegmentView>& before = plan.before;
  const std::vector<SegmentView> after = segments(stream);
  const std::size_t removed = before.size() - after.size();
  if (plan.known && (removed != plan.eligible || after.empty() || after.front().base != before[plan.eligible].base)) {
    std::string seen;
    for (const SegmentView& v : before) {
      seen += fmt::format(" {}({} bytes, last {})", v.base, v.size_bytes, v.last_ts ? std::to_string(*v.last_ts) : "?");
    }
    return fmt::format("stream {}: purge (older than {} us at {}, at most {} bytes) removed {} segments where {} were "
                       "eligible; segments before:{}",
                       stream, p.older_than_us.value_or(0), now_us, p.max_total_bytes.value_or(0), removed, plan.eligible,
                       seen);
  }
  s.first = st.first_offset;  // the damage in removed files is forgotten once their unlinks are durable
  s.purged_below = std::max(s.purged_below, s.first);
  faults_.set_first(stream, s.first);
  model_.retain_from(stream, s.first);
  return {};
}

// Final check: the files, read by FORMAT.md alone, hold frames whose CRC32C is right and
// whose prev_hash continues the chain from each segment's anchor. Where a frame is not so
// (damage), a fault must have touched it or the record before it (a changed record shows
// at the next link); the walk steps over it by its length and goes on, and the offsets
// found damaged are kept for check_coverage.
std::string Oracle::check_files(std::uint64_t id, const OracleStream& s) {
  std::optional<rules::Hash> running;
  std::uint64_t expected = s.first;
  rule_damage_.clear();
  for (const auto& [base, path] : segment_files(sim_, id)) {
    if (base < s.first) continue;
    const Bytes* file = sim_.current_view(path);
    const std::string name = name_of(path);
    auto header = file ? rules::segment_header(*file) : std::nullopt;
    if (base != expected || s.removed_at(expected)) running.reset();  // across a gap or a lost range
    if (!header) {
      if (!faults_.file_touched(id, name)) return fmt::format("stream {}: {} has no valid header by FORMAT.md", id, name);
    } else if (running && *running != header->anchor && !faults_.any_touched(id, base > 0 ? base - 1 : 0, base + 1)) {
      return fmt::format("stream {}: the anchor of {} does not continue the chain the oracle computed", id, name);
    }
    std::optional<rules::Hash> h;
    if (header) h = header->anchor;
    std::uint64_t o = base;
    for (const rules::WalkedFrame& w : file ? rules::walk_frames(*file, base, kFrameLimit) : std::vector<rules::WalkedFrame>{}) {
      const rules::Frame& f = w.f;
      for (; o < f.offset; ++o) rule_damage_.insert(o);  // skipped by a resume: damaged
      const bool sound = header && w.valid && f.offset == o && (!h || f.prev == *h);
      if (!sound) {
        rule_damage_.insert(o);
        // In a file a misdirected write or a header flip hit, any frame is explained (the
        // fault is file-level: where its stale bytes end is not known).
        const bool touched = faults_.any_touched(id, o > 0 ? o - 1 : 0, o + 1) || !header || faults_.file_touched(id, name);
        if (!touched && o < s.next) {
          return fmt::format("stream {}: {} byte {} (offset {}) {} by FORMAT.md", id, name, f.pos, o,
                             !w.valid ? "is not a frame whose CRC32C matches"
                             : f.offset != o ? "holds the wrong offset"
                                             : "breaks the SHA-256 chain");
        }
      }
      // A valid frame stands for itself: the chain goes on from what it states.
      h = w.valid ? std::optional<rules::Hash>(chain_.next(f.prev, f.offset, f.kind, f.timestamp_us, f.payload)) : std::nullopt;
      o = std::max(o, f.offset) + 1;
    }
    running = h;
    expected = o;
  }
  return {};
}

// Final check: every durable record a fault damaged, still held, is named by verify with
// the file and byte position (or the frame after it, whose link exposes a changed record).
std::string Oracle::check_coverage(Store& store, std::uint64_t id, const OracleStream& s) {
  const std::uint64_t durable = must_survive(id, s);
  std::vector<std::uint64_t> due;
  for (std::uint64_t o : faults_.touched_offsets(id)) {
    // Still damaged by FORMAT.md (a store may rewrite what it can: a header, a sidecar).
    const Touch* t = faults_.touched(id, o);
    // A misdirected write's records may read back from where it landed: where the damage
    // lies is not known to the record, only to the file (reads still check their bytes).
    if (t->how.rfind("misdirected write", 0) == 0) continue;
    const bool damaged = rule_damage_.count(o) > 0 || (t->how == "tamper" && rule_damage_.count(o + 1) > 0);
    if (damaged && o >= s.first && o < std::min(durable, s.next) && !s.removed_at(o) && !undetectable_tamper(id, s, o)) {
      due.push_back(o);
    }
  }
  if (due.empty()) return {};
  auto v = store.verify(id);
  if (!v.ok()) return {};  // an unreadable sector: check_verify judged it
  std::vector<Finding> findings = v->findings;
  const auto& rep = store.recovery_report().damage;
  findings.insert(findings.end(), rep.begin(), rep.end());
  for (std::uint64_t o : due) {
    const Touch* t = faults_.touched(id, o);
    const bool named = std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
      if (f.stream != id) return false;
      // By offset in any file (a repair may have moved the record since), or by position
      // in the file the fault hit.
      const bool in_range = o >= f.offset && o < std::max(f.end_offset, f.offset + 1);
      const bool same_file = f.segment == t->file;
      const bool header = t->how == "segment header flip" && f.byte_pos < rules::kHeaderBytes;
      return in_range || f.offset == o + 1 || (same_file && (f.byte_pos == t->byte_pos || header));
    });
    if (!named) {
      std::string seen;
      for (const Finding& f : findings) {
        if (f.stream == id && f.segment == t->file) seen += "; it reports: " + f.to_string();
      }
      return fmt::format("stream {}: record {} was damaged ({} at byte {} of {}) and verify does not report it{}", id, o,
                         t->how, t->byte_pos, t->file, seen);
    }
  }
  REACHABLE("sim: verify named every damaged durable record");
  return {};
}

}  // namespace cairn::sim
