// The subcommands of `cairn`, each on an open store of a real directory. Writers
// (append, purge, repair) take the store's lock; stat, verify and read open it read-only:
// they never change a byte, work beside a live writer, and say what a writer's open
// would do. Exit status: 0 success (verify: no damage), 1 an error or damage found.
#pragma once

#include <cstdint>
#include <string>

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
};

int cmd_append(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_read(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_verify(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_stat(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_purge(fs::FileSystem& fs, Clock& clock, const Args& a);
int cmd_repair(fs::FileSystem& fs, Clock& clock, const Args& a);

// Prints "cairn: <why> (see cairn --help)" and returns 2.
int usage(const std::string& why);

}  // namespace cairn::cli
