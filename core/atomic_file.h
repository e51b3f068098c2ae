// Atomic replacement of a metadata file: write "<name>.tmp", fsync it, rename it over
// <name>, fsync the directory. After a crash the file holds the old or the new contents,
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

}  // namespace cairn
