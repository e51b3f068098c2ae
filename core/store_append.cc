// Store::Impl::append_records: one atomic batch, from frames in memory to a durable
// acknowledgement. The hot path: one buffer per batch, one write, one chain hash per
// record, no other copies.
#include <algorithm>

#include <fmt/format.h>

#include "core/canary.h"
#include "core/codec.h"
#include "core/store_impl.h"
#include "properties/properties.h"

namespace cairn {
namespace {

// Where each frame of a batch went, for the in-memory indexes.
struct Placed {
  std::uint64_t offset;
  std::uint64_t pos;
  bool checkpoint;
  ChainHash prev;  // chain hash before this record
};

struct Encoded {
  Bytes buf;                 // every frame of the batch, back to back
  std::vector<Placed> placed;
  std::uint64_t next_offset = 0;
  ChainHash hash{};          // h(next_offset - 1)
  std::uint64_t last_frame_pos = 0;
};

// How each data record of a batch is stored: compressed when the option is on and that
// makes it smaller (codec 0: as written).
struct Stored {
  std::vector<Bytes> bytes;           // per record: the stored payload when compressed
  std::vector<std::uint8_t> codecs;   // per record
  ByteView at(std::size_t i, const std::vector<ByteView>& raw) const {
    return codecs.empty() || codecs[i] == 0 ? raw[i] : ByteView(bytes[i].data(), bytes[i].size());
  }
};

Stored store_payloads(Compression c, const std::vector<ByteView>& raw) {
  Stored st;
  if (c == Compression::none) return st;
  st.bytes.resize(raw.size());
  st.codecs.assign(raw.size(), 0);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (codec::compress(static_cast<codec::Codec>(c), raw[i], st.bytes[i])) st.codecs[i] = static_cast<std::uint8_t>(c);
  }
  return st;
}

// Frames a batch (and its trailing checkpoint) at write_pos, continuing the chain from
// the stream's head: each record's chain hash over its payload as written, its frame
// holding it as stored. REQUIRES: batch_bytes is the exact size of the frames.
Encoded encode_batch(ChainHasher& hasher, const Stream& s, std::uint64_t write_pos, std::uint64_t ts,
                     const std::vector<ByteView>& payloads, const Stored& stored, bool add_checkpoint,
                     std::uint64_t batch_bytes) {
  Encoded e;
  e.buf.reserve(static_cast<std::size_t>(batch_bytes));
  e.placed.reserve(payloads.size() + 1);
  e.next_offset = s.next_offset;
  e.hash = s.head;
  auto add = [&](RecordKind kind, ByteView payload, ByteView as_stored, std::uint8_t codec, bool last) {
    format::FrameHeader h;
    h.codec = codec;
    h.offset = e.next_offset;
    h.timestamp_us = ts;
    h.durable_offset = s.durable_offset;
    h.kind = static_cast<std::uint8_t>(kind);
    h.flags = last || canary_on(Canary::batch_end_every_record) ? format::kFlagBatchEnd : 0;
    h.prev_hash = e.hash;
    e.last_frame_pos = write_pos + e.buf.size();
    e.placed.push_back({e.next_offset, e.last_frame_pos, kind == RecordKind::checkpoint, e.hash});
    format::encode_frame(h, as_stored, e.buf);
    e.hash = hasher.next(e.hash, e.next_offset, kind, ts,
                         canary_on(Canary::chain_over_stored_bytes) ? as_stored : payload);  // planted bug when on
    ++e.next_offset;
  };
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    add(RecordKind::data, payloads[i], stored.at(i, payloads), stored.codecs.empty() ? 0 : stored.codecs[i],
        i + 1 == payloads.size() && !add_checkpoint);
  }
  if (add_checkpoint) {
    const Bytes cp = format::encode_checkpoint({e.hash, e.next_offset + (canary_on(Canary::checkpoint_count_off_by_one) ? 1 : 0)});
    add(RecordKind::checkpoint, cp, cp, 0, true);
  }
  ALWAYS(e.buf.size() == batch_bytes, "a batch encodes to exactly its planned size",
         {"planned", batch_bytes}, {"encoded", e.buf.size()});
  return e;
}

// The batch's frames join the segment's in-memory state: sparse index entries (with the
// chain hash before each, so verified reads can start there), checkpoints, extent.
void apply_batch(Stream& s, Segment& seg, const Encoded& e, std::uint64_t ts, std::uint64_t index_interval_bytes) {
  for (std::size_t i = 0; i < e.placed.size(); ++i) {
    const Placed& p = e.placed[i];
    s.spine.add(p.offset, i + 1 < e.placed.size() ? e.placed[i + 1].prev : e.hash);
    const bool first_in_segment = seg.entries.empty();
    const std::uint64_t last_indexed = first_in_segment ? 0 : seg.entries.back().byte_pos;
    if (first_in_segment || p.pos - last_indexed >= index_interval_bytes) {
      seg.entries.push_back({p.offset, p.pos, ts});
      seg.entry_hashes.resize(seg.entries.size() - 1);
      seg.entry_hashes.push_back(p.prev);
    }
    if (p.checkpoint) seg.checkpoints.push_back({p.offset, p.pos});
  }
  if (seg.empty()) seg.first_ts = ts;
  seg.last_ts = ts;
  seg.size_bytes += e.buf.size();
  seg.next_offset = e.next_offset;
  seg.last_hash = e.hash;
  seg.last_frame_pos = e.last_frame_pos;
  s.next_offset = e.next_offset;
  s.head = e.hash;
  s.last_ts = ts;
  s.unsynced_records += e.placed.size();
  s.unsynced_bytes += e.buf.size();
  if (canary_on(Canary::durable_offset_at_write)) s.durable_offset = s.next_offset;  // planted bug
}

bool sync_due(const SyncPolicy& policy, const Stream& s) {
  if (policy.mode == SyncMode::always) return !canary_on(Canary::always_no_fsync);
  if (policy.mode != SyncMode::every) return false;
  // A pipelined batch's records stay unsynced until its sync in flight completes.
  const std::uint64_t in_flight_records = s.in_flight ? s.in_flight->records : 0;
  const std::uint64_t in_flight_bytes = s.in_flight ? s.in_flight->bytes : 0;
  const std::uint64_t records =
      s.unsynced_records + in_flight_records - (canary_on(Canary::every_count_off_by_one) ? 1 : 0);
  return (policy.every_records > 0 && records >= policy.every_records) ||
         (policy.every_bytes > 0 && s.unsynced_bytes + in_flight_bytes >= policy.every_bytes &&
          !canary_on(Canary::every_bytes_ignored));
}

}  // namespace

// Writes a batch's frames at write_pos. A failed or short write is cut back and synced
// before the error is returned: a later append never writes after a partial frame, and no
// record of the failed batch comes back after a crash.
static Status write_batch(Store::Impl& im, Stream& s, Segment& seg, std::uint64_t write_pos, ByteView buf) {
  Status written = fs::write_all(*seg.file, write_pos, buf);
  s.dirty = true;  // even a failed write (and its cut-back) must reach the disk before sealing
  if (written.ok()) return {};
  if (canary_on(Canary::append_after_short_write)) {
    auto now_size = seg.file->size();  // planted bug: keep whatever part landed
    if (now_size.ok()) seg.size_bytes = *now_size;
  } else {
    // The cut is made durable before the error returns, so the records of a failed append
    // never come back after a crash (the writes that landed were pending too).
    Status cut = seg.file->truncate(write_pos);
    if (cut.ok() && !canary_on(Canary::cut_back_not_synced)) cut = seg.file->sync();
    if (!cut.ok()) return im.fail_stop(std::move(cut).error());
    s.in_flight.reset();  // that sync covered its writes too
    s.durable = DurableMark{s.next_offset, write_pos, seg.last_frame_pos, s.head};
    s.dirty = false;
    s.unsynced_records = 0;
    s.unsynced_bytes = 0;
    s.durable_offset = s.next_offset;
  }
  SOMETIMES(written.error().code == Errc::no_space, "append failed with no space and was cut back");
  Error e = std::move(written).error();
  e.stream = s.id;
  e.segment = seg.name;
  e.byte_pos = write_pos;
  e.offset = s.next_offset;
  return e;
}

Result<AppendResult> Store::Impl::append_records(Stream& s, const std::vector<ByteView>& payloads,
                                                 bool checkpoint_only, bool pipelined) {
  CAIRN_TRY(check_writable());
  const std::uint64_t interval = options.checkpoint_interval;
  const std::uint64_t data_records = payloads.size();
  const bool add_checkpoint =
      checkpoint_only || (interval > 0 && s.records_since_checkpoint + data_records >= interval);
  std::uint64_t batch_bytes = add_checkpoint ? format::kFrameHeaderBytes + format::kCheckpointPayloadBytes : 0;
  const Stored stored = store_payloads(options.compression, payloads);
  for (std::size_t i = 0; i < payloads.size(); ++i) batch_bytes += format::kFrameHeaderBytes + stored.at(i, payloads).size();

  // A batch never spans segments: rotate first when it would cross the limit.
  if (!s.active().empty() && s.active().size_bytes + batch_bytes > options.max_segment_bytes) {
    CAIRN_TRY(rotate(s));
  }
  Segment& seg = s.active();
  const std::uint64_t write_pos = seg.size_bytes;
  const std::uint64_t ts = std::max(clock.now_us(), s.last_ts);
  const Encoded e = encode_batch(hasher, s, write_pos, ts, payloads, stored, add_checkpoint, batch_bytes);
  CAIRN_TRY(write_batch(*this, s, seg, write_pos, e.buf));

  const std::uint64_t old_next = s.next_offset;
  apply_batch(s, seg, e, ts, options.index_interval_bytes);
  s.records_since_checkpoint = add_checkpoint ? 0 : s.records_since_checkpoint + data_records;
  ALWAYS(s.next_offset == old_next + e.placed.size(), "append advances the offset by one per record",
         {"stream", s.id}, {"old_next", old_next}, {"next", s.next_offset});

  AppendResult result;
  result.first_offset = old_next;
  result.last_offset = old_next + (data_records > 0 ? data_records - 1 : 0);
  if (add_checkpoint) {
    result.checkpoint_offset = e.next_offset - 1;
    if (checkpoint_only) result.last_offset = e.next_offset - 1;
  }
  if (pipelined) {
    // The batch is written; the sync in flight (of the batches before it) is waited for
    // only now, so framing and hashing this batch ran beside it.
    if (Status started = start_sync(s); !started.ok()) {
      if (!s.unacked_from) s.unacked_from = old_next;
      return std::move(started).error();
    }
  } else if (sync_due(options.sync, s)) {
    if (canary_on(Canary::ack_before_fsync)) {
      s.durable_offset = s.next_offset;  // planted bug: acknowledged without fdatasync
    } else if (Status synced = sync_stream(s); !synced.ok()) {
      if (!s.unacked_from) s.unacked_from = old_next;
      return std::move(synced).error();
    }
  }
  return result;
}

}  // namespace cairn
