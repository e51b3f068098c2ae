#include "sim/durability.h"

#include <algorithm>

namespace cairn::sim {
namespace {

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}

std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The stream of a segment file (also its .tmp copy or .staged piece), from its directory.
std::optional<std::uint64_t> segment_stream(const std::string& path) {
  const std::string name = name_of(path);
  if (name.rfind("seg-", 0) != 0 || name.size() < 28 || name.compare(24, 4, ".log") != 0) return std::nullopt;
  if (name.size() > 28 && name.compare(28, 4, ".tmp") != 0 && name.compare(28, 7, ".staged") != 0) return std::nullopt;
  return rules::stream_of_dir(name_of(parent_of(path)));
}

// A copy being prepared (recreated segment, repair's staged piece): its frames become
// records of the stream only when it is renamed into place.
bool is_temp(const std::string& path) {
  const std::string name = name_of(path);
  return name.size() > 28 && (name.compare(28, 4, ".tmp") == 0 || name.compare(28, 7, ".staged") == 0);
}

// The stream a path is inside of (its directory or a file in it), if any.
std::optional<std::uint64_t> stream_of_path(const std::string& path) {
  if (auto id = rules::stream_of_dir(name_of(path))) return id;
  return rules::stream_of_dir(name_of(parent_of(path)));
}

}  // namespace

void DurabilityModel::invalidate(const std::string& path) {
  if (const auto id = stream_of_path(path)) {
    StreamState& st = streams_[*id];
    st.upto = st.base;
    return;
  }
  for (auto& [id, st] : streams_) st.upto = st.base;  // the store's or the root directory: every stream
}

void RangeSet::add(std::uint64_t from, std::uint64_t to) {
  if (from >= to) return;
  auto it = ranges_.upper_bound(from);
  if (it != ranges_.begin() && std::prev(it)->second >= from) {
    --it;
    from = it->first;
  }
  while (it != ranges_.end() && it->first <= to) {
    to = std::max(to, it->second);
    it = ranges_.erase(it);
  }
  ranges_[from] = to;
}

void RangeSet::remove(std::uint64_t from, std::uint64_t to) {
  if (from >= to) return;
  auto it = ranges_.upper_bound(from);
  if (it != ranges_.begin()) --it;
  while (it != ranges_.end() && it->first < to) {
    const std::uint64_t a = it->first;
    const std::uint64_t b = it->second;
    it = ranges_.erase(it);
    if (a < from) ranges_[a] = std::min(b, from);
    if (b > to) ranges_[to] = b;
  }
}

bool RangeSet::intersects(std::uint64_t from, std::uint64_t to) const {
  auto it = ranges_.upper_bound(from);
  if (it != ranges_.begin() && std::prev(it)->second > from) return true;
  return it != ranges_.end() && it->first < to;
}

void RangeSet::merge(const RangeSet& other) {
  for (const auto& [a, b] : other.ranges_) add(a, b);
}

void RangeSet::subtract(const RangeSet& other) {
  for (const auto& [a, b] : other.ranges_) remove(a, b);
}

void DurabilityModel::changed(FileState& f, std::uint64_t from, std::uint64_t to) {
  f.unsynced.add(from, to);
  for (auto& [id, sync] : f.in_flight) sync.after.add(from, to);
}

DurabilityModel::FileState& DurabilityModel::file(const std::string& path) { return files_[path]; }

DurabilityModel::Entry& DurabilityModel::dir_entry(const std::string& dir) {
  return dirs_.try_emplace(dir, Entry::durable).first->second;
}

void DurabilityModel::pending_in(const std::string& dir, const std::string& path) { pending_[dir].push_back(path); }

void DurabilityModel::opened(const std::string& path, fs::OpenOptions options, bool created) {
  if (created) {
    ++mutations_;
    files_[path] = FileState{Entry::pending, {}, {}, 0, {}, {}};
    ++entries_gen_;
    pending_in(parent_of(path), path);
  }
  if (options.truncate) {
    ++mutations_;
    FileState& f = file(path);
    changed(f, 0, UINT64_MAX);
    f.tail.clear();
    forget_placements(path, 0);
  }
}

void DurabilityModel::wrote(const std::string& path, std::uint64_t byte_pos, ByteView data, std::size_t written) {
  ++mutations_;
  FileState& f = file(path);
  changed(f, byte_pos, byte_pos + written);
  f.lost.remove(byte_pos, byte_pos + written);
  place_frames(path, byte_pos, data.first(written));
}

// The frames of `data` (written at byte `pos` of a file) from `at` on: valid ones placed,
// damaged ones (a copy of damaged bytes: the CRC fails) stepped over by their length.
DurabilityModel::Parsed DurabilityModel::parse(const std::string& path, std::uint64_t pos, ByteView data,
                                               std::uint64_t at) const {
  Parsed out;
  while (at < data.size()) {
    if (auto frame = rules::frame_at(data, at, max_record_bytes_)) {
      out.frames.emplace_back(frame->offset, Placement{path, pos + at, frame->bytes, frame->timestamp_us});
      at += frame->bytes;
      continue;
    }
    // Not a valid frame here: the start of one the next write completes, or damage to
    // step over (to the next valid frame, as a reader resumes).
    const auto fields = rules::frame_fields(data, at, max_record_bytes_);
    std::optional<std::uint64_t> resume;
    if (fields && rules::frame_at(data, at + fields->bytes, max_record_bytes_)) resume = at + fields->bytes;
    if (!resume) resume = rules::next_valid_frame(data, at + 1, max_record_bytes_);
    if (!resume) break;
    at = *resume;
  }
  out.rest = at;
  return out;
}

// Places the frames a write carried. A batch is one write of whole frames; a copy comes in
// chunks (and a short write in pieces) that may end inside a frame, whose start is kept to
// join the next write. Whether the next write continues it or starts afresh (the kept
// start was damage, not a frame) is decided by which reading places more frames.
void DurabilityModel::place_frames(const std::string& path, std::uint64_t pos, ByteView data) {
  const auto stream = segment_stream(path);
  if (!stream) return;
  FileState& f = file(path);
  const std::uint64_t at = pos == 0 ? rules::kHeaderBytes : 0;  // a whole file from its header on
  if (pos + at < rules::kHeaderBytes || at > data.size()) return;
  Parsed best = parse(path, pos, data, at);
  std::uint64_t best_pos = pos;
  Bytes joined;
  if (!f.tail.empty() && pos == f.tail_pos + f.tail.size()) {
    joined = f.tail;
    joined.insert(joined.end(), data.begin(), data.end());
    Parsed with = parse(path, f.tail_pos, joined, 0);
    if (with.frames.size() > best.frames.size()) {
      best = std::move(with);
      best_pos = f.tail_pos;
      data = joined;
    }
  }
  auto& into = is_temp(path) ? temp_placed_[path] : streams_[*stream].placed;
  for (auto& [offset, placement] : best.frames) into[offset] = std::move(placement);
  f.tail.clear();
  if (best.rest < data.size()) {  // what is left does not hold a whole frame
    f.tail_pos = best_pos + best.rest;
    f.tail.assign(data.begin() + static_cast<long>(best.rest), data.end());
  }
}

void DurabilityModel::forget_placements(const std::string& path, std::uint64_t from_pos) {
  const auto stream = segment_stream(path);
  if (!stream) return;
  if (auto t = temp_placed_.find(path); t != temp_placed_.end()) {
    std::erase_if(t->second, [&](const auto& kv) { return kv.second.pos >= from_pos; });
  }
  auto& placed = streams_[*stream].placed;
  std::erase_if(placed, [&](const auto& kv) { return kv.second.path == path && kv.second.pos >= from_pos; });
  invalidate(path);
}

void DurabilityModel::truncated(const std::string& path, std::uint64_t size_bytes) {
  ++mutations_;
  FileState& f = file(path);
  changed(f, size_bytes, UINT64_MAX);
  f.tail.clear();
  forget_placements(path, size_bytes);
}

void DurabilityModel::synced(const std::string& path, bool ok) {
  ++mutations_;
  FileState& f = file(path);
  if (!ok) {
    f.lost.merge(f.unsynced);  // written or not: only a rewrite and a good sync will tell
    invalidate(path);
  }
  f.unsynced.clear();
  for (auto& [id, sync] : f.in_flight) sync = InFlight{};  // every pending write is decided now
}

void DurabilityModel::sync_started(const std::string& path, std::uint64_t id) {
  ++mutations_;
  FileState& f = file(path);
  f.in_flight[id] = InFlight{f.unsynced, {}};
}

// A started sync's writes (those not written again since) become durable, or, when it
// failed, indeterminate; what was written after it started stays unsynced either way.
void DurabilityModel::sync_done(const std::string& path, std::uint64_t id, bool ok) {
  ++mutations_;
  FileState& f = file(path);
  auto it = f.in_flight.find(id);
  if (it == f.in_flight.end()) return;  // the file was rewritten from scratch meanwhile
  RangeSet decided = std::move(it->second.covered);
  decided.subtract(it->second.after);
  f.in_flight.erase(it);
  f.unsynced.subtract(decided);
  if (!ok) {
    f.lost.merge(decided);
    invalidate(path);
  }
}

void DurabilityModel::synced_dir(const std::string& dir, bool ok) {
  ++mutations_;
  for (const std::string& path : pending_[dir]) {
    const Entry e = ok ? Entry::durable : Entry::lost;
    if (auto it = files_.find(path); it != files_.end()) it->second.entry = e;
    ++entries_gen_;
    if (auto it = dirs_.find(path); it != dirs_.end()) it->second = e;
  }
  if (!ok) {
    for (const std::string& path : pending_[dir]) invalidate(path);
    invalidate(dir);
  }
  pending_.erase(dir);
}

void DurabilityModel::renamed(const std::string& from, const std::string& to) {
  ++mutations_;
  forget_placements(to, 0);  // what `to` held is gone
  FileState moved = files_.count(from) ? std::move(files_[from]) : FileState{};
  files_.erase(from);
  moved.entry = Entry::pending;
  ++entries_gen_;
  files_[to] = std::move(moved);
  pending_in(parent_of(to), to);
  if (const auto stream = segment_stream(from)) {
    for (auto& [offset, p] : streams_[*stream].placed) {
      if (p.path == from) p.path = to;
    }
    if (auto t = temp_placed_.find(from); t != temp_placed_.end()) {
      auto& into = is_temp(to) ? temp_placed_[to] : streams_[*stream].placed;
      for (auto& [offset, p] : t->second) {
        p.path = to;
        into[offset] = std::move(p);
      }
      temp_placed_.erase(from);
    }
  }
  // The file's entry is pending again: the prefix may go back, in that stream only.
  if (segment_stream(to) || segment_stream(from)) invalidate(to);
}

void DurabilityModel::unlinked(const std::string& path) {
  ++mutations_;
  files_.erase(path);
  ++entries_gen_;
  forget_placements(path, 0);
}

void DurabilityModel::made_dir(const std::string& path) {
  ++mutations_;
  dirs_[path] = Entry::pending;
  ++entries_gen_;
  pending_in(parent_of(path), path);
}

void DurabilityModel::removed_dir(const std::string& path) {
  ++mutations_;
  dirs_.erase(path);
  ++entries_gen_;
  invalidate(path);
}

bool DurabilityModel::path_durable(const std::string& path) {
  auto cached = path_cache_.find(path);
  if (cached != path_cache_.end() && cached->second.first == entries_gen_) return cached->second.second;
  bool durable = true;
  auto it = files_.find(path);
  if (it != files_.end() && it->second.entry != Entry::durable) durable = false;
  for (std::string dir = parent_of(path); durable && dir != "/"; dir = parent_of(dir)) {
    if (dir_entry(dir) != Entry::durable) durable = false;
  }
  path_cache_[path] = {entries_gen_, durable};  // valid until an entry changes
  return durable;
}

bool DurabilityModel::durable(const Placement& p, const FileState*& last_file, const std::string*& last_path) {
  // Consecutive placements share their file: its entry, path and header are checked once.
  if (last_path == nullptr || *last_path != p.path) {
    auto it = files_.find(p.path);
    last_file = it == files_.end() || !path_durable(p.path) || it->second.unsynced.intersects(0, rules::kHeaderBytes) ||
                        it->second.lost.intersects(0, rules::kHeaderBytes)
                    ? nullptr
                    : &it->second;
    last_path = &p.path;
  }
  if (last_file == nullptr) return false;
  const std::uint64_t end = p.pos + p.bytes;
  return !last_file->unsynced.intersects(p.pos, end) && !last_file->lost.intersects(p.pos, end);
}

std::uint64_t DurabilityModel::durable_prefix(std::uint64_t stream) {
  StreamState& st = streams_[stream];
  st.upto = std::max(st.upto, st.first);  // below it: removed by retention
  const FileState* last_file = nullptr;
  const std::string* last_path = nullptr;
  auto it = st.placed.lower_bound(st.upto);
  for (;;) {
    if (st.skipped.intersects(st.upto, st.upto + 1)) {
      ++st.upto;
      continue;
    }
    while (it != st.placed.end() && it->first < st.upto) ++it;
    if (it == st.placed.end() || it->first != st.upto || !durable(it->second, last_file, last_path)) break;
    ++st.upto;
  }
  return st.upto;
}

void DurabilityModel::unskip(std::uint64_t stream, std::uint64_t from, std::uint64_t to) {
  StreamState& st = streams_[stream];
  st.skipped.remove(from, to);
  st.upto = std::min(st.upto, std::max(from, st.base));
}

std::uint64_t DurabilityModel::frame_bytes(std::uint64_t stream, std::uint64_t from, std::uint64_t to) const {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return 0;
  std::uint64_t total = 0;
  for (auto p = it->second.placed.lower_bound(from); p != it->second.placed.end() && p->first < to; ++p) {
    total += p->second.bytes;
  }
  return total;
}

const Placement* DurabilityModel::placement(std::uint64_t stream, std::uint64_t offset) const {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return nullptr;
  auto p = it->second.placed.find(offset);
  return p == it->second.placed.end() ? nullptr : &p->second;
}

const std::map<std::uint64_t, Placement>& DurabilityModel::placements(std::uint64_t stream) const {
  static const std::map<std::uint64_t, Placement> kNone;
  auto it = streams_.find(stream);
  return it == streams_.end() ? kNone : it->second.placed;
}

void DurabilityModel::crash() {
  files_.clear();
  dirs_.clear();
  pending_.clear();
  for (auto& [id, st] : streams_) st.placed.clear();
  temp_placed_.clear();
  ++entries_gen_;
}

void DurabilityModel::retain_from(std::uint64_t stream, std::uint64_t first) {
  StreamState& st = streams_[stream];
  st.first = first;
  std::erase_if(st.placed, [first](const auto& kv) { return kv.first < first; });
}

void DurabilityModel::rebase(std::uint64_t stream, std::uint64_t next) {
  StreamState& st = streams_[stream];
  st.base = st.upto = next;
  st.placed.clear();
}

}  // namespace cairn::sim
