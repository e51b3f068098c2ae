// cairn's own log as a system under test: one stream; a commit is one batch (a record per
// put, "key\0value"), acknowledged when append returns (sync `always`: durable; `manual`:
// not synced, so not durable and the harness must catch it).
#include <map>

#include "core/store.h"
#include "engines/registry.h"

namespace cairn::engines {

namespace {

constexpr std::uint64_t kStream = 1;

class LogSession final : public sut::Session {
 public:
  explicit LogSession(std::unique_ptr<Store> s) : store_(std::move(s)) {}

  Status commit(const sut::Commit& c) override {
    std::vector<Bytes> batch;
    for (const auto& [key, value] : c.puts) {
      Bytes b = to_bytes(key);
      b.push_back(0);
      b.insert(b.end(), value.begin(), value.end());
      batch.push_back(std::move(b));
    }
    auto r = store_->append(kStream, batch);
    if (!r.ok()) return std::move(r).error();
    return {};
  }

  Result<std::map<std::string, std::string>> read_all() override {
    std::map<std::string, std::string> held;
    for (std::uint64_t next = 0;;) {
      auto records = store_->read(kStream, next, 1u << 20);
      if (!records.ok() && records.error().code == Errc::not_found && next == 0) return held;
      if (!records.ok()) return std::move(records).error();
      if (records->empty()) return held;
      for (const Record& r : *records) {
        next = r.offset + 1;
        if (r.kind != RecordKind::data) continue;
        const std::string text = to_string(r.payload);
        const std::size_t nul = text.find('\0');
        if (nul == std::string::npos) return make_error(Errc::corruption, "a record without a key");
        held[text.substr(0, nul)] = text.substr(nul + 1);
      }
    }
  }

  Status close() override { return store_->close(); }

 private:
  std::unique_ptr<Store> store_;
};

class LogEngine final : public sut::Engine {
 public:
  explicit LogEngine(bool sync_always) : sync_always_(sync_always) {}

  Result<std::unique_ptr<sut::Session>> open(sut::Environment& env) override {
    Options o;
    o.max_segment_bytes = 16 << 10;
    o.sync.mode = sync_always_ ? SyncMode::always : SyncMode::manual;
    auto s = Store::open(env.fs, env.clock, env.dir, o);
    if (!s.ok()) return std::move(s).error();
    return std::unique_ptr<sut::Session>(std::make_unique<LogSession>(std::move(s).value()));
  }

  // Every frame has a CRC32C and a chain link: damage is reported or cuts the log's tail.
  sut::DamagePromise damage_promise() const override { return sut::DamagePromise::prefix; }

 private:
  bool sync_always_;
};

}  // namespace

std::unique_ptr<sut::Engine> make_cairn_log(bool sync_always) { return std::make_unique<LogEngine>(sync_always); }

}  // namespace cairn::engines
