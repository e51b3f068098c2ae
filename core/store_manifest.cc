// The store's MANIFEST: built from the in-memory state and replaced atomically; read at
// open. Format: core/manifest.h and core/FORMAT.md ("Manifest").
#include <algorithm>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/canary.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

manifest::StreamEntry stream_entry(const Stream& s) {
  if (s.frozen) return *s.frozen;  // blocked: keep saying what the damage contradicts
  manifest::StreamEntry e;
  e.stream_id = s.id;
  e.first_offset = s.first_offset();
  e.gaps = s.gaps;
  for (const Segment& g : s.segments) {
    if (g.sealed) {
      e.segments.push_back(g.recorded);
      continue;
    }
    // The active segment's entry is the recovery point: where the stream was last
    // known durable, not where it ends now.
    if (canary_on(Canary::recovery_point_ahead)) {  // planted bug: where it ends, synced or not
      e.segments.push_back(manifest::SegmentEntry{g.base_offset, s.next_offset, g.size_bytes, g.last_frame_pos,
                                                  s.head, manifest::SegmentState::active});
      continue;
    }
    e.segments.push_back(manifest::SegmentEntry{g.base_offset, s.durable.offset, s.durable.byte,
                                                s.durable.last_frame_pos, s.durable.hash,
                                                manifest::SegmentState::active});
  }
  return e;
}

}  // namespace

manifest::Manifest Store::Impl::build_manifest(bool clean) const {
  manifest::Manifest m;
  m.generation = manifest_generation + 1;
  m.clean_shutdown = clean;
  m.max_record_bytes = max_record_bytes;
  for (const auto& [id, s] : streams) m.streams.push_back(stream_entry(s));
  return m;
}

Status Store::Impl::persist_manifest(const manifest::Manifest& m) {
  ALWAYS(!read_only(), "a read-only store never writes its manifest");
  const Bytes bytes = manifest::encode(m);
  auto check = manifest::decode(bytes, manifest::kFileName);
  ALWAYS(check.ok(), "the manifest a store writes decodes", {"error", check.ok() ? std::string() : check.error().message});
  bool sync_failed = false;
  Status st = replace_file_atomically(fs, dir, manifest::kFileName, bytes, &sync_failed);
  if (!st.ok()) {
    // The manifest no longer says what the store holds, so nothing more may be
    // acknowledged: fail-stop, whatever the cause (reopen rebuilds it).
    Error e = std::move(st).error();
    e.message = "replacing the manifest failed: " + e.message;
    return fail_stop(std::move(e));
  }
  manifest_generation = m.generation;
  return {};
}

Status Store::Impl::write_manifest(bool clean) {
  CAIRN_TRY(persist_manifest(build_manifest(clean)));
  for (auto& [id, s] : streams) s.written = s.durable;
  return {};
}

Result<std::optional<manifest::Manifest>> Store::Impl::read_manifest() {
  const std::string path = fs::join_path(dir, manifest::kFileName);
  // Far above any real manifest (72 bytes a segment), far below an unbounded allocation.
  constexpr std::uint64_t kManifestBytesMax = 1ull << 30;
  auto bytes = fs::read_file(fs, path, kManifestBytesMax);
  if (!bytes.ok()) {
    if (bytes.error().code == Errc::not_found) return std::optional<manifest::Manifest>();
    return std::move(bytes).error();
  }
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest m, manifest::decode(*bytes, manifest::kFileName));
  return std::optional<manifest::Manifest>(std::move(m));
}

}  // namespace cairn
