#include "core/atomic_file.h"

#include "core/canary.h"

namespace cairn {

Status replace_file_atomically(fs::FileSystem& fs, const std::string& dir,
                               const std::string& name, ByteView contents, bool* sync_failed) {
  auto synced = [sync_failed](Status st) {
    if (!st.ok() && sync_failed != nullptr) *sync_failed = true;
    return st;
  };
  const std::string tmp = fs::join_path(dir, name + kTempSuffix);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<fs::File> file,
                         fs.open(tmp, fs::OpenOptions{.create = true, .truncate = true}));
  CAIRN_TRY(fs::write_all(*file, 0, contents));
  // Without this fsync the rename can reach the disk before the data: a crash would
  // leave the new name pointing at a short or empty file.
  if (!canary_on(Canary::metadata_no_fsync_before_rename)) CAIRN_TRY(synced(file->sync()));
  CAIRN_TRY(file->close());
  CAIRN_TRY(fs.rename(tmp, fs::join_path(dir, name)));
  CAIRN_TRY(synced(fs.sync_dir(dir)));
  return {};
}

}  // namespace cairn
