// The spine of each stream: its Merkle tree's leaves in a file retention never purges,
// reconciled with the segments at open (RECOVERY.md, "The spine"), and the proofs built
// on it (Store::merkle_root, prove_inclusion, prove_consistency).
#include <algorithm>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/canary.h"
#include "core/scan.h"
#include "core/spine.h"
#include "core/store.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

constexpr std::uint64_t kEntriesPerRead = 1 << 16;  // 2.25 MiB of entries per pread

std::string spine_path(const Stream& s) { return fs::join_path(s.dir, spine::file_name()); }

Error spine_error(const Stream& s, std::uint64_t offset, std::string what) {
  Error e = make_error(Errc::corruption, fmt::format("stream {}: leaf {}: {}", s.id, offset, what));
  e.stream = s.id;
  e.segment = spine::file_name();
  e.byte_pos = spine::entry_pos(offset);
  e.offset = offset;
  return e;
}

// The entry of `offset` in the spine file: nullopt when its CRC fails. Errors: io_error.
Result<std::optional<ChainHash>> read_entry(fs::File& file, std::uint64_t offset) {
  std::uint8_t buf[spine::kEntryBytes];
  CAIRN_ASSIGN_OR_RETURN(std::size_t got, file.pread(spine::entry_pos(offset), buf));
  if (got != sizeof(buf)) return std::optional<ChainHash>();
  return spine::decode_entry(offset, buf);
}

}  // namespace

void SpineState::add(std::uint64_t offset, const ChainHash& leaf) {
  if (broken || offset != known()) return;
  pending.push_back(leaf);
  if (tree && tree->size() == offset) tree->append_data(leaf);
}

// The spine file as found: its size and the entries up to the last one whose CRC holds.
struct FoundSpine {
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
};

// Entries of the spine file read together: the leaf data of the i-th when its CRC holds.
struct EntryChunk {
  std::uint64_t first_offset = 0;
  std::uint64_t entries = 0;  // entries asked for (the file may end before them)
  ByteView bytes;             // what was read
  std::uint64_t size() const { return entries; }
  std::optional<ChainHash> leaf(std::uint64_t i) const {
    if ((i + 1) * spine::kEntryBytes > bytes.size()) return std::nullopt;
    return spine::decode_entry(first_offset + i, bytes.data() + i * spine::kEntryBytes);
  }
  ByteView first(std::uint64_t n) const { return bytes.first(static_cast<std::size_t>(n * spine::kEntryBytes)); }
};

// Reads the entries [from, to) 64 KiB at a time and hands each chunk to `visit`, which
// returns whether to go on. Errors: io_error, and visit's.
template <typename Visit>
static Status for_entry_chunks(fs::File& file, std::uint64_t from, std::uint64_t to, Visit&& visit) {
  constexpr std::uint64_t kChunkEntries = 65536 / spine::kEntryBytes;
  Bytes buf;
  for (std::uint64_t at = from; at < to; at += kChunkEntries) {
    const std::uint64_t n = std::min(kChunkEntries, to - at);
    buf.resize(static_cast<std::size_t>(n * spine::kEntryBytes));
    CAIRN_ASSIGN_OR_RETURN(std::size_t got, fs::read_full(file, spine::entry_pos(at), buf));
    CAIRN_ASSIGN_OR_RETURN(bool go_on, visit(EntryChunk{at, n, ByteView(buf.data(), got)}));
    if (!go_on) break;
  }
  return {};
}

// The entries [from, to) written since the last sync the manifest vouches for: returns
// the first whose CRC fails (`to` when none), which ends what is kept: a crash may tear
// any of them (a sector lost, a later one kept), not only the last. With `rewrite` (a
// writable open after an unclean shutdown) the good ones are written again, so that the
// sync after makes them durable: after a failed fsync the kernel may have marked them
// clean while they sit only in the page cache (fsyncgate). Read 64 KiB at a time.
static Result<std::uint64_t> keep_unsynced(fs::File& file, std::uint64_t from, std::uint64_t to, bool rewrite) {
  std::uint64_t kept = to;
  Status walked = for_entry_chunks(file, from, to, [&](const EntryChunk& chunk) -> Result<bool> {
    std::uint64_t good = 0;
    while (good < chunk.size() && chunk.leaf(good)) ++good;
    if (rewrite && good > 0) CAIRN_TRY(fs::write_all(file, spine::entry_pos(chunk.first_offset), chunk.first(good)));
    if (good == chunk.size()) return true;
    kept = chunk.first_offset + good;
    return false;
  });
  CAIRN_TRY(std::move(walked));
  return kept;
}

// Offsets whose spine entries were synced before the manifest read at open was written:
// those below the first retained offset (a purge flushes the spine first) and of the
// segments it lists as sealed. Past them a crash may have torn any entry, not only the last.
static std::uint64_t synced_below(const Stream& s) {
  std::uint64_t below = s.segments.empty() ? 0 : s.segments.front().base_offset;
  for (const Segment& g : s.segments) {
    if (!g.sealed_in_manifest) break;
    below = g.next_offset;
  }
  return below;
}

// Reads the spine file's header and counts its entries up to the first that fails its
// CRC where a crash may have torn it, or removes a file whose header is not one (a
// creation a crash cut short, or damage).
static Result<FoundSpine> read_spine(Store::Impl& im, Stream& s, bool clean_shutdown) {
  SpineState& sp = s.spine;
  const std::string path = spine_path(s);
  CAIRN_ASSIGN_OR_RETURN(bool present, im.fs.exists(path));
  if (!present) return FoundSpine{};  // created at the first seal or close
  CAIRN_ASSIGN_OR_RETURN(sp.file, im.fs.open(path, fs::OpenOptions{.read_only = im.read_only()}));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t bytes, sp.file->size());
  Bytes header(spine::kHeaderBytes);
  CAIRN_ASSIGN_OR_RETURN(std::size_t got, sp.file->pread(0, header));
  header.resize(got);
  if (Status ok = spine::check_header(header, s.id, path); !ok.ok()) {
    if (ok.error().code == Errc::unsupported_format) return std::move(ok).error();
    im.act(fmt::format("stream {}: removed the spine ({})", s.id, ok.error().message),
           fmt::format("stream {}: would remove the spine ({})", s.id, ok.error().message));
    sp.file.reset();
    if (!im.read_only()) CAIRN_TRY(im.fs.unlink(path));
    return FoundSpine{};
  }
  const bool rewrite = !im.read_only() && !clean_shutdown;
  // After an unclean shutdown the header may be one a failed fsync left only in this
  // process's view (fsyncgate: the kernel marks the page clean); written again, the sync
  // open makes next puts it on the disk (seed 8287: a purge, then a header of zeros).
  if (rewrite && !canary_on(Canary::spine_header_trusted)) CAIRN_TRY(fs::write_all(*sp.file, 0, header));
  const std::uint64_t count = spine::entries_in(bytes);
  // Entries written since the last sync may be torn anywhere (a sector lost, a later one
  // kept): the first that fails its CRC there ends what is kept. Below, a failing entry
  // is damage at rest, found by the proof that reads it.
  const std::uint64_t from = std::min(count, canary_on(Canary::spine_torn_middle_kept) ? count : synced_below(s));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t good, keep_unsynced(*sp.file, from, count, rewrite));
  if (canary_on(Canary::spine_torn_middle_kept)) {  // planted bug: only torn entries at the end go
    good = count;
    while (good > 0) {
      CAIRN_ASSIGN_OR_RETURN(auto last, read_entry(*sp.file, good - 1));
      if (last) break;
      --good;
    }
  }
  return FoundSpine{bytes, good};
}

static Status write_pending_leaves(Store::Impl& im, Stream& s, bool atomically);

Status Store::Impl::open_spine(Stream& s, bool clean_shutdown) {
  SpineState& sp = s.spine;
  sp = SpineState{};
  CAIRN_ASSIGN_OR_RETURN(const FoundSpine found, read_spine(*this, s, clean_shutdown));
  const std::uint64_t count = found.entries;
  const std::uint64_t keep = std::min(count, s.next_offset);
  if (keep < count) {
    act(fmt::format("stream {}: cut the spine back from {} to {} leaves (records past {} did not survive)", s.id,
                    count, keep, keep),
        fmt::format("stream {}: would cut the spine back from {} to {} leaves", s.id, count, keep));
    REACHABLE("recovery cut back a spine ahead of its log", {"stream", s.id});
  }
  if (sp.file && !read_only()) {
    // Torn entries and entries past the log go; what stays is synced even when nothing was
    // cut: after a process crash the last seal's entries may sit only in the page cache,
    // and a purge must not remove segments whose leaves are not durable.
    if (spine::entry_pos(keep) != found.bytes) CAIRN_TRY(sp.file->truncate(spine::entry_pos(keep)));
    Status synced = sp.file->sync();
    if (!synced.ok()) return fail_stop(std::move(synced).error());
  }
  sp.on_disk = keep;
  const bool sealed_behind = keep < s.active().base_offset && keep < s.next_offset;
  // The active segment's leaves come from recovery's scan; a spine behind it (leaves of
  // sealed segments lost with a crash, or the file) is re-derived from the segments.
  CAIRN_TRY(derive_spine(s, s.next_offset));
  s.active().scanned_leaves = {};
  if (sealed_behind) {
    REACHABLE("recovery re-derived spine leaves of sealed segments", {"stream", s.id});
    act(fmt::format("stream {}: re-derived spine leaves from {} on from the segments", s.id, keep),
        fmt::format("stream {}: would re-derive spine leaves from {} on from the segments", s.id, keep));
    // Retention may remove those segments: their leaves are made durable now, and
    // atomically, since the next open trusts the entries of segments the manifest lists
    // as sealed without checking them (an entry torn here would be believed).
    if (!read_only()) {
      CAIRN_TRY(write_pending_leaves(*this, s, !canary_on(Canary::spine_rederived_in_place)));  // planted bug when on
    }
  }
  if (sp.broken) {
    // Proofs of larger trees fail until a reopen or repair finds the leaf (a damaged
    // record), or for good (a record retention removed before its leaf was kept).
    const std::string stops = fmt::format("stream {}: the spine's leaves stop at {}: {}", s.id, sp.known(),
                                          sp.broken->message);
    act(stops, stops);
  }
  return {};
}

// The leaf data of `offset` (< known()), or nullopt when its spine entry fails its CRC.
static Result<std::optional<ChainHash>> known_leaf(SpineState& sp, std::uint64_t offset) {
  if (offset >= sp.on_disk) return std::optional<ChainHash>(sp.pending[offset - sp.on_disk]);
  return read_entry(*sp.file, offset);
}

Status Store::Impl::check_spine_leaves(Stream& s, std::uint64_t base, std::uint64_t count,
                                       const std::vector<ChainHash>* leaves, std::vector<Finding>& out) {
  SpineState& sp = s.spine;
  const std::uint64_t end = std::min(base + count, sp.known());
  auto differs = [&](std::uint64_t o, const ChainHash& leaf) {
    return leaves != nullptr && leaf != (*leaves)[o - base] && leaf != spine::kLostLeaf;
  };
  auto finding = [&](std::uint64_t o, const char* what) {
    out.push_back(Finding{s.id, spine::file_name(), spine::entry_pos(o), o, o + 1,
                          fmt::format("spine entry for offset {} {} (proofs of trees that hold it fail; the "
                                      "record itself is intact)", o, what),
                          FindingKind::spine});
  };
  // The entries in the file, then those still in memory.
  bool wrong = false;
  const std::uint64_t in_file = std::min(end, sp.on_disk);  // no file when it holds none
  if (base < in_file) CAIRN_TRY(for_entry_chunks(*sp.file, base, in_file, [&](const EntryChunk& chunk) -> Result<bool> {
    for (std::uint64_t i = 0; i < chunk.size() && !wrong; ++i) {
      const std::uint64_t o = chunk.first_offset + i;
      const auto leaf = chunk.leaf(i);
      const char* what = !leaf ? "fails its CRC32C" : differs(o, *leaf) ? "differs from the record's chain hash" : nullptr;
      if (what != nullptr) finding(o, what);
      wrong = what != nullptr;
    }
    return !wrong;
  }));
  if (wrong) return {};
  for (std::uint64_t o = std::max(base, sp.on_disk); o < end; ++o) {
    if (differs(o, sp.pending[o - sp.on_disk])) {
      finding(o, "differs from the record's chain hash");
      return {};
    }
  }
  return {};
}

// The leaves of a segment recovery did not scan: scanned from its header as recovery scans
// the active one (verified along the chain from the anchor, up to the first damage, never
// the record before a chain break). Returns the first damage found, in words ("" if none).
static Result<std::string> scan_leaves(Store::Impl& im, Stream& s, Segment& seg) {
  ScanInput in = im.scan_input(s, seg, seg.size_bytes);
  if (seg.sealed) in.expected_last_hash = seg.last_hash;
  in.collect_leaves = true;
  std::optional<FrameReader> reader;
  CAIRN_TRY(im.open_reader(s, seg, seg.size_bytes, FrameReader::kDefaultWindowBytes, reader));
  CAIRN_ASSIGN_OR_RETURN(ScanResult r, scan_segment(*reader, in, im.hasher));
  seg.scanned_leaves = std::move(r.leaves);
  return r.damage.empty() ? std::string() : r.damage.front().to_string();
}

Status Store::Impl::derive_spine(Stream& s, std::uint64_t limit) {
  SpineState& sp = s.spine;
  while (!sp.broken && sp.known() < limit) {
    const std::uint64_t x = sp.known();
    if (const manifest::Gap* g = s.gap_at(x)) {  // removed by repair before its leaf was kept
      for (std::uint64_t o = x; o < std::min(g->to_offset, limit); ++o) sp.add(o, spine::kLostLeaf);
      continue;
    }
    if (x < s.first_offset()) {
      sp.broken = spine_error(s, x, fmt::format("not in the spine, and retention removed its segment (the stream "
                                                "starts at {})", s.first_offset()));
      break;
    }
    auto seg = std::find_if(s.segments.begin(), s.segments.end(),
                            [&](const Segment& g) { return x >= g.base_offset && x < g.next_offset; });
    if (seg == s.segments.end() || seg->missing) {
      sp.broken = spine_error(s, x, "no segment holds its record");
      break;
    }
    std::string damage;
    if (x - seg->base_offset >= seg->scanned_leaves.size()) {
      CAIRN_ASSIGN_OR_RETURN(damage, scan_leaves(*this, s, *seg));
    }
    const std::vector<ChainHash>& leaves = seg->scanned_leaves;
    const std::uint64_t i = x - seg->base_offset;
    if (i >= leaves.size()) {
      sp.broken = spine_error(s, x, fmt::format("{}: its record is not verified{}", seg->name,
                                                damage.empty() ? "" : " (" + damage + ")"));
      break;
    }
    if (i > 0) {  // the spine's last leaf must be the segment's chain hash before x
      CAIRN_ASSIGN_OR_RETURN(auto before, known_leaf(sp, x - 1));
      if (before != leaves[i - 1]) {
        sp.broken = spine_error(s, x, fmt::format("{} does not continue the spine's leaf {}", seg->name, x - 1));
        break;
      }
    }
    const std::uint64_t end = std::min(limit, seg->base_offset + leaves.size());
    for (std::uint64_t o = x; o < end; ++o) sp.add(o, leaves[o - seg->base_offset]);
    if (&*seg != &s.active() && sp.known() >= seg->next_offset) seg->scanned_leaves = {};  // consumed
  }
  return {};
}

// Creates the spine file with its header, durable with its directory entry.
static Status create_spine(Store::Impl& im, Stream& s) {
  const std::string path = spine_path(s);
  CAIRN_ASSIGN_OR_RETURN(s.spine.file, create_fresh(im.fs, path));
  CAIRN_TRY(fs::write_all(*s.spine.file, 0, spine::encode_header(s.id)));
  Status synced = s.spine.file->sync();
  if (synced.ok()) synced = im.fs.sync_dir(s.dir);
  if (!synced.ok()) return im.fail_stop(std::move(synced).error());
  s.spine.entry_made_here = true;
  return {};
}

// Replaces the spine file by a copy of its entries on disk and then `tail`
// (core/atomic_file.h) and opens the copy. On a failure the old handle stays (its entries
// are the copy's first ones: reads and verify of this fail-stopped store still work) and
// the store becomes fail-stop.
static Status copy_spine_into_place(Store::Impl& im, Stream& s, ByteView tail) {
  SpineState& sp = s.spine;
  Status st = recreate_file(im.fs, s.dir, spine::file_name(), spine::entry_pos(sp.on_disk), tail);
  if (!st.ok()) return im.failed ? st : im.fail_stop(std::move(st).error());
  auto reopened = im.fs.open(spine_path(s), fs::OpenOptions{});
  if (!reopened.ok()) return im.fail_stop(std::move(reopened).error());
  sp.file = std::move(reopened).value();
  sp.entry_made_here = true;
  return {};
}

Status Store::Impl::secure_spine_entry(Stream& s) {
  if (!s.spine.file || s.spine.entry_made_here || canary_on(Canary::spine_entry_trusted)) return {};  // planted bug when on
  return copy_spine_into_place(*this, s, {});
}

// Writes every leaf up to next_offset that the spine file lacks, then makes it durable:
// appended and synced in place, or (`atomically`) by replacing the file with a copy of its
// entries and then theirs, synced, renamed over it, the directory synced
// (core/atomic_file.h), so that after a crash the spine holds its old entries or all of
// them. A failure makes the store fail-stop.
static Status write_pending_leaves(Store::Impl& im, Stream& s, bool atomically) {
  SpineState& sp = s.spine;
  CAIRN_TRY(im.derive_spine(s, s.next_offset));
  if (sp.pending.empty()) return {};
  Status st = sp.file ? Status() : create_spine(im, s);
  if (!st.ok()) return im.failed ? st : im.fail_stop(std::move(st).error());
  Bytes entries(sp.pending.size() * spine::kEntryBytes);
  for (std::size_t i = 0; i < sp.pending.size(); ++i) {
    spine::encode_entry(sp.on_disk + i, sp.pending[i], entries.data() + i * spine::kEntryBytes);
  }
  if (atomically) {
    CAIRN_TRY(copy_spine_into_place(im, s, entries));
  } else {
    st = fs::write_all(*sp.file, spine::entry_pos(sp.on_disk), entries);
    if (st.ok() && !canary_on(Canary::spine_not_synced)) st = sp.file->sync();
    // Leaves not durable would leave their segments unpurgeable: stop writing instead.
    if (!st.ok()) return im.fail_stop(std::move(st).error());
  }
  sp.on_disk += sp.pending.size();
  sp.pending.clear();
  return {};
}

Status Store::Impl::flush_spine(Stream& s) { return write_pending_leaves(*this, s, false); }

// Reads every spine entry into a new tree. Errors: corruption (an entry's CRC), io_error.
static Status build_tree(Stream& s) {
  SpineState& sp = s.spine;
  auto tree = std::make_unique<merkle::Tree>();
  Bytes buf;
  for (std::uint64_t o = 0; o < sp.on_disk;) {
    const std::uint64_t n = std::min(kEntriesPerRead, sp.on_disk - o);
    buf.resize(n * spine::kEntryBytes);
    CAIRN_ASSIGN_OR_RETURN(std::size_t got, sp.file->pread(spine::entry_pos(o), buf));
    for (std::uint64_t i = 0; i < n; ++i, ++o) {
      auto leaf = (i + 1) * spine::kEntryBytes <= got ? spine::decode_entry(o, buf.data() + i * spine::kEntryBytes)
                                                      : std::nullopt;
      if (!leaf) return spine_error(s, o, "spine entry fails its CRC32C");
      tree->append_data(*leaf);
    }
  }
  for (const ChainHash& leaf : sp.pending) tree->append_data(leaf);
  sp.tree = std::move(tree);
  return {};
}

Result<const merkle::Tree*> Store::Impl::spine_tree(Stream& s, std::uint64_t size) {
  CAIRN_TRY(check_fresh(s));
  if (size > s.readable_end()) {
    return make_error(Errc::invalid_argument, fmt::format("stream {}: tree size {} is above its {} records", s.id,
                                                          size, s.readable_end()));
  }
  if (!s.spine.tree) CAIRN_TRY(build_tree(s));
  CAIRN_TRY(derive_spine(s, size));
  if (s.spine.known() < size) return *s.spine.broken;
  ALWAYS(s.spine.tree->size() == s.spine.known(), "the tree holds every known leaf", {"stream", s.id});
  return s.spine.tree.get();
}

Result<ChainHash> Store::merkle_root(std::uint64_t stream, std::uint64_t tree_size) {
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  CAIRN_ASSIGN_OR_RETURN(const merkle::Tree* t, impl_->spine_tree(*s, tree_size));
  return t->root(tree_size);
}

Result<InclusionProof> Store::prove_inclusion(std::uint64_t stream, std::uint64_t offset, std::uint64_t tree_size) {
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  CAIRN_ASSIGN_OR_RETURN(const merkle::Tree* t, impl_->spine_tree(*s, tree_size));
  InclusionProof p{offset, tree_size, {}, {}};
  CAIRN_ASSIGN_OR_RETURN(p.path, t->inclusion_proof(offset, tree_size));
  CAIRN_ASSIGN_OR_RETURN(auto leaf, known_leaf(s->spine, offset));
  if (!leaf) return spine_error(*s, offset, "spine entry fails its CRC32C");
  p.leaf_data = *leaf;
  return p;
}

Result<std::vector<ChainHash>> Store::prove_consistency(std::uint64_t stream, std::uint64_t old_size,
                                                        std::uint64_t new_size) {
  CAIRN_ASSIGN_OR_RETURN(Stream* s, impl_->find_stream(stream));
  CAIRN_ASSIGN_OR_RETURN(const merkle::Tree* t, impl_->spine_tree(*s, new_size));
  return t->consistency_proof(old_size, new_size);
}

}  // namespace cairn
