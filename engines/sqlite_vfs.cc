#include "engines/sqlite_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace cairn::engines {

namespace {

VfsEnvironment g_env;           // guarded by vfs_mutex()
std::uint64_t g_temp_files = 0;  // names for nameless temporary files

struct VfsFile {
  sqlite3_file base;  // first: SQLite sees a VfsFile* as a sqlite3_file*
  fs::File* file;     // owned
  fs::FileSystem* fs;
  std::string* path;  // owned
  bool sync_dir_once;
  bool delete_on_close;
  int lock;
};

VfsFile& of(sqlite3_file* f) { return *reinterpret_cast<VfsFile*>(f); }

int x_close(sqlite3_file* f) {
  VfsFile& v = of(f);
  int rc = v.file->close().ok() ? SQLITE_OK : SQLITE_IOERR_CLOSE;
  if (v.delete_on_close && !v.fs->unlink(*v.path).ok()) rc = SQLITE_IOERR_DELETE;
  delete v.file;
  delete v.path;
  v.file = nullptr;
  v.path = nullptr;
  return rc;
}

int x_read(sqlite3_file* f, void* dst, int amount, sqlite3_int64 offset) {
  auto* out = static_cast<std::uint8_t*>(dst);
  const auto n = static_cast<std::size_t>(amount);
  auto got = fs::read_full(*of(f).file, static_cast<std::uint64_t>(offset), std::span<std::uint8_t>(out, n));
  if (!got.ok()) return SQLITE_IOERR_READ;
  if (*got == n) return SQLITE_OK;
  std::memset(out + *got, 0, n - *got);
  return SQLITE_IOERR_SHORT_READ;
}

int x_write(sqlite3_file* f, const void* src, int amount, sqlite3_int64 offset) {
  const auto* in = static_cast<const std::uint8_t*>(src);
  const Status st = fs::write_all(*of(f).file, static_cast<std::uint64_t>(offset),
                                  std::span<const std::uint8_t>(in, static_cast<std::size_t>(amount)));
  if (st.ok()) return SQLITE_OK;
  return st.error().code == Errc::no_space ? SQLITE_FULL : SQLITE_IOERR_WRITE;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return of(f).file->truncate(static_cast<std::uint64_t>(size)).ok() ? SQLITE_OK : SQLITE_IOERR_TRUNCATE;
}

int x_sync(sqlite3_file* f, int) {
  VfsFile& v = of(f);
  if (!v.file->sync().ok()) return SQLITE_IOERR_FSYNC;
  if (v.sync_dir_once) {
    if (!v.fs->sync_dir(fs::parent_path(*v.path)).ok()) return SQLITE_IOERR_DIR_FSYNC;
    v.sync_dir_once = false;
  }
  return SQLITE_OK;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  auto s = of(f).file->size();
  if (!s.ok()) return SQLITE_IOERR_FSTAT;
  *size = static_cast<sqlite3_int64>(*s);
  return SQLITE_OK;
}

int x_lock(sqlite3_file* f, int level) {
  of(f).lock = std::max(of(f).lock, level);
  return SQLITE_OK;
}
int x_unlock(sqlite3_file* f, int level) {
  of(f).lock = std::min(of(f).lock, level);
  return SQLITE_OK;
}
int x_check_reserved(sqlite3_file* f, int* out) {
  *out = of(f).lock >= SQLITE_LOCK_RESERVED ? 1 : 0;
  return SQLITE_OK;
}
int x_file_control(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int x_sector_size(sqlite3_file*) { return 512; }
int x_device(sqlite3_file*) { return SQLITE_IOCAP_POWERSAFE_OVERWRITE; }

const sqlite3_io_methods kMethods = {
    1, x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock, x_unlock, x_check_reserved,
    x_file_control, x_sector_size, x_device, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  VfsFile& v = of(f);
  v.base.pMethods = nullptr;  // SQLite calls no method of a file whose open failed
  std::string path = name != nullptr ? name : fmt::format("{}/sqlite-temp-{}", g_env.temp_dir, ++g_temp_files);
  fs::OpenOptions o;
  o.create = (flags & SQLITE_OPEN_CREATE) != 0;
  o.exclusive = (flags & SQLITE_OPEN_EXCLUSIVE) != 0;
  o.read_only = (flags & SQLITE_OPEN_READONLY) != 0;
  auto file = g_env.fs->open(path, o);
  if (!file.ok()) return SQLITE_CANTOPEN;
  v.file = std::move(file).value().release();
  v.fs = g_env.fs;
  v.path = new std::string(std::move(path));
  v.sync_dir_once = o.create && (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL | SQLITE_OPEN_WAL)) != 0;
  v.delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0 || name == nullptr;
  v.lock = SQLITE_LOCK_NONE;
  v.base.pMethods = &kMethods;
  if (out_flags != nullptr) *out_flags = flags;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  const Status st = g_env.fs->unlink(name);
  if (!st.ok()) return st.error().code == Errc::not_found ? SQLITE_IOERR_DELETE_NOENT : SQLITE_IOERR_DELETE;
  if (sync_dir != 0 && !g_env.fs->sync_dir(fs::parent_path(name)).ok()) return SQLITE_IOERR_DIR_FSYNC;
  return SQLITE_OK;
}

int x_access(sqlite3_vfs*, const char* name, int, int* out) {
  auto e = g_env.fs->exists(name);
  if (!e.ok()) return SQLITE_IOERR_ACCESS;
  *out = *e ? 1 : 0;
  return SQLITE_OK;
}

int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  const std::string path = name[0] == '/' ? name : "/" + std::string(name);
  if (path.size() + 1 > static_cast<std::size_t>(n)) return SQLITE_CANTOPEN;
  std::memcpy(out, path.c_str(), path.size() + 1);
  return SQLITE_OK;
}

int x_randomness(sqlite3_vfs*, int n, char* out) {
  for (int i = 0; i < n; ++i) out[i] = static_cast<char>(g_env.random->below(256));
  return n;
}

int x_sleep(sqlite3_vfs*, int us) {
  g_env.sleep_us(static_cast<std::uint64_t>(us));
  return us;
}

// Julian day in milliseconds: the Unix epoch is 2440587.5 days; simulated time starts at
// 2026-01-01 00:00 UTC (1767225600 s after it).
constexpr sqlite3_int64 kUnixEpochJulianMs = 210866760000000;
constexpr sqlite3_int64 kSimEpochUnixMs = 1767225600000;

int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  *out = kUnixEpochJulianMs + kSimEpochUnixMs + static_cast<sqlite3_int64>(g_env.clock->now_us() / 1000);
  return SQLITE_OK;
}

int x_current_time(sqlite3_vfs* vfs, double* out) {
  sqlite3_int64 ms = 0;
  x_current_time_int64(vfs, &ms);
  *out = static_cast<double>(ms) / 86400000.0;
  return SQLITE_OK;
}

int x_last_error(sqlite3_vfs*, int, char*) { return 0; }

}  // namespace

std::mutex& vfs_mutex() {
  static std::mutex m;
  return m;
}

sqlite3_vfs* cairn_vfs() {
  static sqlite3_vfs vfs = {2, static_cast<int>(sizeof(VfsFile)), 512, nullptr, "cairn", nullptr,
                            x_open, x_delete, x_access, x_full_pathname, nullptr, nullptr, nullptr, nullptr,
                            x_randomness, x_sleep, x_current_time, x_last_error, x_current_time_int64,
                            nullptr, nullptr, nullptr};
  static const bool registered = sqlite3_vfs_register(&vfs, 1) == SQLITE_OK;
  return registered ? &vfs : nullptr;
}

void set_vfs_environment(const VfsEnvironment& env) {
  g_env = env;
  g_temp_files = 0;
  sqlite3_randomness(0, nullptr);  // reseeds SQLite's PRNG from the default VFS: ours
}

}  // namespace cairn::engines
