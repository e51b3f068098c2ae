#include "sut/run.h"

#include <memory>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sut/process_fs.h"

namespace cairn::sut {

namespace {

constexpr const char* kDir = "/db";
constexpr int kOpenAttempts = 4;

// What one workload event does, by share of events (per mille; the shares add to 1000).
enum class Action { commit, commit_power_off, power_loss, kill, clean_close };
struct ActionShare {
  Action action;
  std::uint64_t per_mille;
};
constexpr ActionShare kActions[] = {
    {Action::commit, 800},     {Action::commit_power_off, 100}, {Action::power_loss, 60},
    {Action::kill, 20},        {Action::clean_close, 20},
};

// A swarm over the engine's fault families: each enabled one stays on with chance 3/4.
struct FamilySwitch {
  bool fs::SimConfig::*on;
  const char* name;
};
constexpr FamilySwitch kFamilies[] = {
    {&fs::SimConfig::lost_writes, "lost_write"},     {&fs::SimConfig::torn_writes, "torn_write"},
    {&fs::SimConfig::extension_garbage, "extension_garbage"}, {&fs::SimConfig::dir_reverts, "dir_revert"},
    {&fs::SimConfig::fsync_failures, "fsync_failure"},        {&fs::SimConfig::write_errors, "write_error"},
    {&fs::SimConfig::read_errors, "read_error"},              {&fs::SimConfig::misdirected_writes, "misdirected_write"},
};

// Damage at rest, for engines that checksum their data: on in half their seeds, then a bit
// flip after one power loss in kDamageOneIn.
constexpr std::uint64_t kDamageOneIn = 4;

fs::SimConfig swarm(const Engine& engine, const EngineSeedOptions& o, Prng& rng, std::string& families,
                    bool& damage) {
  fs::SimConfig c = engine.faults();
  if (o.posix_fs) {
    c.ordered_dir_reverts = c.fsync_commits_metadata = false;
    c.extension_garbage = c.lost_writes || c.torn_writes;
  }
  for (const FamilySwitch& f : kFamilies) {
    if (!(c.*f.on)) continue;
    c.*f.on = rng.below(4) != 0;
    if (c.*f.on) families += families.empty() ? f.name : fmt::format(",{}", f.name);
  }
  damage = engine.damage_promise() != DamagePromise::none && rng.coin();
  if (damage) families += families.empty() ? "bit_flip" : ",bit_flip";
  return c;
}

class Run {
 public:
  Run(Engine& engine, const EngineSeedOptions& o)
      : engine_(engine), opt_(o), workload_(o.seed), faults_rng_(workload_.fork()),
        fs_(swarm(engine, o, workload_, result_.families, damage_), faults_rng_, &clock_), model_(engine.model()) {
    fs_.set_trace(o.trace);
    result_.seed = o.seed;
  }

  EngineSeedResult run() {
    note(fmt::format("seed {} families [{}]", opt_.seed, result_.families));
    // The engine's directory exists and is durable before any fault: the engine's own
    // first open is the first thing under test.
    const fs::SimConfig with_faults = fs_.config();
    fs_.mutable_config() = fs::SimConfig{};
    const bool made = fs_.mkdir(kDir).ok() && fs_.sync_dir("/").ok();
    fs_.mutable_config() = with_faults;
    if (made) reopen();
    else fail("could not create " + std::string(kDir));
    for (std::uint64_t e = 1; e <= opt_.events && going(); ++e) {
      result_.events = e;
      event();
    }
    if (going()) restart(true);  // the last power loss: what was acknowledged must be there
    if (going()) close_and_reopen();
    session_.reset();
    return finish();
  }

 private:
  void note(const std::string& line) { fs_.note("sut: " + line); }
  // Neither failed nor stopped by damage the engine reported (the end of a seed's story).
  bool going() const { return result_.passed && !result_.damage_detected; }
  void fail(std::string why) {
    if (!result_.passed) return;
    result_.passed = false;
    result_.failure = std::move(why);
    note("FAIL " + result_.failure);
  }

  Action draw_action() {
    std::uint64_t roll = workload_.below(1000);
    for (const ActionShare& a : kActions) {
      if (roll < a.per_mille) return a.action;
      roll -= a.per_mille;
    }
    return Action::commit;
  }

  void event() {
    switch (draw_action()) {
      case Action::commit: commit(false); break;
      case Action::commit_power_off: commit(true); break;
      case Action::power_loss: restart(true); break;
      case Action::kill: restart(false); break;
      case Action::clean_close: close_and_reopen(); break;
    }
    if (session_ && going()) {
      session_->run_background();
      if (fs_.powered_off()) restart(true);
    }
    fs_.disarm_power_off();
  }

  void commit(bool power_off) {
    const Commit c = engine_.draw(workload_, model_->attempted() + 1);
    if (power_off) fs_.arm_power_off(workload_.range(1, 30));
    model_->attempt(c);
    const Status st = session_->commit(c);
    note(fmt::format("commit {} ({} puts): {}", c.number, c.puts.size(), st.ok() ? "acknowledged" : st.error().to_string()));
    if (st.ok()) {
      model_->acknowledge();
      return;
    }
    // Fail-stop: the process dies; the machine too when the power is off, after a failed
    // fsync (Linux marked the unwritten pages clean: no later process can tell which bytes
    // it reads are on disk, so only a reboot makes a fair test), or on a coin.
    restart(reboot_due() || workload_.coin());
  }

  // The process dies (and with power_loss the machine loses power), then a new one opens.
  void restart(bool power_loss) {
    if (process_) process_->kill();
    session_.reset();
    process_.reset();
    if (power_loss) {
      lose_power("power loss");
    } else {
      ++result_.kills;
      note("process killed");
    }
    reopen();
  }

  void close_and_reopen() {
    const Status st = session_->close();
    note(fmt::format("clean close: {}", st.ok() ? "ok" : st.error().to_string()));
    if (st.ok() && !fs_.powered_off()) {
      ++clean_closes_;
      session_.reset();
      process_.reset();
      reopen(true);  // a clean close keeps everything it accepted (not durable: only closed)
      return;
    }
    restart(reboot_due());
  }

  // The power is off, or an fsync failed since the last power loss.
  bool reboot_due() const {
    return fs_.powered_off() || fs_.fault_count(fs::FaultFamily::fsync_failure) > fsync_failures_seen_;
  }
  void lose_power(const char* what) {
    fsync_failures_seen_ = fs_.fault_count(fs::FaultFamily::fsync_failure);
    fs_.crash();
    ++result_.crashes;
    note(what);
    if (damage_ && workload_.below(kDamageOneIn) == 0) {
      if (auto f = fs_.inject_random_bit_flip(std::string(kDir) + "/")) {
        damaged_ = true;
        note("damage at rest: " + f->to_string());
      }
    }
  }

  void reopen(bool after_clean_close = false);
  bool open_once(bool& retry, bool everything);
  void detected(const std::string& what) {
    result_.damage_detected = true;
    note(what + " (detected: the seed ends here)");
  }
  void cover() const;
  EngineSeedResult finish();

  Engine& engine_;
  EngineSeedOptions opt_;
  EngineSeedResult result_;
  bool damage_ = false;  // this seed flips bits at rest (set while fs_ is made: declared before it)
  Prng workload_;
  Prng faults_rng_;
  ManualClock clock_;
  fs::SimFileSystem fs_;
  std::unique_ptr<Model> model_;
  bool damaged_ = false;  // and has flipped one
  bool power_lost_in_recovery_ = false;
  std::uint64_t clean_closes_ = 0;
  std::unique_ptr<ProcessFileSystem> process_;
  std::unique_ptr<Environment> environment_;  // the process's: outlives its session
  std::unique_ptr<Session> session_;
  std::string last_open_error_;
  std::uint64_t fsync_failures_seen_ = 0;  // fsync failures before the last power loss
};

void Run::reopen(bool after_clean_close) {
  // Sometimes the power goes again inside recovery.
  if (workload_.below(10) == 0) fs_.arm_power_off(workload_.range(1, 20));
  const fs::SimConfig with_faults = fs_.config();
  for (int attempt = 1; attempt <= kOpenAttempts && going(); ++attempt) {
    if (attempt == kOpenAttempts) {  // the last try on a healthy disk: errors are the engine's
      fs_.mutable_config().write_errors = fs_.mutable_config().fsync_failures = false;
      fs_.disarm_power_off();
    }
    bool retry = false;
    if (open_once(retry, after_clean_close && attempt == 1) || !retry) break;
    if (attempt == kOpenAttempts && damaged_) {
      detected("the engine refuses to open after damage at rest: " + last_open_error_);
    } else if (attempt == kOpenAttempts) {
      fail(fmt::format("the engine did not open in {} attempts, the last without injected errors: {}", kOpenAttempts,
                       last_open_error_));
    }
  }
  fs_.mutable_config() = with_faults;
  fs_.disarm_power_off();
}

// One process's open, read-back and check. True when open; `retry` when the open failed
// for a fault (power lost inside recovery, an injected error) and a new process may retry.
bool Run::open_once(bool& retry, bool everything) {
  process_ = std::make_unique<ProcessFileSystem>(fs_);
  environment_ = std::make_unique<Environment>(
      Environment{*process_, clock_, [this](std::uint64_t us) { clock_.advance_us(us); }, workload_, kDir});
  ++result_.opens;
  auto opened = engine_.open(*environment_);
  Result<Model::State> held = opened.ok() ? opened.value()->read_all() : Result<Model::State>(opened.error());
  if (!held.ok()) {
    last_open_error_ = held.error().to_string();
    note("open: " + last_open_error_);
    if (held.error().code == Errc::corruption && damaged_) {  // reported, not passed on: the story ends
      detected("the engine reports damage: " + last_open_error_);
      process_->kill();  // its teardown must not work on the damage (LevelDB would compact it)
      return false;
    }
    if (held.error().code == Errc::corruption) {  // what it acknowledged is not readable: lost
      result_.lost_acknowledged = true;
      fail("the engine reports its data corrupt after recovery: " + last_open_error_);
      return false;
    }
    retry = true;
    process_->kill();
    if (opened.ok()) opened.value().reset();
    process_.reset();
    if (reboot_due()) {
      power_lost_in_recovery_ = power_lost_in_recovery_ || fs_.powered_off();
      lose_power("power loss in recovery");
    }
    return false;
  }
  session_ = std::move(opened).value();
  const Verdict v = model_->recovered(held.value(), Recovery{everything, damaged_ ? engine_.damage_promise() : DamagePromise::none});
  note(fmt::format("open: {} keys, the state after commit {} (acknowledged {}, attempted {})", held->size(),
                   model_->observed(), model_->acknowledged(), model_->attempted()));
  if (v.lost_to_damage > 0) note(fmt::format("{} acknowledged commits dropped after damage at rest", v.lost_to_damage));
  result_.lost_to_damage += v.lost_to_damage;
  if (!v.failure.empty()) {
    result_.lost_acknowledged = !damaged_;
    fail(damaged_ ? "after damage at rest, a state the engine does not promise: " + v.failure : v.failure);
  }
  return true;
}

EngineSeedResult Run::finish() {
  result_.commits_attempted = model_->attempted();
  result_.commits_acknowledged = model_->acknowledged();
  result_.digest = fs_.trace_digest();
  result_.fs_ops = fs_.ops();
  result_.sim_time_us = clock_.now_us();
  for (int f = 0; f < fs::kFaultFamilyCount; ++f)
    result_.faults[static_cast<std::size_t>(f)] = fs_.fault_count(static_cast<fs::FaultFamily>(f));
  if (opt_.trace) result_.trace = fs_.trace();
  cover();
  return result_;
}

// What a sweep must sometimes reach for its verdicts to mean anything (merged over the
// seeds in cairn-sim --engine NAME --properties-out FILE).
void Run::cover() const {
  auto injected = [this](fs::FaultFamily f) { return result_.faults[static_cast<std::size_t>(f)] > 0; };
  SOMETIMES(injected(fs::FaultFamily::lost_write), "sut: a lost unsynced write was injected");
  SOMETIMES(injected(fs::FaultFamily::torn_write), "sut: a torn write was injected");
  SOMETIMES(injected(fs::FaultFamily::dir_revert), "sut: a directory operation was reverted");
  SOMETIMES(injected(fs::FaultFamily::fsync_failure), "sut: an fsync failure was injected");
  SOMETIMES(injected(fs::FaultFamily::write_error), "sut: a write error was injected");
  SOMETIMES(result_.kills > 0, "sut: a process was killed");
  SOMETIMES(power_lost_in_recovery_, "sut: the power went inside recovery");
  SOMETIMES(clean_closes_ > 0, "sut: a clean close and reopen");
  SOMETIMES(result_.commits_acknowledged < result_.commits_attempted, "sut: a commit was not acknowledged");
  if (damage_) {
    SOMETIMES(result_.damage_detected, "sut: the engine reported damage at rest");
    SOMETIMES(damaged_ && !result_.damage_detected, "sut: the engine ran on past damage at rest");
  }
}

}  // namespace

EngineSeedResult run_engine_seed(Engine& engine, const EngineSeedOptions& options) {
  return Run(engine, options).run();
}

}  // namespace cairn::sut
