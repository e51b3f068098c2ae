#include "simfs/sim_filesystem.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "properties/properties.h"

namespace cairn::fs {

const char* fault_family_name(FaultFamily f) {
  switch (f) {
    case FaultFamily::lost_write: return "lost_write";
    case FaultFamily::torn_write: return "torn_write";
    case FaultFamily::extension_garbage: return "extension_garbage";
    case FaultFamily::dir_revert: return "dir_revert";
    case FaultFamily::bit_flip: return "bit_flip";
    case FaultFamily::read_error: return "read_error";
    case FaultFamily::fsync_failure: return "fsync_failure";
    case FaultFamily::write_error: return "write_error";
    case FaultFamily::no_space: return "no_space";
    case FaultFamily::misdirected_write: return "misdirected_write";
  }
  return "?";
}

std::string FaultRecord::to_string() const {
  return fmt::format("t={}us {} {} bytes [{}, {}) {}", time_us, fault_family_name(family), path,
                     byte_pos, byte_pos + len, detail);
}

namespace {

struct PendingOp {
  bool is_write = true;  // false: truncate
  std::uint64_t pos = 0;
  Bytes data;
  std::uint64_t size = 0;  // truncate target
  std::uint64_t seq = 0;   // order among the inode's writes and truncates
};

struct Inode {
  Bytes durable;
  Bytes current;
  std::vector<PendingOp> pending;  // ascending seq
  std::uint64_t next_seq = 0;
};

struct Node {
  bool is_dir = false;
  std::uint64_t inode = 0;
};

enum class DirOpKind : std::uint8_t { create, mkdir, unlink, rename, rmdir };

struct DirOp {
  DirOpKind kind = DirOpKind::create;
  std::string parent;
  std::string path;
  std::string to;
  std::uint64_t inode = 0;
};

void apply_write(Bytes& image, std::uint64_t pos, ByteView data) {
  const std::size_t end = static_cast<std::size_t>(pos + data.size());
  if (image.size() < end) image.resize(end, 0);
  if (!data.empty()) std::memcpy(image.data() + pos, data.data(), data.size());
}

void apply_op(Bytes& image, const PendingOp& op) {
  if (op.is_write) {
    apply_write(image, op.pos, op.data);
  } else {
    image.resize(static_cast<std::size_t>(op.size), 0);
  }
}

// Applies a random subset of a write's sector-sized pieces to `image` (a torn write);
// returns which pieces were kept, '1' or '0' each.
std::string apply_torn(Bytes& image, const PendingOp& op, std::uint64_t sector, Prng& prng) {
  std::string kept;
  const std::uint64_t end = op.pos + op.data.size();
  for (std::uint64_t s = op.pos / sector * sector; s < end; s += sector) {
    const std::uint64_t a = std::max(s, op.pos);
    const std::uint64_t b = std::min(s + sector, end);
    const bool keep = prng.coin();
    kept += keep ? '1' : '0';
    if (keep) {
      apply_write(image, a, ByteView(op.data).subspan(static_cast<std::size_t>(a - op.pos), static_cast<std::size_t>(b - a)));
    }
  }
  return kept;
}

// At a crash, each pending write or truncate of a file is kept, dropped or torn (with the
// extension of a dropped one possibly surviving as zeros or garbage), as the enabled
// families say; what is left is the file's durable and current image.
void crash_pending(Inode& node, const std::string& path, const SimConfig& config, Prng& prng,
                   const std::function<void(FaultFamily, const std::string&, std::uint64_t, std::uint64_t, std::string)>& log) {
  for (const PendingOp& op : node.pending) {
    if (!op.is_write) {
      if (config.lost_writes && prng.chance_ppm(config.lost_write_ppm)) {
        log(FaultFamily::lost_write, path, op.size, 0, fmt::format("truncate to {} lost", op.size));
      } else {
        apply_op(node.durable, op);
      }
      continue;
    }
    const std::uint64_t end = op.pos + op.data.size();
    const bool dropped = config.lost_writes && prng.chance_ppm(config.lost_write_ppm);
    const bool torn = !dropped && config.torn_writes && prng.chance_ppm(config.torn_write_ppm);
    const std::uint64_t old_size = node.durable.size();
    if (!dropped && !torn) {
      apply_op(node.durable, op);
      continue;
    }
    if (torn) {
      const std::string kept = apply_torn(node.durable, op, config.sector_bytes, prng);
      log(FaultFamily::torn_write, path, op.pos, op.data.size(), "sectors kept " + kept);
    } else {
      log(FaultFamily::lost_write, path, op.pos, op.data.size(), "write dropped");
    }
    if (end > node.durable.size() && end > old_size && config.extension_garbage &&
        prng.chance_ppm(config.extension_garbage_ppm)) {
      // The size reached the disk but the data did not: zeros or garbage.
      const std::uint64_t from = node.durable.size();
      const bool garbage = prng.coin();
      node.durable.resize(static_cast<std::size_t>(end), 0);
      if (garbage) {
        for (std::uint64_t i = from; i < end; ++i) node.durable[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(prng.next_u64());
      }
      log(FaultFamily::extension_garbage, path, from, end - from, garbage ? "garbage" : "zeros");
    }
  }
  node.pending.clear();
  node.current = node.durable;
}

// True when `path` is absolute with no empty, "." or ".." part and no trailing slash:
// normalize() would give it back unchanged.
bool already_normal(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  for (std::size_t i = 1; i <= path.size();) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    const std::size_t len = j - i;
    if (len == 0 || (path[i] == '.' && (len == 1 || (len == 2 && path[i + 1] == '.')))) return false;
    i = j + 1;
  }
  return true;
}

Result<std::string> normalize(const std::string& path) {
  if (already_normal(path)) return path;
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") return make_error(Errc::invalid_argument, "'..' is not supported: " + path);
    if (!part.empty() && part != ".") out += "/" + part;
    i = j + 1;
  }
  return out.empty() ? std::string("/") : out;
}

std::string name_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

Error fs_error(Errc code, const std::string& what, const std::string& path) {
  Error e = make_error(code, what + ": " + path);
  e.segment = path;
  return e;
}

}  // namespace

struct SimFileSystem::Impl {
  std::map<std::uint64_t, Inode> inodes;
  std::uint64_t next_inode = 1;
  std::map<std::string, Node> cur;  // what the process sees
  std::map<std::string, Node> dur;  // what survives a crash
  std::vector<DirOp> dir_pending;
  std::map<std::pair<std::uint64_t, std::uint64_t>, bool> bad_sectors;  // -> sticky
  bool no_space_armed = false;

  Impl() {
    cur["/"] = Node{true, 0};
    dur["/"] = Node{true, 0};
  }

  bool is_dir(const std::map<std::string, Node>& ns, const std::string& p) const {
    auto it = ns.find(p);
    return it != ns.end() && it->second.is_dir;
  }

  void apply_dir_op(const DirOp& op) {
    switch (op.kind) {
      case DirOpKind::create: dur[op.path] = Node{false, op.inode}; break;
      case DirOpKind::mkdir: dur[op.path] = Node{true, 0}; break;
      case DirOpKind::rmdir: {
        auto it = dur.find(op.path);
        if (it != dur.end() && it->second.is_dir) dur.erase(it);  // its durable children become orphans
        break;
      }
      case DirOpKind::unlink: {
        auto it = dur.find(op.path);
        if (it != dur.end() && !it->second.is_dir && it->second.inode == op.inode) dur.erase(it);
        break;
      }
      case DirOpKind::rename: {
        auto it = dur.find(op.path);
        if (it != dur.end() && !it->second.is_dir && it->second.inode == op.inode) {
          dur.erase(it);
          dur[op.to] = Node{false, op.inode};
        }
        break;
      }
    }
  }

  // Drops durable entries whose parent directory did not survive.
  void drop_orphans() {
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto it = dur.begin(); it != dur.end();) {
        if (it->first != "/" && !is_dir(dur, parent_path(it->first))) {
          it = dur.erase(it);
          changed = true;
        } else {
          ++it;
        }
      }
    }
  }
};

// ------------------------------------------------------------------ SimFile

class SimFile final : public File {
 public:
  SimFile(SimFileSystem& fs, std::uint64_t inode, std::string path, std::uint64_t generation, bool read_only)
      : fs_(fs), inode_(inode), path_(std::move(path)), generation_(generation), read_only_(read_only) {}

  Result<std::size_t> pread(std::uint64_t byte_pos, std::span<std::uint8_t> dst) override {
    CAIRN_TRY(check("pread"));
    return read_at(false, byte_pos, dst);
  }

  // A copy of the bytes taken through the read faults of one pread (simfs/filesystem.h).
  Result<std::unique_ptr<Mapping>> map(std::uint64_t len) override {
    CAIRN_TRY(check("map"));
    const std::uint64_t file_bytes = fs_.impl_->inodes[inode_].current.size();
    if (len > file_bytes) {
      return fs_error(Errc::invalid_argument, fmt::format("map of {} bytes past the end ({} bytes)", len, file_bytes),
                      path_);
    }
    auto view = std::make_unique<CopiedMapping>(static_cast<std::size_t>(len));
    CAIRN_ASSIGN_OR_RETURN(std::size_t n, read_at(true, 0, view->data));
    (void)n;  // the whole range: len is within the file
    return std::unique_ptr<Mapping>(std::move(view));
  }

 private:
  struct CopiedMapping final : Mapping {
    explicit CopiedMapping(std::size_t len) : data(len) {}
    ByteView bytes() const override { return data; }
    Bytes data;
  };

  // `map`: for File::map (its own trace lines; pread's lines and digest stay as they were).
  Result<std::size_t> read_at(bool map, std::uint64_t byte_pos, std::span<std::uint8_t> dst) {
    auto& im = *fs_.impl_;
    Inode& node = im.inodes[inode_];
    const SimConfig& cfg = fs_.config_;
    const std::uint64_t sector = cfg.sector_bytes;
    const std::uint64_t end = std::min<std::uint64_t>(byte_pos + dst.size(), node.current.size());
    if (cfg.read_errors && byte_pos < end && fs_.prng_.chance_ppm(cfg.read_error_ppm)) {
      std::uint64_t s = fs_.prng_.range(byte_pos / sector, (end - 1) / sector);
      bool sticky = fs_.prng_.chance_ppm(cfg.read_error_sticky_ppm);
      im.bad_sectors[{inode_, s}] = sticky;
      fs_.log_fault(FaultFamily::read_error, path_, s * sector, sector,
                    sticky ? "sticky sector" : "transient");
    }
    if (byte_pos < end) {
      for (std::uint64_t s = byte_pos / sector; s <= (end - 1) / sector; ++s) {
        auto it = im.bad_sectors.find({inode_, s});
        if (it == im.bad_sectors.end()) continue;
        if (!it->second) im.bad_sectors.erase(it);
        if (map) {
          fs_.trace("map {} @{} +{} -> EIO", path_, byte_pos, dst.size());
        } else {
          fs_.trace("pread {} @{} +{} -> EIO", path_, byte_pos, dst.size());
        }
        return fs_error(Errc::io_error, fmt::format("{} EIO at sector {}", map ? "map" : "pread", s), path_);
      }
    }
    std::size_t n = byte_pos < end ? static_cast<std::size_t>(end - byte_pos) : 0;
    if (n > 0) std::memcpy(dst.data(), node.current.data() + byte_pos, n);
    if (map) {
      fs_.trace("map {} @{} +{} -> {}", path_, byte_pos, dst.size(), n);
    } else {
      fs_.trace("pread {} @{} +{} -> {}", path_, byte_pos, dst.size(), n);
    }
    return n;
  }

 public:

  Result<std::size_t> pwrite(std::uint64_t byte_pos, std::span<const std::uint8_t> src) override {
    CAIRN_TRY(check("pwrite", false, true));
    auto& im = *fs_.impl_;
    Inode& node = im.inodes[inode_];
    const SimConfig& cfg = fs_.config_;
    auto done = [&](const std::string& result) {
      fs_.trace("pwrite {} @{} +{} -> {}", path_, byte_pos, src.size(), result);
    };
    if (im.no_space_armed) {
      im.no_space_armed = false;
      done("ENOSPC");
      return fs_error(Errc::no_space, "pwrite: no space left on device", path_);
    }
    if (fs_.disk_full_ && byte_pos + src.size() > node.current.size()) {
      // A full disk: bytes over existing ones still fit, new ones do not.
      const std::size_t k = byte_pos < node.current.size() ? static_cast<std::size_t>(node.current.size() - byte_pos) : 0;
      fs_.log_fault(FaultFamily::no_space, path_, byte_pos + k, src.size() - k, "disk full");
      if (k == 0) {
        done("ENOSPC (disk full)");
        return fs_error(Errc::no_space, "pwrite: no space left on device", path_);
      }
      write(node, byte_pos, src.first(k));
      done(fmt::format("{} (short, disk full)", k));
      return k;
    }
    if (cfg.write_errors && !src.empty() && fs_.prng_.chance_ppm(cfg.write_error_ppm)) {
      if (fs_.prng_.chance_ppm(cfg.write_no_space_ppm)) {
        std::size_t k = static_cast<std::size_t>(fs_.prng_.below(src.size()));
        fs_.log_fault(FaultFamily::no_space, path_, byte_pos + k, src.size() - k,
                      fmt::format("short write of {} of {} bytes", k, src.size()));
        if (k == 0) {
          done("ENOSPC");
          return fs_error(Errc::no_space, "pwrite: no space left on device", path_);
        }
        write(node, byte_pos, src.first(k));
        im.no_space_armed = true;
        done(fmt::format("{} (short)", k));
        return k;
      }
      fs_.log_fault(FaultFamily::write_error, path_, byte_pos, src.size(), "EIO");
      done("EIO");
      return fs_error(Errc::io_error, "pwrite EIO", path_);
    }
    std::uint64_t at = byte_pos;
    if (cfg.misdirected_writes && !src.empty() && fs_.prng_.chance_ppm(cfg.misdirected_write_ppm)) {
      std::uint64_t shift = cfg.sector_bytes * fs_.prng_.range(1, 4);
      at = (fs_.prng_.coin() || byte_pos < shift) ? byte_pos + shift : byte_pos - shift;
      fs_.log_fault(FaultFamily::misdirected_write, path_, at, src.size(),
                    fmt::format("meant for byte {}", byte_pos));
      FaultRecord& rec = fs_.faults_.back();
      rec.size_before = node.current.size();
      if (at < node.current.size()) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(src.size(), node.current.size() - at));
        rec.overwritten.assign(node.current.begin() + static_cast<long>(at), node.current.begin() + static_cast<long>(at + n));
      }
    }
    write(node, at, src);
    done(std::to_string(src.size()));
    return src.size();
  }

  Result<std::size_t> append(std::span<const std::uint8_t> src) override {
    CAIRN_ASSIGN_OR_RETURN(std::uint64_t end, size());
    return pwrite(end, src);
  }

  Result<std::uint64_t> size() override {
    CAIRN_TRY(check("size"));
    return static_cast<std::uint64_t>(fs_.impl_->inodes[inode_].current.size());
  }

  Status truncate(std::uint64_t size_bytes) override {
    CAIRN_TRY(check("truncate", false, true));
    Inode& node = fs_.impl_->inodes[inode_];
    PendingOp op;
    op.is_write = false;
    op.size = size_bytes;
    apply_op(node.current, op);
    op.seq = node.next_seq++;
    node.pending.push_back(std::move(op));
    fs_.trace("truncate {} {}", path_, size_bytes);
    return {};
  }

  Status sync() override {
    CAIRN_TRY(check("sync", true, true));
    return settle(fs_, inode_, path_, UINT64_MAX, false);
  }

  // A sync in flight: it covers the writes and truncates made before start_sync
  // (seq below `covers_`) and is done at simulated time `done_at_us_`.
  class InFlight final : public PendingSync {
   public:
    InFlight(SimFileSystem& fs, std::uint64_t inode, std::string path, std::uint64_t generation,
             std::uint64_t covers, std::uint64_t done_at_us)
        : fs_(fs), inode_(inode), path_(std::move(path)), generation_(generation), covers_(covers),
          done_at_us_(done_at_us) {}
    Status wait() override {
      if (waited_) return fs_error(Errc::invalid_argument, "wait() on a sync already waited for", path_);
      waited_ = true;
      CAIRN_TRY(fs_.begin_op("sync_wait", path_));
      if (generation_ != fs_.generation_) {
        return fs_error(Errc::io_error, "sync_wait: the sync was in flight at a crash", path_);
      }
      if (fs_.clock_ != nullptr && fs_.clock_->now_us() < done_at_us_) {
        fs_.clock_->advance_us(done_at_us_ - fs_.clock_->now_us());
      }
      return settle(fs_, inode_, path_, covers_, true);
    }

   private:
    SimFileSystem& fs_;
    std::uint64_t inode_;
    std::string path_;
    std::uint64_t generation_;
    std::uint64_t covers_;
    std::uint64_t done_at_us_;
    bool waited_ = false;
  };

  Result<std::unique_ptr<PendingSync>> start_sync() override {
    CAIRN_TRY(check("sync_start", false, true));
    const SimConfig& cfg = fs_.config_;
    std::uint64_t done_at = fs_.now_us();
    if (fs_.clock_ != nullptr && cfg.latency_max_us > 0) {
      done_at += fs_.prng_.range(cfg.latency_min_us, cfg.latency_max_us) * cfg.sync_latency_factor;
    }
    const Inode& node = fs_.impl_->inodes[inode_];
    fs_.trace("sync_start {} covers {} ops, done at {}us", path_, node.pending.size(), done_at);
    return std::unique_ptr<PendingSync>(
        std::make_unique<InFlight>(fs_, inode_, path_, generation_, node.next_seq, done_at));
  }

  // The end of a sync of the inode's pending operations with seq below `covers` (all
  // of them: UINT64_MAX): they become durable, or, when an fsync failure is injected,
  // each is decided now as Linux would leave it.
  static Status settle(SimFileSystem& fs, std::uint64_t inode, const std::string& path, std::uint64_t covers,
                       bool in_flight) {
    Inode& node = fs.impl_->inodes[inode];
    const SimConfig& cfg = fs.config_;
    const auto end = std::find_if(node.pending.begin(), node.pending.end(),
                                  [&](const PendingOp& op) { return op.seq >= covers; });
    if (cfg.fsync_failures && fs.prng_.chance_ppm(cfg.fsync_failure_ppm)) {
      // Linux: the error is reported once, the dirty pages are marked clean, and the
      // data may or may not have reached the disk, or only some of its sectors. Decide
      // each write's fate now: kept, lost or torn.
      std::string fates;
      for (auto op = node.pending.begin(); op != end; ++op) {
        const std::uint64_t fate = op->is_write ? fs.prng_.below(3) : fs.prng_.below(2);
        if (fate == 0) apply_op(node.durable, *op);
        if (fate == 2) (void)apply_torn(node.durable, *op, cfg.sector_bytes, fs.prng_);
        fates += "KLT"[fate];
      }
      node.pending.erase(node.pending.begin(), end);
      fs.log_fault(FaultFamily::fsync_failure, path, 0, 0, "pending kept/lost/torn: " + fates);
      if (in_flight) {
        fs.trace("sync_wait {} -> EIO", path);
      } else {
        fs.trace("sync {} -> EIO", path);
      }
      return fs_error(Errc::io_error, "fdatasync EIO", path);
    }
    for (auto op = node.pending.begin(); op != end; ++op) apply_op(node.durable, *op);
    node.pending.erase(node.pending.begin(), end);
    if (cfg.fsync_commits_metadata) {
      for (const DirOp& op : fs.impl_->dir_pending) fs.impl_->apply_dir_op(op);
      fs.impl_->dir_pending.clear();
    }
    if (in_flight) {
      fs.trace("sync_wait {}", path);
    } else {
      fs.trace("sync {}", path);
    }
    return {};
  }

  Status close() override {
    if (closed_) return fs_error(Errc::invalid_argument, "file is closed", path_);
    closed_ = true;
    return {};
  }

 private:
  Status check(const char* op, bool is_sync = false, bool writes = false) {
    if (closed_) return fs_error(Errc::invalid_argument, std::string(op) + " on a closed file", path_);
    if (writes && read_only_) return fs_error(Errc::read_only, std::string(op) + " on a file opened read-only", path_);
    CAIRN_TRY(fs_.begin_op(op, path_, is_sync));
    if (generation_ != fs_.generation_) {
      return fs_error(Errc::io_error, std::string(op) + " on a file opened before a crash", path_);
    }
    return {};
  }

  void write(Inode& node, std::uint64_t at, ByteView data) {
    apply_write(node.current, at, data);
    PendingOp op;
    op.pos = at;
    op.data.assign(data.begin(), data.end());
    op.seq = node.next_seq++;
    node.pending.push_back(std::move(op));
  }

  SimFileSystem& fs_;
  std::uint64_t inode_;
  std::string path_;
  std::uint64_t generation_;
  bool read_only_;
  bool closed_ = false;
};

// A lock of the simulated world: held until unlock(), destruction, or a crash (which
// bumps the filesystem's generation; a lock from an older generation is already gone).
class SimLock final : public FileLock {
 public:
  SimLock(SimFileSystem& fs, std::string path, std::uint64_t generation)
      : fs_(fs), path_(std::move(path)), generation_(generation) {}
  ~SimLock() override { (void)unlock(); }
  Status unlock() override {
    if (released_) return {};
    released_ = true;
    if (generation_ == fs_.generation_) {
      fs_.locks_.erase(path_);
      fs_.trace("unlock {}", path_);
    }
    return {};
  }

 private:
  SimFileSystem& fs_;
  std::string path_;
  std::uint64_t generation_;
  bool released_ = false;
};

// ------------------------------------------------------------------ SimFileSystem

SimFileSystem::SimFileSystem(const SimConfig& config, Prng& prng, ManualClock* clock)
    : config_(config), prng_(prng), clock_(clock), impl_(std::make_unique<Impl>()) {}

SimFileSystem::SimFileSystem(const SimConfig& config, std::uint64_t seed, ManualClock* clock)
    : owned_prng_(std::make_unique<Prng>(seed)), config_(config), prng_(*owned_prng_),
      clock_(clock), impl_(std::make_unique<Impl>()) {}

SimFileSystem::~SimFileSystem() = default;

Status SimFileSystem::begin_op(const char* name, const std::string& path, bool is_sync) {
  ++ops_;
  if (!powered_off_ && power_off_at_ != 0 && ops_ >= power_off_at_) {
    powered_off_ = true;
    power_off_op_ = std::string(name) + " " + path;
    trace("POWER OFF at op {} ({} {})", ops_, name, path);
  }
  if (powered_off_) return fs_error(Errc::io_error, std::string(name) + ": power is off", path);
  if (clock_ != nullptr && config_.latency_max_us > 0) {
    std::uint64_t d = prng_.range(config_.latency_min_us, config_.latency_max_us);
    clock_->advance_us(is_sync ? d * config_.sync_latency_factor : d);
  }
  return {};
}

void SimFileSystem::log_fault(FaultFamily f, const std::string& path, std::uint64_t pos,
                              std::uint64_t len, std::string detail) {
  faults_.push_back(FaultRecord{now_us(), f, path, pos, len, std::move(detail), {}, 0});
  trace_line("FAULT " + faults_.back().to_string());
}

// The digest takes bytes eight at a time (FNV-1a's xor-multiply over 64-bit words), then
// the length with the last bytes.
void SimFileSystem::mix_bytes(std::string_view bytes) {
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, 8);
    mix_word(word);
  }
  std::uint64_t rest = bytes.size() - i;
  for (std::size_t k = 0; i + k < bytes.size(); ++k) {
    rest |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[i + k])) << (8 * (k + 1));
  }
  mix_word(rest);
}

void SimFileSystem::keep_line(std::uint64_t t, const std::string& line) {
  trace_.push_back(fmt::format("[{}] {}", t, line));
}

// A line from the simulator or a fault record: its time and bytes.
void SimFileSystem::trace_line(const std::string& line) {
  const std::uint64_t t = now_us();
  mix_word(t);
  mix_bytes(line);
  if (trace_on_) keep_line(t, line);
}

void SimFileSystem::note(const std::string& line) { trace_line(line); }

Result<std::unique_ptr<File>> SimFileSystem::open(const std::string& raw, OpenOptions options) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_TRY(begin_op("open", path));
  if (options.read_only && (options.create || options.truncate)) {
    return fs_error(Errc::invalid_argument, "open: read_only excludes create and truncate", path);
  }
  Impl& im = *impl_;
  auto result = [&](const std::string& r) { trace("open {} -> {}", path, r); };
  auto it = im.cur.find(path);
  if (path == "/" || (it != im.cur.end() && it->second.is_dir)) {
    result("EISDIR");
    return fs_error(Errc::invalid_argument, "open: is a directory", path);
  }
  if (!im.is_dir(im.cur, parent_path(path))) {
    result("ENOENT");
    return fs_error(Errc::not_found, "open: no such directory", path);
  }
  std::uint64_t inode = 0;
  if (it == im.cur.end()) {
    if (!options.create) {
      result("ENOENT");
      return fs_error(Errc::not_found, "open: no such file", path);
    }
    inode = im.next_inode++;
    im.inodes[inode] = Inode{};
    im.cur[path] = Node{false, inode};
    im.dir_pending.push_back(DirOp{DirOpKind::create, parent_path(path), path, "", inode});
    result("created");
  } else {
    if (options.create && options.exclusive) {
      result("EEXIST");
      return fs_error(Errc::already_exists, "open: file exists", path);
    }
    inode = it->second.inode;
    result("opened");
  }
  auto file = std::unique_ptr<File>(new SimFile(*this, inode, path, generation_, options.read_only));
  if (options.truncate) CAIRN_TRY(file->truncate(0));
  return file;
}

Status SimFileSystem::sync_dir(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string dir, normalize(raw));
  CAIRN_TRY(begin_op("sync_dir", dir, true));
  Impl& im = *impl_;
  if (!im.is_dir(im.cur, dir)) {
    trace("sync_dir {} -> ENOENT", dir);
    return fs_error(Errc::not_found, "sync_dir: no such directory", dir);
  }
  const bool fail = config_.fsync_failures && prng_.chance_ppm(config_.fsync_failure_ppm);
  // On failure a prefix of the directory's entry operations reached the disk (a journal
  // commits metadata in order, so a rename never lands before the create it depends on);
  // each later one is indeterminate, decided now: reached too, or lost for good. A lost
  // one stays visible to this process (it is in the dentry cache) but no later sync_dir
  // writes it, and a crash takes it back. With ordered_dir_reverts the later ones are lost
  // with the first lost one (the journal's order holds on failure too).
  std::uint64_t here = 0;
  for (const DirOp& op : im.dir_pending) here += op.parent == dir ? 1 : 0;
  const std::uint64_t reach = fail ? prng_.range(0, here) : here;
  std::string fates;
  std::vector<DirOp> rest;
  for (DirOp& op : im.dir_pending) {
    if (op.parent != dir) {
      rest.push_back(std::move(op));
      continue;
    }
    const bool in_order = config_.ordered_dir_reverts && fates.find('L') != std::string::npos;
    const bool reached = fates.size() < reach || (!in_order && prng_.coin());
    fates += reached ? 'K' : 'L';
    if (reached) im.apply_dir_op(op);
  }
  im.dir_pending = std::move(rest);
  if (fail) {
    log_fault(FaultFamily::fsync_failure, dir, 0, 0, "directory ops kept/lost: " + fates);
    trace("sync_dir {} -> EIO", dir);
    return fs_error(Errc::io_error, "fsync of directory EIO", dir);
  }
  trace("sync_dir {}", dir);
  return {};
}

Status SimFileSystem::rename(const std::string& raw_from, const std::string& raw_to) {
  CAIRN_ASSIGN_OR_RETURN(std::string from, normalize(raw_from));
  CAIRN_ASSIGN_OR_RETURN(std::string to, normalize(raw_to));
  CAIRN_TRY(begin_op("rename", from));
  Impl& im = *impl_;
  auto it = im.cur.find(from);
  if (it == im.cur.end() || it->second.is_dir) {
    trace("rename {} {} -> ENOENT", from, to);
    return fs_error(Errc::not_found, "rename: no such file", from);
  }
  if (parent_path(from) != parent_path(to) || im.is_dir(im.cur, to)) {
    trace("rename {} {} -> EINVAL", from, to);
    return fs_error(Errc::invalid_argument, "rename: only within one directory, onto a file", to);
  }
  Node node = it->second;
  im.cur.erase(it);
  im.cur[to] = node;
  im.dir_pending.push_back(DirOp{DirOpKind::rename, parent_path(from), from, to, node.inode});
  trace("rename {} {}", from, to);
  return {};
}

Status SimFileSystem::unlink(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_TRY(begin_op("unlink", path));
  Impl& im = *impl_;
  auto it = im.cur.find(path);
  if (it == im.cur.end()) {
    trace("unlink {} -> ENOENT", path);
    return fs_error(Errc::not_found, "unlink: no such file", path);
  }
  if (it->second.is_dir) return fs_error(Errc::invalid_argument, "unlink: is a directory", path);
  im.dir_pending.push_back(DirOp{DirOpKind::unlink, parent_path(path), path, "", it->second.inode});
  im.cur.erase(it);
  trace("unlink {}", path);
  return {};
}

Status SimFileSystem::mkdir(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_TRY(begin_op("mkdir", path));
  Impl& im = *impl_;
  if (im.cur.count(path)) {
    trace("mkdir {} -> EEXIST", path);
    return fs_error(Errc::already_exists, "mkdir: exists", path);
  }
  if (!im.is_dir(im.cur, parent_path(path))) {
    trace("mkdir {} -> ENOENT", path);
    return fs_error(Errc::not_found, "mkdir: no such parent directory", path);
  }
  im.cur[path] = Node{true, 0};
  im.dir_pending.push_back(DirOp{DirOpKind::mkdir, parent_path(path), path, "", 0});
  trace("mkdir {}", path);
  return {};
}

Status SimFileSystem::rmdir(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_TRY(begin_op("rmdir", path));
  Impl& im = *impl_;
  if (!im.is_dir(im.cur, path) || path == "/") {
    trace("rmdir {} -> ENOENT", path);
    return fs_error(im.cur.count(path) ? Errc::invalid_argument : Errc::not_found, "rmdir: not a directory", path);
  }
  for (const auto& [p, node] : im.cur) {
    if (p != path && parent_path(p) == path) {
      trace("rmdir {} -> ENOTEMPTY", path);
      return fs_error(Errc::invalid_argument, "rmdir: directory not empty", path);
    }
  }
  im.cur.erase(path);
  im.dir_pending.push_back(DirOp{DirOpKind::rmdir, parent_path(path), path, "", 0});
  trace("rmdir {}", path);
  return {};
}

Result<std::vector<std::string>> SimFileSystem::list_dir(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string dir, normalize(raw));
  CAIRN_TRY(begin_op("list_dir", dir));
  Impl& im = *impl_;
  if (!im.is_dir(im.cur, dir)) {
    trace("list_dir {} -> ENOENT", dir);
    return fs_error(Errc::not_found, "list_dir: no such directory", dir);
  }
  std::vector<std::string> names;
  for (const auto& [p, node] : im.cur) {
    if (p != "/" && parent_path(p) == dir) names.push_back(name_of(p));
  }
  std::sort(names.begin(), names.end());
  trace("list_dir {} -> {} entries", dir, names.size());
  return names;
}

Result<bool> SimFileSystem::exists(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_TRY(begin_op("exists", path));
  bool found = impl_->cur.count(path) > 0;
  trace("exists {} -> {}", path, found);
  return found;
}

Result<std::unique_ptr<FileLock>> SimFileSystem::lock(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_ASSIGN_OR_RETURN(bool present, exists(path));
  if (!present) {
    // flock(2) needs a file: create it as open(O_CREAT) would (a volatile entry).
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<File> created, open(path, OpenOptions{.create = true}));
    (void)created->close();
  }
  CAIRN_TRY(begin_op("lock", path));
  if (locks_.count(path)) {
    trace("lock {} -> EWOULDBLOCK", path);
    return fs_error(Errc::locked, "lock is held by another writer", path);
  }
  locks_.insert(path);
  trace("lock {}", path);
  return std::unique_ptr<FileLock>(new SimLock(*this, path, generation_));
}

Result<bool> SimFileSystem::lock_held(const std::string& raw) {
  CAIRN_ASSIGN_OR_RETURN(std::string path, normalize(raw));
  CAIRN_TRY(begin_op("lock_held", path));
  const bool held = locks_.count(path) > 0;
  trace("lock_held {} -> {}", path, held);
  return held;
}

void SimFileSystem::clear_sticky_read_errors() { impl_->bad_sectors.clear(); }

void SimFileSystem::arm_power_off(std::uint64_t n) { power_off_at_ = ops_ + std::max<std::uint64_t>(n, 1); }

void SimFileSystem::disarm_power_off() { power_off_at_ = 0; }

void SimFileSystem::crash() {
  Impl& im = *impl_;
  trace("CRASH at op {}", ops_);
  bool cut = false;  // ordered_dir_reverts: an earlier operation reverted
  for (const DirOp& op : im.dir_pending) {
    if (cut || (config_.dir_reverts && prng_.chance_ppm(config_.dir_revert_ppm))) {
      cut = config_.ordered_dir_reverts;
      static const char* names[] = {"create", "mkdir", "unlink", "rename", "rmdir"};
      log_fault(FaultFamily::dir_revert, op.path, 0, 0,
                std::string("reverted ") + names[static_cast<int>(op.kind)] +
                    (op.kind == DirOpKind::rename ? " to " + op.to : ""));
      continue;
    }
    im.apply_dir_op(op);
  }
  im.dir_pending.clear();
  im.drop_orphans();

  // Path of each durable inode, for the fault log.
  std::map<std::uint64_t, std::string> names;
  for (const auto& [p, node] : im.dur) {
    if (!node.is_dir) names[node.inode] = p;
  }
  auto log = [this](FaultFamily f, const std::string& path, std::uint64_t pos, std::uint64_t len, std::string detail) {
    log_fault(f, path, pos, len, std::move(detail));
  };
  for (auto& [id, node] : im.inodes) {
    crash_pending(node, names.count(id) ? names[id] : std::string("(unlinked)"), config_, prng_, log);
  }
  // Inodes no durable name refers to are gone.
  std::map<std::uint64_t, bool> live;
  for (const auto& [p, node] : im.dur) {
    if (!node.is_dir) live[node.inode] = true;
  }
  for (auto it = im.inodes.begin(); it != im.inodes.end();) {
    it = live.count(it->first) ? std::next(it) : im.inodes.erase(it);
  }
  for (auto it = im.bad_sectors.begin(); it != im.bad_sectors.end();) {
    it = (it->second && live.count(it->first.first)) ? std::next(it) : im.bad_sectors.erase(it);
  }
  im.cur = im.dur;
  im.no_space_armed = false;
  locks_.clear();  // the holders died with the power
  ++generation_;
  powered_off_ = false;
  power_off_at_ = 0;
}

// Changes durable bytes in place (damage at rest). The page cache shows the change too,
// unless a pending write replaced those bytes. Returns false when the file does not exist
// or the range is past its durable size.
bool SimFileSystem::overwrite_at_rest(const std::string& raw, std::uint64_t byte_pos, std::size_t len,
                                      const std::function<std::uint8_t(std::uint8_t)>& change,
                                      const std::string& detail) {
  auto path = normalize(raw);
  if (!path.ok()) return false;
  Impl& im = *impl_;
  auto it = im.cur.find(*path);
  if (it == im.cur.end() || it->second.is_dir) return false;
  Inode& node = im.inodes[it->second.inode];
  if (len == 0 || byte_pos + len > node.durable.size()) return false;
  for (std::size_t i = 0; i < len; ++i) {
    const std::size_t p = static_cast<std::size_t>(byte_pos + i);
    const std::uint8_t changed = change(node.durable[p]);
    if (p < node.current.size() && node.current[p] == node.durable[p]) node.current[p] = changed;
    node.durable[p] = changed;
  }
  log_fault(FaultFamily::bit_flip, *path, byte_pos, len, detail);
  return true;
}

bool SimFileSystem::inject_overwrite(const std::string& path, std::uint64_t byte_pos, ByteView bytes) {
  std::size_t i = 0;
  return overwrite_at_rest(path, byte_pos, bytes.size(), [&](std::uint8_t) { return bytes[i++]; },
                           "overwrite at rest");
}

bool SimFileSystem::inject_bit_flip(const std::string& path, std::uint64_t byte_pos, unsigned bit) {
  const std::uint8_t mask = static_cast<std::uint8_t>(1u << (bit % 8));
  return overwrite_at_rest(path, byte_pos, 1, [mask](std::uint8_t b) { return static_cast<std::uint8_t>(b ^ mask); },
                           fmt::format("bit {}", bit % 8));
}

std::optional<FaultRecord> SimFileSystem::inject_random_bit_flip(const std::string& prefix) {
  Impl& im = *impl_;
  std::vector<std::string> candidates;
  for (const auto& [p, node] : im.cur) {
    if (!node.is_dir && p.rfind(prefix, 0) == 0 && !im.inodes[node.inode].durable.empty()) {
      candidates.push_back(p);
    }
  }
  if (candidates.empty()) return std::nullopt;
  const std::string& path = candidates[static_cast<std::size_t>(prng_.below(candidates.size()))];
  const Inode& node = im.inodes[im.cur[path].inode];
  std::uint64_t pos = prng_.below(node.durable.size());
  if (!inject_bit_flip(path, pos, static_cast<unsigned>(prng_.below(8)))) return std::nullopt;
  return faults_.back();
}

std::uint64_t SimFileSystem::fault_count(FaultFamily f) const {
  return static_cast<std::uint64_t>(
      std::count_if(faults_.begin(), faults_.end(), [f](const FaultRecord& r) { return r.family == f; }));
}

std::optional<Bytes> SimFileSystem::durable_contents(const std::string& raw) const {
  auto path = normalize(raw);
  if (!path.ok()) return std::nullopt;
  auto it = impl_->dur.find(*path);
  if (it == impl_->dur.end() || it->second.is_dir) return std::nullopt;
  return impl_->inodes.at(it->second.inode).durable;
}

const Bytes* SimFileSystem::current_view(const std::string& raw) const {
  auto path = normalize(raw);
  if (!path.ok()) return nullptr;
  auto it = impl_->cur.find(*path);
  if (it == impl_->cur.end() || it->second.is_dir) return nullptr;
  return &impl_->inodes.at(it->second.inode).current;
}

bool SimFileSystem::visible(const std::string& raw) const {
  auto path = normalize(raw);
  return path.ok() && impl_->cur.count(*path) > 0;
}

bool SimFileSystem::durable_entry(const std::string& raw) const {
  auto path = normalize(raw);
  return path.ok() && impl_->dur.count(*path) > 0;
}

std::vector<std::string> SimFileSystem::visible_files(const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto it = impl_->cur.lower_bound(prefix); it != impl_->cur.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    if (!it->second.is_dir) out.push_back(it->first);
  }
  return out;
}

std::optional<Bytes> SimFileSystem::current_contents(const std::string& raw) const {
  auto path = normalize(raw);
  if (!path.ok()) return std::nullopt;
  auto it = impl_->cur.find(*path);
  if (it == impl_->cur.end() || it->second.is_dir) return std::nullopt;
  return impl_->inodes.at(it->second.inode).current;
}

}  // namespace cairn::fs
