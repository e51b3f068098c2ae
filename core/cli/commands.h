// The subcommands of `cairn`, each on an open store of a real directory. Writers
// (append, purge, repair) take the store's lock; stat, verify and read open it read-only:
// they never change a byte, work beside a live writer, and say what a writer's open
// would do. Exit status: 0 success (verify: no damage), 1 an error or damage found.
#pragma once

#include <cstdint>
#include <string>

#include "core/store.h"
#include "simfs/clock.h"
#include "simfs/filesystem.h"

namespace cairn::cli {

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
  bool dry_run = false;
  std::uint64_t max_segment_bytes = 64ull << 20;
  std::uint32_t max_record_bytes = 1u << 20;
  std::string compression = "none";  // append: none | lz4 | zstd
  bool mapped = false;               // read, verify: Options::mapped_reads
  std::uint32_t verify_threads = 1;  // verify: Options::verify_threads
  bool pipelined = false;            // append: Store::append_pipelined, waited for at the end
  // root / prove / check-proof
  std::uint64_t size = 0;  // tree size (default: the stream's next offset)
  bool size_given = false;
  std::uint64_t offset = 0;  // prove: an inclusion proof of this offset
  bool offset_given = false;
  std::uint64_t old_size = 0;  // prove: a consistency proof from this size
  bool old_size_given = false;
  std::string proof_file = "-";  // check-proof: the proof's JSON ("-": stdin)
  std::string trusted_root;      // check-proof: a root the caller trusts (hex)
};

// Prints "cairn: <error>" to stderr and returns 1.
int fail(const Error& e);
// Opens the store of a.dir: a writer locks it (and creates it when missing); a reader
// opens it read-only. What recovery found goes to stderr unless `quiet`. Errors: as
// Store::open, and invalid_argument for a bad --sync.
Result<std::unique_ptr<Store>> open_store(fs::FileSystem& fs, Clock& clock, const Args& a, bool writer,
                                          bool quiet = false);

int cmd_append(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_read(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_verify(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_stat(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_purge(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_repair(fs::FileSystem& fs, Clock& clock, const Args& a);
// core/cli/proofs.cc: the stream's Merkle tree (Store::merkle_root, prove_*), read-only.
// root prints {"stream","tree_size","root"}; prove prints an inclusion proof
// ({"type":"inclusion","stream","tree_size","offset","leaf_data","root","path"}) or a
// consistency proof ({"type":"consistency","stream","old_size","tree_size","old_root",
// "root","proof"}), hashes in lower-case hex; check-proof verifies such a JSON document
// (RFC 9162 §2.1.3.2, §2.1.4.2) without a store, against --root when given (exit 0: it
// verifies; 1: it does not, or the document is malformed).
int cmd_root(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_prove(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_check_proof(const Args& a);

// Prints "cairn: <why> (see cairn --help)" and returns 2.
int usage(const std::string& why);

}  // namespace cairn::cli
