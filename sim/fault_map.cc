#include "sim/fault_map.h"

#include <algorithm>

#include "sim/format_rules.h"

namespace cairn::sim {

bool FaultMap::parse_path(const std::string& path, std::uint64_t& stream, std::string& file) const {
  const std::string prefix = store_dir_ + "/";
  if (path.rfind(prefix, 0) != 0) return false;
  const std::string rest = path.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos) return false;
  const auto id = rules::stream_of_dir(rest.substr(0, slash));
  if (!id) return false;
  stream = *id;
  file = rest.substr(slash + 1);
  return true;
}

void FaultMap::renamed(const std::string& from, const std::string& to) {
  absorb(sim_.fault_log());  // a fault in the copy, during this same operation
  std::uint64_t stream = 0;
  std::string file;
  const bool in_stream = parse_path(to, stream, file);
  if (damaged_temps_.erase(from) > 0) {  // the replacement itself was damaged as it was written
    if (to == store_dir_ + "/MANIFEST") manifest_ = true;
    if (in_stream) files_[stream].insert(file);
    const auto base = in_stream ? rules::segment_base(file, "log") : std::nullopt;
    const Bytes* copy = base ? sim_.current_view(to) : nullptr;
    if (copy != nullptr) {  // every record of the copy: where the damage landed is not known
      for (const rules::WalkedFrame& w : rules::walk_frames(*copy, *base, 1u << 30)) {
        touch(stream, w.f.offset, Touch{file, w.f.pos, w.f.bytes, "damaged copy"});
      }
    }
    replaced_.erase(to);
    return;
  }
  if (to == store_dir_ + "/MANIFEST" || (in_stream && rules::segment_base(file, "idx"))) replaced_.insert(to);
}

void FaultMap::synced_dir(const std::string& dir, bool ok) {
  absorb(sim_.fault_log());  // a crash since the rename may have undone it (dir_revert)
  for (auto it = replaced_.begin(); it != replaced_.end();) {
    if (it->substr(0, it->rfind('/')) != dir) {
      ++it;
      continue;
    }
    // A failed directory fsync leaves the change indeterminate for good: never settled.
    if (ok) fresh_.insert(*it);
    it = replaced_.erase(it);
  }
}

void FaultMap::settle() {
  for (const std::string& path : fresh_) {
    std::uint64_t stream = 0;
    std::string file;
    if (path == store_dir_ + "/MANIFEST") {
      manifest_ = false;
    } else if (parse_path(path, stream, file)) {
      files_[stream].erase(file);
      sticky_[stream].erase(file);
      if (!sim_.visible(path)) forget_file(stream, file);  // unlinked: its records' damage went with it
    }
  }
  fresh_.clear();
}

void FaultMap::unlinked(const std::string& path) {
  std::uint64_t stream = 0;
  std::string file;
  if (parse_path(path, stream, file)) replaced_.insert(path);  // gone once the directory is synced
}

void FaultMap::absorb(const std::vector<fs::FaultRecord>& log) {
  for (; seen_ < log.size(); ++seen_) {
    const fs::FaultRecord& f = log[seen_];
    if (f.family == fs::FaultFamily::dir_revert) {
      // A crash undid a rename or an unlink: the file it replaced or removed is back,
      // damage and all, so a later directory fsync must not settle it as replaced.
      static const std::string kRename = "reverted rename to ";
      const std::string back = f.detail.rfind(kRename, 0) == 0 ? f.detail.substr(kRename.size())
                               : f.detail == "reverted unlink"  ? f.path
                                                                : std::string();
      replaced_.erase(back);
      fresh_.erase(back);
      continue;
    }
    const bool damaging = f.family == fs::FaultFamily::misdirected_write || f.family == fs::FaultFamily::bit_flip;
    if (damaging && f.path.size() > 4 && f.path.compare(f.path.size() - 4, 4, ".tmp") == 0) {
      damaged_temps_.insert(f.path);  // a copy being prepared: damage counts once it is renamed into place
      continue;
    }
    if (f.path.rfind(store_dir_ + "/MANIFEST", 0) == 0 &&
        (f.family == fs::FaultFamily::misdirected_write || f.family == fs::FaultFamily::bit_flip)) {
      manifest_ = true;
      continue;
    }
    std::uint64_t stream = 0;
    std::string file;
    if (f.family == fs::FaultFamily::read_error && f.detail == "sticky sector" && !parse_path(f.path, stream, file)) {
      sticky_other_.insert(f.path);  // the manifest, a lock: unreadable until the sector is replaced
      continue;
    }
    if (f.family == fs::FaultFamily::fsync_failure && f.path.rfind(store_dir_ + "/stream-", 0) == 0 &&
        f.path.find('/', store_dir_.size() + 1) == std::string::npos) {
      if (auto id = rules::stream_of_dir(f.path.substr(store_dir_.size() + 1))) dir_lost_.insert(*id);
      continue;
    }
    if (!parse_path(f.path, stream, file)) continue;
    if (f.family == fs::FaultFamily::read_error && f.detail == "sticky sector") {
      sticky_[stream].insert(file);
    } else if (f.family == fs::FaultFamily::misdirected_write) {
      files_[stream].insert(file);
      // The frames the file held where it landed (before it landed), and the ones it was
      // meant to carry.
      touch_landed(stream, f, file);
      const auto meant = f.detail.rfind(' ');
      const std::uint64_t at = std::stoull(f.detail.substr(meant + 1));
      touch_meant(stream, f.path, file, at, at + f.len);
    }
  }
}

// The records the durability model placed (as the store wrote them) in [from, to).
void FaultMap::touch_meant(std::uint64_t stream, const std::string& path, const std::string& file, std::uint64_t from,
                           std::uint64_t to) {
  std::vector<std::pair<std::uint64_t, Touch>> hit;
  for (const auto& [o, p] : model_.placements(stream)) {
    if (p.path == path && p.pos < to && p.pos + p.bytes > from) hit.emplace_back(o, Touch{file, p.pos, p.bytes, "misdirected write (meant)"});
  }
  for (auto& [o, t] : hit) touch(stream, o, std::move(t));
}

// The records whose frames the write landed on: the file as it was before the write (its
// current bytes with the overwritten ones put back), read with the simulator's rules.
void FaultMap::touch_landed(std::uint64_t stream, const fs::FaultRecord& f, const std::string& file) {
  const Bytes* now = sim_.current_view(f.path);
  const auto base = rules::segment_base(file, "log");
  if (now == nullptr || !base) return;
  Bytes before = *now;
  if (before.size() < f.byte_pos + f.overwritten.size()) before.resize(static_cast<std::size_t>(f.byte_pos + f.overwritten.size()));
  std::copy(f.overwritten.begin(), f.overwritten.end(), before.begin() + static_cast<long>(f.byte_pos));
  before.resize(static_cast<std::size_t>(std::min<std::uint64_t>(before.size(), f.size_before)));
  for (const rules::WalkedFrame& w : rules::walk_frames(before, *base, 1u << 30)) {
    if (w.f.pos < f.byte_pos + f.len && w.f.pos + w.f.bytes > f.byte_pos) {
      touch(stream, w.f.offset, Touch{file, w.f.pos, w.f.bytes, "misdirected write (landed)"});
    }
  }
}

void FaultMap::touch(std::uint64_t stream, std::uint64_t offset, Touch t) {
  t.seq = ++seq_;
  auto& at = records_[stream];
  auto it = at.find(offset);
  if (it == at.end() || it->second.how != "tamper") at[offset] = std::move(t);  // an edit stays known as one
  model_.skip(stream, offset, offset + 1);
}

const Touch* FaultMap::touched(std::uint64_t stream, std::uint64_t offset) const {
  auto s = records_.find(stream);
  if (s == records_.end()) return nullptr;
  auto r = s->second.find(offset);
  return r == s->second.end() ? nullptr : &r->second;
}

bool FaultMap::any_touched(std::uint64_t stream, std::uint64_t from, std::uint64_t to) const {
  auto s = records_.find(stream);
  if (s == records_.end()) return false;
  auto r = s->second.lower_bound(from);
  return r != s->second.end() && r->first < to;
}

bool FaultMap::file_touched(std::uint64_t stream, const std::string& file) const {
  auto s = files_.find(stream);
  return s != files_.end() && s->second.count(file) > 0;
}

bool FaultMap::file_or_records_touched(std::uint64_t stream, const std::string& file) const {
  if (file_touched(stream, file)) return true;
  auto s = records_.find(stream);
  return s != records_.end() && std::any_of(s->second.begin(), s->second.end(), [&](const auto& kv) { return kv.second.file == file; });
}

bool FaultMap::stream_touched(std::uint64_t stream) const {
  auto r = records_.find(stream);
  auto f = files_.find(stream);
  return (r != records_.end() && !r->second.empty()) || (f != files_.end() && !f->second.empty()) || unreadable(stream);
}

bool FaultMap::any_unreadable() const {
  return !sticky_other_.empty() ||
         std::any_of(sticky_.begin(), sticky_.end(), [](const auto& kv) { return !kv.second.empty(); });
}

bool FaultMap::unreadable(std::uint64_t stream) const {
  auto s = sticky_.find(stream);
  return s != sticky_.end() && !s->second.empty();
}

void FaultMap::forget_file(std::uint64_t stream, const std::string& file) {
  auto s = records_.find(stream);
  if (s == records_.end()) return;
  const std::uint64_t first = first_.count(stream) ? first_.at(stream) : 0;
  std::vector<std::uint64_t> gone;
  for (const auto& [o, t] : s->second) {
    // Below the first retained offset: gone with the file. Above it a repair moved the
    // record into another file: it stays touched.
    if (t.file == file && o < first) gone.push_back(o);
  }
  for (std::uint64_t o : gone) forget(stream, o);
}

void FaultMap::forget(std::uint64_t stream, std::uint64_t offset, std::uint64_t before) {
  auto s = records_.find(stream);
  if (s == records_.end()) return;
  auto r = s->second.find(offset);
  if (r == s->second.end() || r->second.seq >= before) return;
  s->second.erase(r);
  model_.unskip(stream, offset, offset + 1);
}

std::vector<std::uint64_t> FaultMap::touched_offsets(std::uint64_t stream) const {
  std::vector<std::uint64_t> out;
  auto s = records_.find(stream);
  if (s != records_.end()) {
    for (const auto& [o, t] : s->second) out.push_back(o);
  }
  return out;
}

}  // namespace cairn::sim
