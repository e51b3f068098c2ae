// A RapidCheck stateful test: random sequences of append, batch, checkpoint, sync,
// close/reopen, purge, read and verify, on a real directory and on SimFileSystem (faults
// off), against a model that
// predicts offsets, checkpoint placement, segment rotation and purge exactly.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <rapidcheck/state.h>

#include <map>
#include <optional>

#include "core/format.h"
#include "core/tests/test_env.h"

using namespace cairn;

namespace {

constexpr std::uint64_t kSegmentBytes = 1024;
constexpr std::uint64_t kCheckpointInterval = 5;

Options model_options() {
  Options o;
  o.max_segment_bytes = kSegmentBytes;
  o.checkpoint_interval = kCheckpointInterval;
  o.index_interval_bytes = 128;
  o.sync = parse_sync_policy("every:3").value();
  return o;
}

struct MSegment {
  std::uint64_t base = 0;
  std::uint64_t bytes = format::kSegmentHeaderBytes;
  std::uint64_t next = 0;
};

struct MStream {
  std::vector<std::optional<Bytes>> records;  // by offset; nullopt = checkpoint record
  std::uint64_t first = 0;
  std::uint64_t since_checkpoint = 0;
  std::vector<MSegment> segments{MSegment{}};
  std::uint64_t next() const { return records.size(); }
};

struct Model {
  std::map<std::uint64_t, MStream> streams;
};

// The system under test on either filesystem.
struct Sut {
  explicit Sut(bool on_sim) {
    if (on_sim) {
      sim = std::make_unique<cairn::testing::SimEnv>();
    } else {
      posix = std::make_unique<cairn::testing::PosixEnv>();
    }
    store = Store::open(fs(), clock(), dir(), model_options()).value();
  }
  fs::FileSystem& fs() { return sim ? sim->fs() : posix->fs(); }
  ManualClock& clock() { return sim ? sim->clock : posix->clock; }
  std::string dir() const { return sim ? sim->dir : posix->dir; }

  std::unique_ptr<cairn::testing::PosixEnv> posix;
  std::unique_ptr<cairn::testing::SimEnv> sim;
  std::unique_ptr<Store> store;
};

using Cmd = rc::state::Command<Model, Sut>;

struct Append : Cmd {
  std::uint64_t stream = *rc::gen::inRange<std::uint64_t>(0, 3);
  std::vector<Bytes> batch = *rc::gen::resize(
      12, rc::gen::nonEmpty(rc::gen::container<std::vector<Bytes>>(
              rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>()))));

  void apply(Model& m) const override {
    MStream& s = m.streams[stream];
    const bool checkpoint = s.since_checkpoint + batch.size() >= kCheckpointInterval;
    std::uint64_t bytes = checkpoint ? format::kFrameHeaderBytes + format::kCheckpointPayloadBytes : 0;
    for (const Bytes& b : batch) bytes += format::kFrameHeaderBytes + b.size();
    MSegment& active = s.segments.back();
    if (active.next != active.base && active.bytes + bytes > kSegmentBytes) {
      s.segments.push_back(MSegment{s.next(), format::kSegmentHeaderBytes, s.next()});
    }
    for (const Bytes& b : batch) s.records.push_back(b);
    if (checkpoint) s.records.push_back(std::nullopt);
    s.segments.back().bytes += bytes;
    s.segments.back().next = s.next();
    s.since_checkpoint = checkpoint ? 0 : s.since_checkpoint + batch.size();
  }

  void run(const Model& m, Sut& sut) const override {
    auto it = m.streams.find(stream);
    const std::uint64_t before = it == m.streams.end() ? 0 : it->second.next();
    auto r = sut.store->append(stream, batch);
    RC_ASSERT(r.ok());
    RC_ASSERT(r->first_offset == before);
    RC_ASSERT(r->last_offset == before + batch.size() - 1);
  }

  void show(std::ostream& os) const override {
    os << "Append(stream " << stream << ", " << batch.size() << " records)";
  }
};

struct Checkpoint : Cmd {
  std::uint64_t stream = *rc::gen::inRange<std::uint64_t>(0, 3);
  void checkPreconditions(const Model& m) const override { RC_PRE(m.streams.count(stream) > 0); }
  void apply(Model& m) const override {
    MStream& s = m.streams[stream];
    const std::uint64_t bytes = format::kFrameHeaderBytes + format::kCheckpointPayloadBytes;
    if (s.segments.back().next != s.segments.back().base && s.segments.back().bytes + bytes > kSegmentBytes) {
      s.segments.push_back(MSegment{s.next(), format::kSegmentHeaderBytes, s.next()});
    }
    s.records.push_back(std::nullopt);
    s.segments.back().bytes += bytes;
    s.segments.back().next = s.next();
    s.since_checkpoint = 0;
  }
  void run(const Model& m, Sut& sut) const override {
    auto r = sut.store->checkpoint(stream);
    RC_ASSERT(r.ok());
    RC_ASSERT(*r == m.streams.at(stream).next());
  }
  void show(std::ostream& os) const override { os << "Checkpoint(" << stream << ")"; }
};

struct Sync : Cmd {
  void run(const Model& m, Sut& sut) const override {
    RC_ASSERT(sut.store->sync().ok());
    for (const auto& [id, s] : m.streams) RC_ASSERT(sut.store->durable_offset(id).value() == s.next());
  }
  void show(std::ostream& os) const override { os << "Sync"; }
};

struct Reopen : Cmd {
  void apply(Model& m) const override {
    // Recovery recounts the records since the last retained checkpoint.
    for (auto& [id, s] : m.streams) {
      s.since_checkpoint = s.next() - s.first;
      for (std::uint64_t o = s.next(); o > s.first; --o) {
        if (!s.records[o - 1]) {
          s.since_checkpoint = s.next() - o;
          break;
        }
      }
    }
  }
  void run(const Model&, Sut& sut) const override {
    RC_ASSERT(sut.store->close().ok());
    sut.store.reset();
    auto s = Store::open(sut.fs(), sut.clock(), sut.dir(), model_options());
    RC_ASSERT(s.ok());
    RC_ASSERT(s.value()->recovery_report().clean());
    sut.store = std::move(s).value();
  }
  void show(std::ostream& os) const override { os << "CloseReopen"; }
};

struct Purge : Cmd {
  std::uint64_t stream = *rc::gen::inRange<std::uint64_t>(0, 3);
  std::uint64_t max_bytes = *rc::gen::inRange<std::uint64_t>(0, 4 * kSegmentBytes);
  void checkPreconditions(const Model& m) const override { RC_PRE(m.streams.count(stream) > 0); }
  void apply(Model& m) const override {
    MStream& s = m.streams[stream];
    std::uint64_t total = 0;
    for (const MSegment& g : s.segments) total += g.bytes;
    while (s.segments.size() > 1 && total > max_bytes) {
      total -= s.segments.front().bytes;
      s.segments.erase(s.segments.begin());
    }
    s.first = s.segments.front().base;
  }
  void run(const Model& m, Sut& sut) const override {
    RC_ASSERT(sut.store->purge(stream, PurgeOptions{std::nullopt, max_bytes}).ok());
    Model after = m;
    apply(after);
    const MStream& s = after.streams.at(stream);
    auto st = sut.store->stats(stream);
    RC_ASSERT(st.ok());
    RC_ASSERT(st->first_offset == s.first);
    RC_ASSERT(st->segments == s.segments.size());
  }
  void show(std::ostream& os) const override {
    os << "Purge(stream " << stream << ", max_bytes " << max_bytes << ")";
  }
};

struct Read : Cmd {
  std::uint64_t stream = *rc::gen::inRange<std::uint64_t>(0, 3);
  std::uint64_t pick = *rc::gen::arbitrary<std::uint64_t>();
  std::uint64_t max_bytes = *rc::gen::inRange<std::uint64_t>(0, 400);
  void checkPreconditions(const Model& m) const override { RC_PRE(m.streams.count(stream) > 0); }
  void run(const Model& m, Sut& sut) const override {
    const MStream& s = m.streams.at(stream);
    const std::uint64_t from = s.first + pick % (s.next() - s.first + 1);
    auto r = sut.store->read(stream, from, max_bytes);
    RC_ASSERT(r.ok());
    std::uint64_t total = 0;
    std::uint64_t at = from;
    for (const Record& rec : *r) {
      RC_ASSERT(rec.offset == at);
      const auto& want = s.records[at];
      RC_ASSERT((rec.kind == RecordKind::checkpoint) == !want.has_value());
      if (want) RC_ASSERT(rec.payload == *want);
      total += rec.payload.size();
      ++at;
    }
    // It stops exactly when max_bytes is reached or the stream ends.
    const bool ended = at == s.next();
    RC_ASSERT(ended || total >= max_bytes);
    if (r->size() > 1) RC_ASSERT(total - r->back().payload.size() < max_bytes);
    if (from < s.next()) RC_ASSERT(!r->empty());
    if (s.first > 0) RC_ASSERT(sut.store->read(stream, s.first - 1, 1).error().code == Errc::not_found);
  }
  void show(std::ostream& os) const override {
    os << "Read(stream " << stream << ", pick " << pick << ", max " << max_bytes << ")";
  }
};

struct Verify : Cmd {
  void run(const Model& m, Sut& sut) const override {
    auto v = sut.store->verify();
    RC_ASSERT(v.ok());
    RC_ASSERT(v->clean());
    std::uint64_t records = 0;
    for (const auto& [id, s] : m.streams) records += s.next() - s.first;
    RC_ASSERT(v->records == records);
  }
  void show(std::ostream& os) const override { os << "Verify"; }
};

}  // namespace

TEST_CASE("the store behaves like its model under random operation sequences") {
  for (bool on_sim : {false, true}) {
    SECTION(on_sim ? "on SimFileSystem" : "on a real directory") {
      rc::prop("store matches model", [on_sim] {
        Model model;
        Sut sut(on_sim);
        rc::state::check(model, sut,
                         rc::state::gen::execOneOfWithArgs<Append, Append, Append, Checkpoint, Sync,
                                                           Reopen, Purge, Read, Read, Verify>());
      });
    }
  }
}
