// cairn: the storage core on a real directory.
//
//   cairn append --dir D --stream S [--sync always|every:N|every:Nb|manual] [--length-prefixed] [--batch N]
//                [--pipelined]
//                [--compression none|lz4|zstd]
//   cairn read   --dir D --stream S [--from N] [--limit K] [--json | --length-prefixed] [--mapped]
//   cairn verify --dir D [--stream S] [--json] [--mapped] [--threads N]
//   cairn stat   --dir D [--json]
//   cairn purge  --dir D [--stream S] (--older-than DURATION | --max-bytes N)
//   cairn repair --dir D --stream S (--dry-run | --yes)
//   cairn root   --dir D --stream S [--size N]
//   cairn prove  --dir D --stream S (--offset O | --old-size M) [--size N]
//   cairn check-proof [FILE] [--root HEX]
//
// One writer at a time (append, purge, repair lock the store); stat, verify, read and
// `repair --dry-run` open it read-only and change nothing. Exit status: 0 success
// (verify: no damage), 1 an error or damage found, 2 usage.
#include <algorithm>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/cli/commands.h"
#include "core/cli/numbers.h"
#include "core/format.h"
#include "core/manifest.h"
#include "simfs/posix_clock.h"
#include "simfs/posix_filesystem.h"

#ifndef CAIRN_GIT_COMMIT
#define CAIRN_GIT_COMMIT "unknown"
#endif

namespace {

using cairn::cli::Args;
using cairn::cli::unsigned_number;

void common(CLI::App* c, Args& a, bool needs_stream, bool optional_stream) {
  c->add_option("--dir", a.dir, "store directory")->required();
  if (needs_stream) c->add_option("--stream", a.stream, "stream id (u64)")->required()->check(unsigned_number());
  if (optional_stream) c->add_option("--stream", a.stream, "only this stream")->check(unsigned_number());
  c->add_option("--max-record-bytes", a.max_record_bytes,
                "largest payload accepted (the store remembers the largest ever used for reading)")
      ->check(unsigned_number())
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{UINT32_MAX}));
}

constexpr const char* kMappedHelp =
    "read sealed segments through mmap instead of pread (a media error under a mapped page is SIGBUS)";

struct Commands {
  CLI::App* append;
  CLI::App* read;
  CLI::App* verify;
  CLI::App* stat;
  CLI::App* purge;
  CLI::App* repair;
  CLI::App* root;
  CLI::App* prove;
  CLI::App* check_proof;
};

Commands define(CLI::App& app, Args& a) {
  Commands c{};
  c.append = app.add_subcommand("append", "append records read from stdin (one per line); takes the writer's lock");
  common(c.append, a, true, false);
  c.append->add_option("--sync", a.sync, "always | every:N | every:Nb | manual");
  c.append->add_flag("--length-prefixed", a.length_prefixed, "stdin holds u32 LE length + bytes records");
  c.append->add_option("--batch", a.batch, "records per atomic batch")->check(CLI::Range(1, 1 << 20));
  c.append->add_flag("--pipelined", a.pipelined,
                     "start each batch's fdatasync and write the next batch while it runs (durable when the command exits 0)");
  c.append->add_option("--compression", a.compression, "store records compressed when smaller: none | lz4 | zstd")
      ->check(CLI::IsMember({"none", "lz4", "zstd"}));
  c.append->add_option("--max-segment-bytes", a.max_segment_bytes, "segment rotation size")
      ->check(unsigned_number());
  c.read = app.add_subcommand("read", "print records, verified against the chain (read-only)");
  common(c.read, a, true, false);
  c.read->add_option("--from", a.from, "first offset")->check(unsigned_number());
  c.read->add_option("--limit", a.limit, "at most this many records")->check(unsigned_number());
  auto* json = c.read->add_flag("--json", a.json, "JSONL: offset, timestamp_us, kind, encoding (utf-8 | base64), payload");
  c.read->add_flag("--length-prefixed", a.length_prefixed, "u32 LE length + bytes per record: the inverse of append --length-prefixed")
      ->excludes(json);
  c.read->add_flag("--mapped", a.mapped, kMappedHelp);
  c.verify = app.add_subcommand("verify", "check every frame, the chain, the manifest and the indexes (read-only)");
  common(c.verify, a, false, true);
  c.verify->add_flag("--json", a.json, "JSON report");
  c.verify->add_flag("--mapped", a.mapped, kMappedHelp);
  // Default: one per core, at most 8 (Options::verify_threads; the report is the same for any N).
  a.verify_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  c.verify->add_option("--threads", a.verify_threads, "threads hashing sealed segments (default: one per core, at most 8)")
      ->check(CLI::Range(1u, 64u));
  c.stat = app.add_subcommand("stat", "per-stream offsets, segments and sizes (read-only)");
  common(c.stat, a, false, false);
  c.stat->add_flag("--json", a.json, "JSON report");
  c.purge = app.add_subcommand("purge", "drop whole sealed segments, oldest first; takes the writer's lock");
  common(c.purge, a, false, true);
  c.purge->add_option("--older-than", a.older_than, "drop segments whose newest record is older (e.g. 7d)");
  c.purge->add_option("--max-bytes", a.max_bytes, "drop oldest segments until each stream fits")
      ->check(unsigned_number());
  c.repair = app.add_subcommand("repair", "remove damaged bytes of a stream, keeping them beside it");
  common(c.repair, a, true, false);
  auto* dry = c.repair->add_flag("--dry-run", a.dry_run, "print exactly what would be removed and change nothing");
  c.repair->add_flag("--yes", a.yes, "do it")->excludes(dry);
  c.root = app.add_subcommand("root", "the Merkle root (RFC 9162) of a stream's first N records, as JSON (read-only)");
  common(c.root, a, true, false);
  c.root->add_option("--size", a.size, "tree size in records from offset 0 (default: all)")->check(unsigned_number());
  c.prove = app.add_subcommand("prove", "an inclusion or consistency proof (RFC 9162), as JSON (read-only)");
  common(c.prove, a, true, false);
  c.prove->add_option("--size", a.size, "tree size in records from offset 0 (default: all)")->check(unsigned_number());
  c.prove->add_option("--offset", a.offset, "prove this record is in the tree")->check(unsigned_number());
  c.prove->add_option("--old-size", a.old_size, "prove the tree of this size is a prefix of the tree")
      ->check(unsigned_number());
  c.check_proof = app.add_subcommand("check-proof", "verify a proof printed by `cairn prove` (no store needed)");
  c.check_proof->add_option("file", a.proof_file, "the proof's JSON (default: stdin)");
  c.check_proof->add_option("--root", a.trusted_root, "a root you trust (hex): the proof must be for it");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn: an append-only, hash-chained, segmented event log on a real directory"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("cairn commit {}, segment format version {}, manifest version {}",
                                                CAIRN_GIT_COMMIT, cairn::format::kVersion, cairn::manifest::kVersion));
  Args a;
  const Commands c = define(app, a);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (CLI::App* sub : {c.verify, c.purge}) {
    if (sub->parsed() && sub->count("--stream") > 0) a.stream_given = true;
  }
  if (c.purge->parsed() && c.purge->count("--max-bytes") > 0) a.max_bytes_given = true;
  for (CLI::App* sub : {c.root, c.prove}) {
    if (sub->parsed()) a.size_given = sub->count("--size") > 0;
  }
  if (c.prove->parsed()) {
    a.offset_given = c.prove->count("--offset") > 0;
    a.old_size_given = c.prove->count("--old-size") > 0;
  }

  cairn::fs::PosixFileSystem fs;
  cairn::SystemClock clock;
  if (c.append->parsed()) return cairn::cli::cmd_append(fs, clock, a);
  if (c.read->parsed()) return cairn::cli::cmd_read(fs, clock, a);
  if (c.verify->parsed()) return cairn::cli::cmd_verify(fs, clock, a);
  if (c.stat->parsed()) return cairn::cli::cmd_stat(fs, clock, a);
  if (c.purge->parsed()) return cairn::cli::cmd_purge(fs, clock, a);
  if (c.repair->parsed()) return cairn::cli::cmd_repair(fs, clock, a);
  if (c.root->parsed()) return cairn::cli::cmd_root(fs, clock, a);
  if (c.prove->parsed()) return cairn::cli::cmd_prove(fs, clock, a);
  if (c.check_proof->parsed()) return cairn::cli::cmd_check_proof(a);
  return cairn::cli::usage("unknown command");
}
