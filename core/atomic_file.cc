#include "core/atomic_file.h"

#include <algorithm>

#include "core/canary.h"

namespace cairn {

Status write_checked(fs::File& file, std::uint64_t byte_pos, ByteView bytes, const std::string& path) {
  CAIRN_TRY(fs::write_all(file, byte_pos, bytes));
  Bytes back(bytes.size());
  CAIRN_ASSIGN_OR_RETURN(std::size_t n, fs::read_full(file, byte_pos, back));
  if (n != bytes.size() || !std::equal(back.begin(), back.end(), bytes.begin())) {
    Error e = make_error(Errc::io_error, "the bytes read back differ from the bytes written (a misdirected write?): " + path);
    e.segment = path;
    e.byte_pos = byte_pos;
    return e;
  }
  return {};
}

Result<std::unique_ptr<fs::File>> create_fresh(fs::FileSystem& fs, const std::string& path) {
  // Planted bug: a leftover truncated and reused (what repair did until seed 177 of a
  // sweep found a staged segment lost after its repair had committed).
  if (canary_on(Canary::leftover_file_reused)) return fs.open(path, fs::OpenOptions{.create = true, .truncate = true});
  auto made = fs.open(path, fs::OpenOptions{.create = true, .exclusive = true});
  if (made.ok() || made.error().code != Errc::already_exists) return made;
  CAIRN_TRY(fs.unlink(path));
  return fs.open(path, fs::OpenOptions{.create = true, .exclusive = true});
}

Status replace_file_atomically(fs::FileSystem& fs, const std::string& dir,
                               const std::string& name, ByteView contents, bool* sync_failed) {
  auto synced = [sync_failed](Status st) {
    if (!st.ok() && sync_failed != nullptr) *sync_failed = true;
    return st;
  };
  const std::string tmp = fs::join_path(dir, name + kTempSuffix);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file, create_fresh(fs, tmp));
  CAIRN_TRY(write_checked(*file, 0, contents, tmp));
  // Without this fsync the rename can reach the disk before the data: a crash would
  // leave the new name pointing at a short or empty file.
  if (!canary_on(Canary::metadata_no_fsync_before_rename)) CAIRN_TRY(synced(file->sync()));
  CAIRN_TRY(file->close());
  CAIRN_TRY(fs.rename(tmp, fs::join_path(dir, name)));
  if (!canary_on(Canary::manifest_no_dir_fsync)) CAIRN_TRY(synced(fs.sync_dir(dir)));
  return {};
}

Status recreate_file(fs::FileSystem& fs, const std::string& dir, const std::string& name,
                     std::uint64_t size_bytes, ByteView tail) {
  constexpr std::size_t kChunkBytes = 1 << 20;
  const std::string path = fs::join_path(dir, name);
  const std::string tmp = path + kTempSuffix;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> from, fs.open(path, fs::OpenOptions{.read_only = true}));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> to, create_fresh(fs, tmp));
  Bytes buf;
  for (std::uint64_t pos = 0; pos < size_bytes; pos += kChunkBytes) {
    buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size_bytes - pos)));
    CAIRN_ASSIGN_OR_RETURN(std::size_t n, fs::read_full(*from, pos, buf));
    if (n != buf.size()) return make_error(Errc::io_error, "file shrank while it was copied: " + path);
    CAIRN_TRY(write_checked(*to, pos, buf, tmp));
  }
  if (!tail.empty()) CAIRN_TRY(write_checked(*to, size_bytes, tail, tmp));
  CAIRN_TRY(to->sync());
  CAIRN_TRY(to->close());
  CAIRN_TRY(fs.rename(tmp, path));
  return fs.sync_dir(dir);
}

}  // namespace cairn
