#include "core/cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/cli/duration.h"
#include "core/cli/records.h"
#include "core/codec.h"
#include "core/store.h"

namespace cairn::cli {
namespace {

// Progress on stderr, only when stderr is a terminal, at most twice a second.
class Progress {
 public:
  explicit Progress(const char* verb) : verb_(verb), on_(::isatty(2) != 0) {}
  void update(std::uint64_t records, std::uint64_t bytes) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();  // allowed: display only
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    std::fprintf(stderr, "\r%s %llu records (%.1f MiB)", verb_, static_cast<unsigned long long>(records),
                 static_cast<double>(bytes) / (1 << 20));
  }
  void done() {
    if (on_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  const char* verb_;
  bool on_;
  std::chrono::steady_clock::time_point last_{};  // allowed: progress display of the CLI
};


// The append loop of --length-prefixed input. Returns 0, or 1 after printing why.
int append_prefixed(const Args& a, std::vector<Bytes>& batch, std::uint64_t& appended,
                    const std::function<int()>& flush) {
  Bytes buf;
  std::size_t pos = 0;
  bool eof = false;
  while (!eof || pos < buf.size()) {
    ByteView record;
    const PrefixedStatus st = next_length_prefixed(buf, pos, a.max_record_bytes, record);
    if (st == PrefixedStatus::too_large) {
      return fail(make_error(Errc::record_too_large, fmt::format("input record {} is above --max-record-bytes {}",
                                                                 appended + batch.size(), a.max_record_bytes)));
    }
    if (st == PrefixedStatus::ok) {
      batch.emplace_back(record.begin(), record.end());
      if (batch.size() >= a.batch && flush() != 0) return 1;
      continue;
    }
    if (eof) {
      if (flush() != 0) return 1;
      return fail(make_error(Errc::invalid_argument,
                             fmt::format("stdin ends inside a length-prefixed record; the {} complete records "
                                         "before it were appended",
                                         appended)));
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<long>(pos));
    pos = 0;
    const std::size_t had = buf.size();
    buf.resize(had + (1 << 20));
    const std::size_t got = std::fread(buf.data() + had, 1, 1 << 20, stdin);
    buf.resize(had + got);
    eof = got == 0;
  }
  return 0;
}

void print_torn_tails(const RecoveryReport& rep) {
  for (const TornTail& t : rep.torn_tails) {
    std::printf("torn tail: stream %llu file %s %s at byte %llu (%llu bytes, %llu records from offset %llu",
                static_cast<unsigned long long>(t.stream), t.segment.c_str(),
                t.in_progress ? "being written" : t.cut ? "cut" : "would be cut",
                static_cast<unsigned long long>(t.byte_pos), static_cast<unsigned long long>(t.bytes_dropped),
                static_cast<unsigned long long>(t.records_dropped),
                static_cast<unsigned long long>(t.first_offset_dropped));
    if (t.possibly_acknowledged > 0) {
      std::printf("; %llu possibly acknowledged", static_cast<unsigned long long>(t.possibly_acknowledged));
    }
    std::printf(")\n");
  }
}

// The parts of the recovery report that verify's findings do not repeat: a live writer,
// indexes rebuilt, streams blocked, what recovery would do.
void print_recovery_notes(const RecoveryReport& rep) {
  if (rep.live_writer) std::printf("a writer is live: its tail is in progress\n");
  for (const std::string& i : rep.invalid_indexes) std::printf("index rebuilt from the log: %s\n", i.c_str());
  for (std::uint64_t id : rep.blocked_streams) {
    std::printf("stream %llu refuses appends until `cairn repair`\n", static_cast<unsigned long long>(id));
  }
  for (const std::string& act : rep.actions) std::printf("%s\n", act.c_str());
}

nlohmann::json verify_json(const RecoveryReport& rep, const VerifyReport& v) {
  nlohmann::json j;
  j["clean"] = v.findings.empty();
  j["records"] = v.records;
  j["bytes"] = v.bytes;
  j["segments"] = v.segments;
  j["live_writer"] = rep.live_writer;
  j["blocked_streams"] = rep.blocked_streams;
  j["torn_tails"] = nlohmann::json::array();
  for (const TornTail& t : rep.torn_tails) {
    j["torn_tails"].push_back({{"stream", t.stream}, {"file", t.segment}, {"byte", t.byte_pos},
                               {"bytes", t.bytes_dropped}, {"records", t.records_dropped},
                               {"first_offset", t.first_offset_dropped}, {"cut", t.cut},
                               {"in_progress", t.in_progress}, {"possibly_acknowledged", t.possibly_acknowledged}});
  }
  j["findings"] = nlohmann::json::array();
  for (const Finding& f : v.findings) {
    j["findings"].push_back({{"kind", finding_kind_name(f.kind)}, {"stream", f.stream}, {"file", f.segment},
                             {"byte", f.byte_pos}, {"offset", f.offset}, {"end_offset", f.end_offset},
                             {"what", f.what}});
  }
  return j;
}

}  // namespace

int fail(const Error& e) {
  std::fprintf(stderr, "cairn: %s\n", e.to_string().c_str());
  return 1;
}

// Writers lock the store; readers open it read-only and never change a byte. What
// recovery found goes to stderr unless the caller prints it itself (`quiet`: verify).
Result<std::unique_ptr<Store>> open_store(fs::FileSystem& fs, Clock& clock, const Args& a, bool writer,
                                          bool quiet) {
  Options o;
  o.create_if_missing = writer;
  o.read_only = !writer;
  o.max_segment_bytes = a.max_segment_bytes;
  o.max_record_bytes = a.max_record_bytes;
  if (auto c = codec::parse(a.compression)) o.compression = static_cast<Compression>(*c);
  o.mapped_reads = a.mapped;
  o.verify_threads = a.verify_threads;
  CAIRN_ASSIGN_OR_RETURN(o.sync, parse_sync_policy(a.sync));
  auto store = Store::open(fs, clock, a.dir, o);
  if (store.ok() && !quiet) {
    const RecoveryReport& rep = (*store)->recovery_report();
    if (!rep.clean() || !rep.actions.empty() || !rep.invalid_indexes.empty()) {
      std::fprintf(stderr, "%s\n", rep.to_string().c_str());
    }
  }
  return store;
}

int usage(const std::string& why) {
  std::fprintf(stderr, "cairn: %s (see cairn --help)\n", why.c_str());
  return 2;
}

namespace {

// What an append run did, printed on success and also after an error, so a user knows
// which records are in the store and durable (close() syncs them) before retrying.
struct Appended {
  std::uint64_t first = UINT64_MAX, last = 0, records = 0, bytes = 0;
};

void print_appended(const Args& a, const Appended& n, bool failed, const Status& closed) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  if (n.records == 0) {
    std::printf("appended nothing to stream %llu\n", u(a.stream));
    return;
  }
  std::printf("appended offsets %llu..%llu (%llu records, %llu bytes) to stream %llu%s\n", u(n.first), u(n.last),
              u(n.records), u(n.bytes), u(a.stream), failed ? " before the error" : "");
  if (failed) {
    std::printf(closed.ok() ? "durable: all %llu of them (the store was closed and synced)\n"
                            : "durable: not known for these %llu (closing the store failed)\n",
                u(n.records));
  }
}

}  // namespace

int cmd_append(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, true);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  Progress progress("appended");
  std::vector<Bytes> batch;
  Appended n;
  auto flush = [&]() -> int {
    if (batch.empty()) return 0;
    auto r = a.pipelined ? store.append_pipelined(a.stream, batch) : store.append(a.stream, batch);
    if (!r.ok()) return fail(r.error());
    if (n.first == UINT64_MAX) n.first = r->first_offset;
    n.last = r->last_offset;
    n.records += batch.size();
    for (const Bytes& b : batch) n.bytes += b.size();
    batch.clear();
    progress.update(n.records, n.bytes);
    return 0;
  };
  int rc = 0;
  if (a.length_prefixed) {
    rc = append_prefixed(a, batch, n.records, flush);
  } else {
    std::string line;
    while (rc == 0 && std::getline(std::cin, line)) {
      batch.push_back(to_bytes(line));
      if (batch.size() >= a.batch) rc = flush();
    }
  }
  if (rc == 0) rc = flush();
  if (rc == 0 && a.pipelined && n.records > 0) {  // the last batch's sync is still in flight
    const Status durable = store.wait_durable(a.stream, n.last);
    if (!durable.ok()) rc = fail(durable.error());
  }
  progress.done();
  const Status closed = store.close();
  if (rc == 0 && !closed.ok()) return fail(closed.error());
  print_appended(a, n, rc != 0, closed);
  return rc;
}

int cmd_read(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  auto stats = store.stats(a.stream);
  if (!stats.ok()) return fail(stats.error());
  std::uint64_t at = std::max(a.from, stats->first_offset);
  std::uint64_t printed = 0;
  Bytes framed;
  while (at < stats->next_offset && printed < a.limit) {
    const auto gap = std::find_if(stats->gaps.begin(), stats->gaps.end(),
                                  [at](const auto& g) { return at >= g.first && at < g.second; });
    if (gap != stats->gaps.end()) {
      std::fprintf(stderr, "cairn: offsets %llu..%llu were removed by repair; skipping them\n",
                   static_cast<unsigned long long>(gap->first), static_cast<unsigned long long>(gap->second - 1));
      at = gap->second;
      continue;
    }
    auto recs = store.read(a.stream, at, 1 << 20);
    if (!recs.ok()) return fail(recs.error());
    for (const Record& r : *recs) {
      at = r.offset + 1;
      if (printed >= a.limit) break;
      if (a.json) {
        const PayloadText p = payload_text(r.payload);
        nlohmann::json j = {{"offset", r.offset}, {"timestamp_us", r.timestamp_us},
                            {"kind", r.kind == RecordKind::data ? "data" : "checkpoint"},
                            {"encoding", p.encoding}, {"payload", p.text}};
        std::cout << j.dump() << '\n';
      } else if (r.kind != RecordKind::data) {
        continue;
      } else if (a.length_prefixed) {
        framed.clear();
        put_length_prefixed(r.payload, framed);
        std::cout.write(reinterpret_cast<const char*>(framed.data()), static_cast<std::streamsize>(framed.size()));
      } else {
        std::cout.write(reinterpret_cast<const char*>(r.payload.data()), static_cast<std::streamsize>(r.payload.size()));
        std::cout << '\n';
      }
      ++printed;
    }
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}

int cmd_verify(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, false, /*quiet=*/true);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  // Stream by stream, so a long verify shows progress on a terminal.
  VerifyReport v;
  Progress progress("verified");
  if (a.stream_given) {
    auto one = store.verify(a.stream);
    if (!one.ok()) return fail(one.error());
    v = std::move(*one);
  } else {
    auto all = store.verify();
    if (!all.ok()) return fail(all.error());
    v = std::move(*all);
  }
  progress.done();
  const RecoveryReport& rep = store.recovery_report();
  // What the open found joins verify's own findings, each printed once.
  for (const Finding& f : rep.damage) {
    const bool seen = std::any_of(v.findings.begin(), v.findings.end(),
                                  [&](const Finding& g) { return g.to_string() == f.to_string(); });
    const bool this_stream = !a.stream_given || f.stream == a.stream;
    if (!seen && this_stream) v.findings.push_back(f);
  }
  if (a.json) {
    std::cout << verify_json(rep, v).dump(2) << '\n';
  } else {
    print_torn_tails(rep);
    print_recovery_notes(rep);
    for (const Finding& f : v.findings) std::printf("%s: %s\n", finding_kind_name(f.kind), f.to_string().c_str());
    std::printf("%s: %llu records, %llu segments, %llu bytes checked; %zu findings\n",
                v.findings.empty() ? "clean" : "DAMAGED", static_cast<unsigned long long>(v.records),
                static_cast<unsigned long long>(v.segments), static_cast<unsigned long long>(v.bytes),
                v.findings.size());
  }
  return v.findings.empty() ? 0 : 1;
}

int cmd_stat(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  nlohmann::json all = nlohmann::json::array();
  for (std::uint64_t id : store.streams()) {
    auto st = store.stats(id);
    if (!st.ok()) return fail(st.error());
    if (a.json) {
      all.push_back({{"stream", id}, {"first_offset", st->first_offset}, {"next_offset", st->next_offset},
                     {"durable_offset", st->durable_offset}, {"segments", st->segments},
                     {"bytes", st->bytes}, {"checkpoints", st->checkpoints},
                     {"damaged_ranges", st->damaged_ranges},
                     {"first_timestamp_us", st->first_timestamp_us},
                     {"last_timestamp_us", st->last_timestamp_us}});
    } else {
      // Offset ranges print inclusive everywhere (A..B holds B-A+1 records); --json keeps
      // next_offset, the offset the next append gets.
      const std::string held = st->next_offset > st->first_offset
                                   ? fmt::format("offsets {}..{}", st->first_offset, st->next_offset - 1)
                                   : fmt::format("no records (next offset {})", st->next_offset);
      std::printf("stream %llu: %s, %llu segments, %llu bytes, %llu checkpoints, %llu damaged ranges\n",
                  static_cast<unsigned long long>(id), held.c_str(), static_cast<unsigned long long>(st->segments),
                  static_cast<unsigned long long>(st->bytes), static_cast<unsigned long long>(st->checkpoints),
                  static_cast<unsigned long long>(st->damaged_ranges));
    }
  }
  if (a.json) std::cout << all.dump(2) << '\n';
  return 0;
}

int cmd_purge(fs::FileSystem& fs, Clock& clock, const Args& a) {
  PurgeOptions p;
  if (!a.older_than.empty()) {
    auto us = parse_duration_us(a.older_than);
    if (!us) return usage("--older-than takes a duration like 30s, 15m, 12h or 7d, not '" + a.older_than + "'");
    p.older_than_us = *us;
  }
  if (a.max_bytes_given) p.max_total_bytes = a.max_bytes;
  if (!p.older_than_us && !p.max_total_bytes) return usage("purge needs --older-than or --max-bytes");
  auto opened = open_store(fs, clock, a, true);
  if (!opened.ok()) return fail(opened.error());
  auto r = a.stream_given ? (*opened)->purge(a.stream, p) : (*opened)->purge(p);
  if (!r.ok()) return fail(r.error());
  Status closed = (*opened)->close();
  if (!closed.ok()) return fail(closed.error());
  std::printf("purged %llu segments (%llu bytes)\n", static_cast<unsigned long long>(r->segments_removed),
              static_cast<unsigned long long>(r->bytes_removed));
  return 0;
}

int cmd_repair(fs::FileSystem& fs, Clock& clock, const Args& a) {
  if (!a.yes && !a.dry_run) {
    return usage("repair removes damaged bytes (keeping them in *.removed-at-* files beside the segments); "
                 "pass --dry-run to see exactly what it would do, --yes to do it");
  }
  // A dry run opens read-only: not even a torn tail is cut.
  auto opened = open_store(fs, clock, a, !a.dry_run);
  if (!opened.ok()) return fail(opened.error());
  auto r = (*opened)->repair(a.stream, a.dry_run);
  if (!r.ok()) return fail(r.error());
  std::printf("%s\n", r->to_string().c_str());
  Status closed = (*opened)->close();
  if (!closed.ok()) return fail(closed.error());
  return 0;
}

}  // namespace cairn::cli
