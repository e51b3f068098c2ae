// Damage at rest: bit flips (uniform, or aimed at frame edges: CRC, length, offset,
// timestamp, kind and flags, chain link, last payload byte, segment header; or in the
// manifest, an index sidecar or a Merkle spine), payload
// edits with the CRC fixed (tampering) and index sidecars that lie with a valid CRC.
//
// The injector reads the file with the simulator's own format rules before it damages
// it and tells the fault map which record (or file) it hit. It uses inspection calls of
// SimFileSystem only, so its own reads are never operations: never a crash point, never
// latency, never in the trace but as the fault itself.
#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/format_rules.h"
#include "sim/world.h"

namespace cairn::sim {
namespace {

constexpr std::uint32_t kFrameLimit = 1u << 30;

std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

using FrameAt = rules::WalkedFrame;

std::vector<FrameAt> frames_of(ByteView file, const std::string& name) {
  const auto base = rules::segment_base(name, "log");
  if (!base || file.size() < rules::kHeaderBytes) return {};
  return rules::walk_frames(file, *base, kFrameLimit);
}

// A byte at one of a frame's edges, as an offset inside the frame.
std::uint64_t edge_in_frame(Prng& p, const rules::Frame& f) {
  switch (p.below(8)) {
    case 0: return p.below(4);            // CRC32C
    case 1: return 4 + p.below(4);        // payload length
    case 2: return 8 + p.below(8);        // offset
    case 3: return 16 + p.below(8);       // timestamp
    case 4: return 32 + p.below(2);       // kind, flags (batch end)
    case 5: return 36 + p.below(32);      // prev_hash
    case 6: return f.bytes - 1;           // last byte
    default: return f.bytes - 1 - p.below(std::min<std::uint64_t>(f.bytes, 8));  // near the end
  }
}

}  // namespace

// A random durable file of the store with the given extension ("log", "idx"), or a
// stream's spine ("spine"); sets `stream`.
std::string World::pick_file(const std::string& ext, std::uint64_t& stream) {
  std::vector<std::pair<std::string, std::uint64_t>> files;
  const std::string prefix = std::string(kStoreDir) + "/";
  for (const std::string& path : fs_.visible_files(prefix)) {
    const std::string rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos) continue;
    auto id = rules::stream_of_dir(rest.substr(0, slash));
    const std::string name = rest.substr(slash + 1);
    const bool match = ext == "spine" ? name == "spine" : rules::segment_base(name, ext).has_value();
    if (id && match) files.emplace_back(path, *id);
  }
  if (files.empty()) return {};
  const auto& pick = files[workload_.below(files.size())];
  stream = pick.second;
  return pick.first;
}

void World::bitrot() {
  std::vector<int> modes;
  if (swarm_.bit_flips) modes.push_back(0);
  if (swarm_.tampering) modes.push_back(1);
  if (swarm_.index_lies) modes.push_back(2);
  if (modes.empty()) return;
  const int mode = modes[workload_.below(modes.size())];
  std::uint64_t stream = 0;
  if (mode == 0) {
    const std::uint64_t which = workload_.below(8);
    if (which == 0) return flip(std::string(kStoreDir) + "/MANIFEST", 0, false);
    const bool idx = which <= 2;
    const char* ext = which == 3 ? "spine" : idx ? "idx" : "log";  // the spine: proofs must fail, never lie
    const std::string path = pick_file(ext, stream);
    if (!path.empty()) flip(path, stream, !idx && workload_.chance_ppm(swarm_.edge_damage_ppm));
    return;
  }
  const std::string path = pick_file(mode == 1 ? "log" : "idx", stream);
  if (path.empty()) return;
  if (mode == 1) return tamper(path, stream);
  lie(path, stream);
}

void World::flip(const std::string& path, std::uint64_t stream, bool edge) {
  const auto data = fs_.durable_contents(path);
  if (!data || data->empty()) return;
  const std::string name = name_of(path);
  const bool log = rules::segment_base(name, "log").has_value();
  const std::vector<FrameAt> frames = log ? frames_of(*data, name) : std::vector<FrameAt>{};
  std::uint64_t byte = workload_.below(data->size());
  if (edge && !frames.empty()) {
    if (workload_.below(8) == 0) {
      byte = workload_.below(rules::kHeaderBytes);
    } else {
      const FrameAt& at = frames[workload_.below(frames.size())];
      if (at.valid) byte = at.f.pos + edge_in_frame(workload_, at.f);
    }
  }
  if (!fs_.inject_bit_flip(path, byte, static_cast<unsigned>(workload_.below(8)))) return;
  REACHABLE("sim: a bit flipped at rest");
  if (edge) REACHABLE("sim: a bit flipped at a frame edge");
  if (name == "MANIFEST") return faults_.touch_manifest();
  if (!log) return faults_.touch_file(stream, name);
  for (const FrameAt& at : frames) {
    const rules::Frame& f = at.f;
    if (byte >= f.pos && byte < f.pos + f.bytes) {
      note(fmt::format("bit flip in stream {} {} byte {} (offset {})", stream, name, byte, f.offset));
      return faults_.touch(stream, f.offset, Touch{name, f.pos, f.bytes, "bit flip"});
    }
  }
  // The segment header (every record of the file is behind it) or bytes past the last
  // frame the lengths lead to: the file is touched.
  note(fmt::format("bit flip in stream {} {} byte {} (not inside a frame)", stream, name, byte));
  faults_.touch_file(stream, name);
  if (byte >= rules::kHeaderBytes) return;
  for (const FrameAt& at : frames) faults_.touch(stream, at.f.offset, Touch{name, at.f.pos, at.f.bytes, "segment header flip"});
}

// Edits one payload byte and fixes the frame's CRC: only the chain can tell. Only durable
// records with a durable successor: a chain exposes an edit only where a later link
// vouches for the record.
void World::tamper(const std::string& path, std::uint64_t stream) {
  auto data = fs_.durable_contents(path);
  if (!data) return;
  const std::uint64_t durable = model_.durable_prefix(stream);
  std::vector<rules::Frame> candidates;
  for (const FrameAt& at : frames_of(*data, name_of(path))) {
    if (at.valid && !at.f.payload.empty() && at.f.offset + 1 < durable) candidates.push_back(at.f);
  }
  if (candidates.empty()) return;
  const rules::Frame f = candidates[workload_.below(candidates.size())];
  Bytes changed = *data;
  // A byte of the payload as stored (compressed or not: a compressed one may then fail to
  // decompress, or decompress to other bytes).
  const std::uint64_t stored = f.bytes - rules::kFrameHeaderBytes;
  changed[f.pos + rules::kFrameHeaderBytes + workload_.below(stored)] ^= static_cast<std::uint8_t>(1u << workload_.below(8));
  rules::reseal_frame(changed, f.pos);
  const ByteView frame = ByteView(changed).subspan(f.pos, f.bytes);
  if (!fs_.inject_overwrite(path, f.pos, frame)) return;
  note(fmt::format("tampered stream {} offset {} (payload edited, CRC fixed)", stream, f.offset));
  faults_.touch(stream, f.offset, Touch{name_of(path), f.pos, f.bytes, "tamper"});
  REACHABLE("sim: a payload was tampered with and its CRC fixed");
}

// A sidecar rewritten to lie, with a valid CRC: an index or checkpoint entry moved by a byte.
void World::lie(const std::string& path, std::uint64_t stream) {
  auto data = fs_.durable_contents(path);
  if (!data) return;
  const auto layout = rules::index_layout(*data);
  if (!layout) return;
  std::vector<std::uint64_t> fields = layout->checkpoint_pos_fields;
  for (std::size_t i = 1; i < layout->entry_pos_fields.size(); ++i) fields.push_back(layout->entry_pos_fields[i]);
  if (fields.empty()) return;
  Bytes changed = *data;
  rules::shift_index_field(changed, fields[workload_.below(fields.size())], 1);
  if (!fs_.inject_overwrite(path, 0, changed)) return;
  faults_.touch_file(stream, name_of(path));
  REACHABLE("sim: an index sidecar was rewritten to lie");
}

}  // namespace cairn::sim
