// Helpers shared by every FileSystem user, and Error formatting.
#include "simfs/filesystem.h"

namespace cairn {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::io_error: return "io_error";
    case Errc::no_space: return "no_space";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::corruption: return "corruption";
    case Errc::unsupported_format: return "unsupported_format";
    case Errc::record_too_large: return "record_too_large";
    case Errc::fail_stopped: return "fail_stopped";
    case Errc::closed: return "closed";
    case Errc::locked: return "locked";
    case Errc::read_only: return "read_only";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out = std::string(errc_name(code)) + ": " + message;
  std::string where;
  auto add = [&where](const std::string& part) {
    where += where.empty() ? "" : ", ";
    where += part;
  };
  if (stream) add("stream " + std::to_string(*stream));
  if (!segment.empty()) add("file " + segment);
  if (byte_pos) add("byte " + std::to_string(*byte_pos));
  if (offset) add("offset " + std::to_string(*offset));
  if (!where.empty()) out += " (" + where + ")";
  return out;
}

namespace fs {
namespace {

// A sync that already ran: File::start_sync's default.
class DoneSync final : public PendingSync {
 public:
  explicit DoneSync(Status st) : st_(std::move(st)) {}
  Status wait() override {
    if (waited_) return make_error(Errc::invalid_argument, "wait() on a sync already waited for");
    waited_ = true;
    return std::move(st_);
  }

 private:
  Status st_;
  bool waited_ = false;
};

}  // namespace

Result<std::unique_ptr<PendingSync>> File::start_sync() {
  Status st = sync();
  if (!st.ok() && st.error().code != Errc::io_error) return std::move(st).error();
  return std::unique_ptr<PendingSync>(std::make_unique<DoneSync>(std::move(st)));
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string parent_path(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}

Status write_all(File& file, std::uint64_t byte_pos, std::span<const std::uint8_t> src) {
  std::size_t done = 0;
  while (done < src.size()) {
    CAIRN_ASSIGN_OR_RETURN(std::size_t n, file.pwrite(byte_pos + done, src.subspan(done)));
    if (n == 0) {
      return make_error(Errc::no_space, "write made no progress after " + std::to_string(done) +
                                            " of " + std::to_string(src.size()) + " bytes");
    }
    done += n;
  }
  return {};
}

Result<std::size_t> read_full(File& file, std::uint64_t byte_pos, std::span<std::uint8_t> dst) {
  std::size_t done = 0;
  while (done < dst.size()) {
    CAIRN_ASSIGN_OR_RETURN(std::size_t n, file.pread(byte_pos + done, dst.subspan(done)));
    if (n == 0) break;
    done += n;
  }
  return done;
}

Result<std::vector<std::uint8_t>> read_file(FileSystem& fs, const std::string& path,
                                            std::uint64_t max_bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.open(path, OpenOptions{.read_only = true}));
  CAIRN_ASSIGN_OR_RETURN(std::uint64_t size, file->size());
  if (size > max_bytes) {
    Error e = make_error(Errc::invalid_argument, "file is " + std::to_string(size) +
                                                     " bytes, above the limit of " +
                                                     std::to_string(max_bytes));
    e.segment = path;
    return e;
  }
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  CAIRN_ASSIGN_OR_RETURN(std::size_t n, read_full(*file, 0, data));
  data.resize(n);
  return data;
}

}  // namespace fs
}  // namespace cairn
