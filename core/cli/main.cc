// cairn: the storage core on a real directory.
//
//   cairn append --dir D --stream S [--sync always|every:N|manual] [--length-prefixed] [--batch N]
//   cairn read   --dir D --stream S [--from N] [--limit K] [--json]
//   cairn verify --dir D [--stream S] [--json]
//   cairn stat   --dir D [--json]
//   cairn purge  --dir D [--stream S] (--older-than DURATION | --max-bytes N)
//   cairn repair --dir D --stream S --yes
//
// Exit status: 0 success (verify: no damage), 1 an error or damage found, 2 usage.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/cli/duration.h"
#include "core/cli/records.h"
#include "core/store.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"

namespace {

using namespace cairn;

struct Args {
  std::string dir;
  std::uint64_t stream = 0;
  bool stream_given = false;
  std::string sync = "always";
  bool length_prefixed = false;
  std::uint64_t batch = 256;
  std::uint64_t from = 0;
  std::uint64_t limit = UINT64_MAX;
  bool json = false;
  std::string older_than;
  std::uint64_t max_bytes = 0;
  bool max_bytes_given = false;
  bool yes = false;
  std::uint64_t max_segment_bytes = 64ull << 20;
  std::uint32_t max_record_bytes = 1u << 20;
};

int fail(const Error& e) {
  std::fprintf(stderr, "cairn: %s\n", e.to_string().c_str());
  return 1;
}

int usage(const std::string& why) {
  std::fprintf(stderr, "cairn: %s (see cairn --help)\n", why.c_str());
  return 2;
}

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

Result<std::unique_ptr<Store>> open_store(fs::FileSystem& fs, Clock& clock, const Args& a,
                                          bool create) {
  Options o;
  o.create_if_missing = create;
  o.max_segment_bytes = a.max_segment_bytes;
  o.max_record_bytes = a.max_record_bytes;
  CAIRN_ASSIGN_OR_RETURN(o.sync, parse_sync_policy(a.sync));
  auto store = Store::open(fs, clock, a.dir, o);
  if (store.ok()) {
    const RecoveryReport& rep = (*store)->recovery_report();
    if (!rep.clean() || !rep.actions.empty()) std::fprintf(stderr, "%s\n", rep.to_string().c_str());
  }
  return store;
}

int cmd_append(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, true);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  Progress progress("appended");
  std::vector<Bytes> batch;
  std::uint64_t first = UINT64_MAX;
  std::uint64_t last = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  auto flush = [&]() -> int {
    if (batch.empty()) return 0;
    auto r = store.append(a.stream, batch);
    if (!r.ok()) return fail(r.error());
    if (first == UINT64_MAX) first = r->first_offset;
    last = r->last_offset;
    records += batch.size();
    for (const Bytes& b : batch) bytes += b.size();
    batch.clear();
    progress.update(records, bytes);
    return 0;
  };
  if (a.length_prefixed) {
    // Read stdin in chunks; records are cut out as they complete.
    Bytes buf;
    std::size_t pos = 0;
    bool eof = false;
    while (!eof || pos < buf.size()) {
      ByteView record;
      cli::PrefixedStatus st = cli::next_length_prefixed(buf, pos, a.max_record_bytes, record);
      if (st == cli::PrefixedStatus::too_large) {
        return fail(make_error(Errc::record_too_large,
                               fmt::format("input record {} is above --max-record-bytes {}",
                                           records + batch.size(), a.max_record_bytes)));
      }
      if (st == cli::PrefixedStatus::ok) {
        batch.emplace_back(record.begin(), record.end());
        if (batch.size() >= a.batch && flush() != 0) return 1;
        continue;
      }
      if (eof) return usage("stdin ends inside a length-prefixed record");
      buf.erase(buf.begin(), buf.begin() + static_cast<long>(pos));
      pos = 0;
      const std::size_t had = buf.size();
      buf.resize(had + (1 << 20));
      const std::size_t got = std::fread(buf.data() + had, 1, 1 << 20, stdin);
      buf.resize(had + got);
      eof = got == 0;
    }
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
      batch.push_back(to_bytes(line));
      if (batch.size() >= a.batch && flush() != 0) return 1;
    }
  }
  if (flush() != 0) return 1;
  progress.done();
  Status closed = store.close();
  if (!closed.ok()) return fail(closed.error());
  if (records == 0) {
    std::printf("appended nothing to stream %llu\n", static_cast<unsigned long long>(a.stream));
  } else {
    std::printf("appended offsets %llu..%llu (%llu records, %llu bytes) to stream %llu\n",
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
                static_cast<unsigned long long>(records), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(a.stream));
  }
  return 0;
}

int cmd_read(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  auto stats = store.stats(a.stream);
  if (!stats.ok()) return fail(stats.error());
  std::uint64_t at = std::max(a.from, stats->first_offset);
  std::uint64_t printed = 0;
  while (at < stats->next_offset && printed < a.limit) {
    auto recs = store.read(a.stream, at, 1 << 20);
    if (!recs.ok()) return fail(recs.error());
    for (const Record& r : *recs) {
      at = r.offset + 1;
      if (printed >= a.limit) break;
      if (a.json) {
        nlohmann::json j = {{"offset", r.offset}, {"timestamp_us", r.timestamp_us},
                            {"kind", r.kind == RecordKind::data ? "data" : "checkpoint"},
                            {"payload", to_string(r.payload)}};
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      } else if (r.kind == RecordKind::data) {
        std::cout.write(reinterpret_cast<const char*>(r.payload.data()),
                        static_cast<std::streamsize>(r.payload.size()));
        std::cout << '\n';
      } else {
        continue;
      }
      ++printed;
    }
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}

int cmd_verify(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  const RecoveryReport& rep = store.recovery_report();
  // Stream by stream, so a long verify shows progress on a terminal.
  Result<VerifyReport> v = VerifyReport{};
  const std::vector<std::uint64_t> ids = a.stream_given ? std::vector<std::uint64_t>{a.stream} : store.streams();
  Progress progress("verified");
  for (std::uint64_t id : ids) {
    auto one = store.verify(id);
    if (!one.ok()) return fail(one.error());
    v->records += one->records;
    v->bytes += one->bytes;
    v->segments += one->segments;
    v->findings.insert(v->findings.end(), one->findings.begin(), one->findings.end());
    progress.update(v->records, v->bytes);
  }
  progress.done();
  // Recovery damage and verify findings overlap; print each distinct one once.
  std::vector<Finding> findings = rep.damage;
  for (const Finding& f : v->findings) {
    bool seen = false;
    for (const Finding& g : findings) seen = seen || (g.segment == f.segment && g.byte_pos == f.byte_pos && g.stream == f.stream);
    if (!seen) findings.push_back(f);
  }
  if (a.json) {
    nlohmann::json j;
    j["clean"] = findings.empty();
    j["records"] = v->records;
    j["bytes"] = v->bytes;
    j["segments"] = v->segments;
    j["torn_tails"] = nlohmann::json::array();
    for (const TornTail& t : rep.torn_tails) {
      j["torn_tails"].push_back({{"stream", t.stream}, {"file", t.segment}, {"byte", t.byte_pos},
                                 {"bytes_dropped", t.bytes_dropped}, {"records_dropped", t.records_dropped},
                                 {"first_offset_dropped", t.first_offset_dropped}});
    }
    j["findings"] = nlohmann::json::array();
    for (const Finding& f : findings) {
      j["findings"].push_back({{"stream", f.stream}, {"file", f.segment}, {"byte", f.byte_pos},
                               {"offset", f.offset}, {"what", f.what}});
    }
    std::cout << j.dump(2) << '\n';
  } else {
    for (const TornTail& t : rep.torn_tails) {
      std::printf("torn tail: stream %llu file %s cut at byte %llu (%llu bytes, %llu records dropped from offset %llu)\n",
                  static_cast<unsigned long long>(t.stream), t.segment.c_str(),
                  static_cast<unsigned long long>(t.byte_pos), static_cast<unsigned long long>(t.bytes_dropped),
                  static_cast<unsigned long long>(t.records_dropped),
                  static_cast<unsigned long long>(t.first_offset_dropped));
    }
    for (const Finding& f : findings) std::printf("damage: %s\n", f.to_string().c_str());
    std::printf("%s: %llu records, %llu segments, %llu bytes checked; %zu findings\n",
                findings.empty() ? "clean" : "DAMAGED", static_cast<unsigned long long>(v->records),
                static_cast<unsigned long long>(v->segments), static_cast<unsigned long long>(v->bytes),
                findings.size());
  }
  return findings.empty() ? 0 : 1;
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
      std::printf("stream %llu: offsets %llu..%llu, %llu segments, %llu bytes, %llu checkpoints, %llu damaged ranges\n",
                  static_cast<unsigned long long>(id), static_cast<unsigned long long>(st->first_offset),
                  static_cast<unsigned long long>(st->next_offset), static_cast<unsigned long long>(st->segments),
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
    auto us = cli::parse_duration_us(a.older_than);
    if (!us) return usage("--older-than takes a duration like 30s, 15m, 12h or 7d, not '" + a.older_than + "'");
    p.older_than_us = *us;
  }
  if (a.max_bytes_given) p.max_total_bytes = a.max_bytes;
  if (!p.older_than_us && !p.max_total_bytes) return usage("purge needs --older-than or --max-bytes");
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  auto r = a.stream_given ? (*opened)->purge(a.stream, p) : (*opened)->purge(p);
  if (!r.ok()) return fail(r.error());
  std::printf("purged %llu segments (%llu bytes)\n", static_cast<unsigned long long>(r->segments_removed),
              static_cast<unsigned long long>(r->bytes_removed));
  return 0;
}

int cmd_repair(fs::FileSystem& fs, Clock& clock, const Args& a) {
  if (!a.yes) {
    return usage("repair cuts the stream back to its first damage (the cut bytes are kept as "
                 "*.quarantine-* files); pass --yes to do it");
  }
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  auto r = (*opened)->repair(a.stream);
  if (!r.ok()) return fail(r.error());
  std::printf("stream %llu now ends before offset %llu\n", static_cast<unsigned long long>(a.stream),
              static_cast<unsigned long long>(*r));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn: an append-only, hash-chained, segmented event log on a real directory"};
  app.require_subcommand(1);
  Args a;
  auto common = [&](CLI::App* c, bool needs_stream, bool optional_stream) {
    c->add_option("--dir", a.dir, "store directory")->required();
    if (needs_stream) c->add_option("--stream", a.stream, "stream id (u64)")->required();
    if (optional_stream) c->add_option("--stream", a.stream, "only this stream");
    c->add_option("--max-record-bytes", a.max_record_bytes, "largest payload accepted and read");
  };
  CLI::App* append = app.add_subcommand("append", "append records read from stdin (one per line)");
  common(append, true, false);
  append->add_option("--sync", a.sync, "always | every:N | every:Nb | manual");
  append->add_flag("--length-prefixed", a.length_prefixed, "stdin holds u32 LE length + bytes records");
  append->add_option("--batch", a.batch, "records per atomic batch")->check(CLI::Range(1, 1 << 20));
  append->add_option("--max-segment-bytes", a.max_segment_bytes, "segment rotation size");
  CLI::App* read = app.add_subcommand("read", "print records (verified against the chain)");
  common(read, true, false);
  read->add_option("--from", a.from, "first offset");
  read->add_option("--limit", a.limit, "at most this many records");
  read->add_flag("--json", a.json, "JSONL with offset, timestamp_us, kind, payload");
  CLI::App* verify = app.add_subcommand("verify", "check every frame, the chain and the indexes");
  common(verify, false, true);
  verify->add_flag("--json", a.json, "JSON report");
  CLI::App* stat = app.add_subcommand("stat", "per-stream offsets, segments and sizes");
  common(stat, false, false);
  stat->add_flag("--json", a.json, "JSON report");
  CLI::App* purge = app.add_subcommand("purge", "drop whole sealed segments, oldest first");
  common(purge, false, true);
  purge->add_option("--older-than", a.older_than, "drop segments whose newest record is older (e.g. 7d)");
  purge->add_option("--max-bytes", a.max_bytes, "drop oldest segments until each stream fits");
  CLI::App* repair = app.add_subcommand("repair", "cut a stream back to its first damage");
  common(repair, true, false);
  repair->add_flag("--yes", a.yes, "confirm");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (CLI::App* c : {verify, purge}) {
    if (c->parsed() && c->count("--stream") > 0) a.stream_given = true;
  }
  if (purge->parsed() && purge->count("--max-bytes") > 0) a.max_bytes_given = true;

  fs::PosixFileSystem fs;
  SystemClock clock;
  if (append->parsed()) return cmd_append(fs, clock, a);
  if (read->parsed()) return cmd_read(fs, clock, a);
  if (verify->parsed()) return cmd_verify(fs, clock, a);
  if (stat->parsed()) return cmd_stat(fs, clock, a);
  if (purge->parsed()) return cmd_purge(fs, clock, a);
  if (repair->parsed()) return cmd_repair(fs, clock, a);
  return usage("unknown command");
}
