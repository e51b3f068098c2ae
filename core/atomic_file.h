// Atomic replacement of a metadata file: write "<name>.tmp" (read back, as
// write_checked), fsync it, rename it over <name>, fsync the directory. After a crash the file holds the old or the new contents,
// never a mix. Errors: those of the FileSystem calls; a failed fsync is io_error and the
// caller must treat it as fail-stop.
#pragma once

#include <string>

#include "core/types.h"
#include "simfs/filesystem.h"

namespace cairn {

// *sync_failed (when given) is set when an fsync (of the file or the directory) failed,
// which the caller must treat as fail-stop.
Status replace_file_atomically(fs::FileSystem& fs, const std::string& dir,
                               const std::string& name, ByteView contents,
                               bool* sync_failed = nullptr);

inline constexpr const char* kTempSuffix = ".tmp";

// Creates `path` as a new, empty file: an exclusive create, which the next sync_dir of its
// directory makes durable. A file already there (left by a write that failed or crashed)
// is unlinked first, never truncated and reused: its directory entry may be one a failed
// directory fsync lost for good (this process still sees it; no later sync_dir writes it),
// and a rename of it would then never be durable either. Errors: those of open and unlink.
Result<std::unique_ptr<fs::File>> create_fresh(fs::FileSystem& fs, const std::string& path);

// Writes `bytes` at byte_pos and reads them back: a copy is renamed into place only when
// it holds what was meant (a misdirected write lands elsewhere and reports success).
// Errors: those of pwrite and pread; io_error naming the file when the bytes read back
// differ. Costs one read of what it wrote: for copies and metadata, not the append path.
Status write_checked(fs::File& file, std::uint64_t byte_pos, ByteView bytes, const std::string& path);

// Replaces file `name` of `dir` by a fresh copy of its first size_bytes followed by
// `tail` (when given): copied to "<name>.tmp", fsynced, renamed over it, the directory
// fsynced. The bytes and the
// directory entry are then durable, whatever a failed fsync left only in memory before
// (fsyncgate: after a failed fsync the kernel may mark unwritten pages clean, and a failed
// directory fsync may lose entries this process still sees). Reads go through 1 MiB at a
// time. Errors: those of open, pread, pwrite, sync, rename, sync_dir; io_error when the
// file holds fewer than size_bytes.
Status recreate_file(fs::FileSystem& fs, const std::string& dir, const std::string& name,
                     std::uint64_t size_bytes, ByteView tail = {});

}  // namespace cairn
