// The filesystem interface the storage core runs on. Two implementations:
// PosixFileSystem (a real directory tree) and SimFileSystem (in memory, deterministic,
// fault-injecting). The core never touches the OS except through this interface.
//
// Paths are '/'-separated strings; a relative path is relative to the process's working
// directory (Posix) or to the simulated root (Sim). Sizes and positions are bytes.
//
// Durability, as on Linux: data written through a File is durable only after sync()
// of that file returns ok; a file's existence, and a rename, unlink or mkdir in a
// directory, is durable only after sync_dir() of the parent directory returns ok. Until
// then a crash may lose, tear or reorder any part of it (see simfs/README.md).
//
// Errors (cairn::Errc): io_error (EIO and anything unexpected), no_space (ENOSPC; the
// write may have been short), not_found, already_exists, invalid_argument, locked (lock
// held by another holder), read_only (a write through a read-only open).
//
// Thread-safety: none. One thread uses a FileSystem and its Files at a time; the one
// exception is a sync started by File::start_sync, which may run beside that thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "simfs/bytes.h"
#include "simfs/result.h"

namespace cairn::fs {

struct OpenOptions {
  bool create = false;     // create the file if it does not exist
  bool exclusive = false;  // with create: already_exists if it exists
  bool truncate = false;   // truncate an existing file to 0 bytes
  // Open for reading only (POSIX O_RDONLY): pwrite, append, truncate and sync return
  // read_only. Works on files the process may only read. Excludes create and truncate.
  bool read_only = false;
};

// An exclusive lock on a path, held until unlock() or destruction. A crash (power loss)
// releases it, as the kernel releases flock(2) locks of a dead process.
class FileLock {
 public:
  virtual ~FileLock() = default;
  // Releases the lock. Errors: io_error. Further calls do nothing.
  virtual Status unlock() = 0;
};

// A read-only view of a file's first bytes, made by File::map. Valid until destroyed,
// also after its File is closed or the file is unlinked (as munmap(2) is separate from
// close(2)).
class Mapping {
 public:
  virtual ~Mapping() = default;
  // The mapped bytes, [0, len) of the file as File::map was asked.
  virtual ByteView bytes() const = 0;
};

// A sync submitted by File::start_sync and not yet waited for.
class PendingSync {
 public:
  // Destroying it without wait() still lets the sync run to its end (Posix joins it);
  // its result is then dropped, and the writes it covers count as never synced.
  virtual ~PendingSync() = default;
  // Blocks until the sync is done and returns its result, as File::sync() would for the
  // writes it covers. A crash (power loss) while it was in flight leaves those writes
  // undecided: io_error, as after any operation on a file opened before the crash.
  // Errors: io_error. A second call returns invalid_argument.
  virtual Status wait() = 0;
};

// An open file. Closing happens on close() or destruction (errors are then dropped).
class File {
 public:
  virtual ~File() = default;

  // Reads up to dst.size() bytes starting at byte_pos. Returns the bytes read, fewer
  // only when the file ends first (0 at or past the end). Errors: io_error.
  virtual Result<std::size_t> pread(std::uint64_t byte_pos, std::span<std::uint8_t> dst) = 0;
  // Writes src at byte_pos, extending the file (with zeros) if needed. Returns the bytes
  // written, which may be fewer than src.size() (a short write, typically before
  // no_space). Errors: io_error, no_space.
  virtual Result<std::size_t> pwrite(std::uint64_t byte_pos, std::span<const std::uint8_t> src) = 0;
  // pwrite at the current end of the file.
  virtual Result<std::size_t> append(std::span<const std::uint8_t> src) = 0;
  // Current size in bytes, as this process sees it (durable or not).
  virtual Result<std::uint64_t> size() = 0;
  // Sets the size to size_bytes (shrinks or zero-extends). Errors: io_error, no_space.
  virtual Status truncate(std::uint64_t size_bytes) = 0;
  // fdatasync: makes the file's data and size durable. An error means the data written
  // since the last good sync is indeterminate; retrying does not make it durable.
  virtual Status sync() = 0;
  // Starts an fdatasync that covers every write and truncate of this file that returned
  // before this call, and returns at once; the caller may go on writing (later writes
  // are not covered) while it runs, and learns its result from PendingSync::wait(). The
  // file must stay open until then. PosixFileSystem runs fdatasync(2) on a thread of
  // the file's own; SimFileSystem completes it at a simulated time (the clock moves to it
  // in wait() if it has not yet passed) and decides a failure at wait(). This default
  // runs sync() before returning (correct for any File, with no overlap).
  // Errors: those of sync() for what is refused at once (read_only, a closed file).
  virtual Result<std::unique_ptr<PendingSync>> start_sync();
  // Closes the file. Further calls are invalid_argument.
  virtual Status close() = 0;
  // Maps the bytes [0, len) read-only (POSIX mmap(PROT_READ, MAP_SHARED)). Meant for
  // files nobody writes or shrinks while mapped, such as sealed segments: what a later
  // write or truncate does to the view is unspecified. Works on read-only opens.
  // What a fault in mapped memory does (the contract both implementations keep):
  //  * an error the call itself meets is io_error, and nothing is mapped;
  //  * POSIX reads pages when first touched: a media error then, or another process
  //    truncating the file below len, raises SIGBUS in the reader (Linux mmap(2)), which
  //    no error value can report; callers that must survive it read with pread;
  //  * SimFileSystem reads the whole range at map time through the same read faults as
  //    one pread (a transient or sticky sector error fails the map with io_error) and
  //    the view never faults afterwards; damage at rest injected after the map is not in
  //    the view, as a page already in the page cache would not show it.
  // Errors: invalid_argument (len past the end of the file, or a closed file), io_error.
  virtual Result<std::unique_ptr<Mapping>> map(std::uint64_t len) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens (and with options.create, creates) a regular file for reading and writing.
  // Errors: not_found (no such file, no create), already_exists (create + exclusive),
  // invalid_argument (a directory, a bad path), io_error.
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenOptions options) = 0;
  // fsync of the directory: makes creates, renames and unlinks inside it durable.
  // Errors: not_found, io_error.
  virtual Status sync_dir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from` (POSIX rename). Errors: not_found, io_error.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Removes a file. Errors: not_found, io_error.
  virtual Status unlink(const std::string& path) = 0;
  // Creates a directory. Errors: already_exists, not_found (parent missing), io_error.
  virtual Status mkdir(const std::string& path) = 0;
  // Removes an empty directory (durable, like an unlink, after sync_dir of its parent).
  // Errors: not_found, invalid_argument (not empty, or not a directory), io_error.
  virtual Status rmdir(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted bytewise.
  // Errors: not_found, io_error.
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Whether a file or directory exists at path. Errors: io_error.
  virtual Result<bool> exists(const std::string& path) = 0;

  // Takes the exclusive lock on the file at `path`, creating the file if it is missing
  // (POSIX: flock(LOCK_EX | LOCK_NB) on it). Never waits. One writer per store uses it.
  // Errors: locked (another holder, also one in this process, has it), not_found (the
  // directory is missing), io_error.
  virtual Result<std::unique_ptr<FileLock>> lock(const std::string& path) = 0;
  // Whether some holder has the lock on `path` right now. Never creates or writes the
  // file, so a reader that may only read the directory can ask (a missing file is not
  // locked). Readers use it to tell a live writer's tail from a torn one. Errors: io_error.
  virtual Result<bool> lock_held(const std::string& path) = 0;
};

// Joins two path parts with one '/'.
std::string join_path(const std::string& dir, const std::string& name);
// The directory holding an absolute path: "/a/b" -> "/a", "/a" -> "/" (no '/': "/").
std::string parent_path(const std::string& path);

// Writes all of src at byte_pos, retrying short writes; a write that makes no progress
// is no_space. On error some prefix of src may have been written.
Status write_all(File& file, std::uint64_t byte_pos, std::span<const std::uint8_t> src);
// Reads into dst at byte_pos, retrying partial reads until dst is full or the file
// ends. Returns the bytes read (fewer than dst.size() only at end of file).
Result<std::size_t> read_full(File& file, std::uint64_t byte_pos, std::span<std::uint8_t> dst);
// Reads a whole file (opened read-only). Files above max_bytes are invalid_argument
// (never an allocation sized by untrusted input). Errors: those of open and pread.
Result<std::vector<std::uint8_t>> read_file(FileSystem& fs, const std::string& path,
                                            std::uint64_t max_bytes);

}  // namespace cairn::fs
