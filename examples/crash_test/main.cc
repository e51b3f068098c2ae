// A storage engine of your own under cairn's harness, in one file: a key/value log (one
// line "key=value" per put and a line "commit <FNV-1a of those lines>"; a commit is one
// write and one fsync; the file's directory is synced once, when the log is created) and
// the seeds that crash it.
//
//   crash_test [SEEDS] [--forget-dir-sync]
// Exit 0 when no seed lost an acknowledged commit; 1 (with the seed and its failure) if
// one did. --forget-dir-sync plants a bug the harness must catch.
#include <cairn/sut/run.h>

#include <cstdio>
#include <cstring>
#include <string>

using namespace cairn;

namespace {

bool g_forget_dir_sync = false;

// FNV-1a, 64 bit (http://www.isthe.com/chongo/tech/comp/fnv/): a torn commit fails it.
std::string fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : text) h = (h ^ static_cast<std::uint8_t>(c)) * 1099511628211ull;
  return std::to_string(h);
}

class LogSession final : public sut::Session {
 public:
  LogSession(sut::Environment& env, std::unique_ptr<fs::File> log, std::uint64_t end)
      : env_(env), log_(std::move(log)), end_(end) {}

  Status commit(const sut::Commit& c) override {
    std::string text;
    for (const auto& [key, value] : c.puts) text += key + "=" + value + "\n";
    text += "commit " + fnv1a(text) + "\n";  // recovery keeps only commits whose hash matches
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
    if (Status st = fs::write_all(*log_, end_, {bytes, text.size()}); !st.ok()) return st;
    end_ += text.size();
    if (Status st = log_->sync(); !st.ok()) return st;
    for (const auto& [key, value] : c.puts) state_[key] = value;
    return {};
  }

  Result<std::map<std::string, std::string>> read_all() override { return state_; }

  std::map<std::string, std::string> state_;

 private:
  sut::Environment& env_;
  std::unique_ptr<fs::File> log_;
  std::uint64_t end_;
};

class LogEngine final : public sut::Engine {
 public:
  Result<std::unique_ptr<sut::Session>> open(sut::Environment& env) override {
    const std::string path = env.dir + "/kv.log";
    auto existed = env.fs.exists(path);
    if (!existed.ok()) return existed.error();
    auto log = env.fs.open(path, fs::OpenOptions{.create = true});
    if (!log.ok()) return log.error();
    if (!*existed && !g_forget_dir_sync) {
      if (Status st = env.fs.sync_dir(env.dir); !st.ok()) return st.error();
    }
    auto bytes = fs::read_file(env.fs, path, 64 << 20);
    if (!bytes.ok()) return bytes.error();
    // Replay commits whose hash matches; cut the rest so the next commit starts clean.
    std::map<std::string, std::string> state, open_commit;
    std::uint64_t end = 0;
    const std::string text(bytes->begin(), bytes->end());
    for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
      const std::string line = text.substr(at, nl - at);
      const auto eq = line.find('=');
      if (line.rfind("commit ", 0) == 0) {
        if (line.substr(7) != fnv1a(text.substr(end, at - end))) break;  // torn: the end
        for (auto& [k, v] : open_commit) state[k] = v;
        open_commit.clear();
        end = nl + 1;
      } else if (eq != std::string::npos) {
        open_commit[line.substr(0, eq)] = line.substr(eq + 1);
      } else {
        break;  // zeros or a torn line: the end of what was committed
      }
    }
    // The cut must be durable before anything is written past it: a cut lost at a crash
    // would bring a vanished commit's bytes back behind newer ones.
    if (Status st = (*log)->truncate(end); !st.ok()) return st.error();
    if (Status st = (*log)->sync(); !st.ok()) return st.error();
    auto s = std::make_unique<LogSession>(env, std::move(log).value(), end);
    s->state_ = std::move(state);
    return std::unique_ptr<sut::Session>(std::move(s));
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seeds = 200;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--forget-dir-sync") == 0) g_forget_dir_sync = true;
    else seeds = std::stoull(argv[i]);
  }
  std::uint64_t lost = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    LogEngine engine;
    sut::EngineSeedOptions o;
    o.seed = seed;
    o.posix_fs = true;  // only what POSIX promises: the directory sync matters
    const sut::EngineSeedResult r = sut::run_engine_seed(engine, o);
    if (r.passed) continue;
    ++lost;
    std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed), r.failure.c_str());
  }
  std::printf("%llu seeds, %llu lost acknowledged data\n", static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(lost));
  return lost == 0 ? 0 : 1;
}
