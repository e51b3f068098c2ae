// Shrinking a failing run (sim/shrink.h).
#include "sim/shrink.h"

#include <algorithm>
#include <utility>

#include "sim/tape_file.h"
#include "simfs/decision_tape.h"

namespace cairn::sim {
namespace {

struct Candidate {
  std::vector<std::uint64_t> choices;
  std::uint64_t events = 0;  // --ops
  bool operator==(const Candidate&) const = default;
};

// What a person reads first: the events that act, then the faults, then the length of
// the run and of the tape, then (Hypothesis's shortlex) the tape itself.
struct Key {
  std::uint64_t acted = 0;
  std::uint64_t faults = 0;
  std::uint64_t events = 0;
  std::size_t size = 0;
  auto operator<=>(const Key&) const = default;
};

Key key_of(const Candidate& c, const SeedResult& r) {
  return Key{r.events, faults_injected(r), c.events, c.choices.size()};
}

bool simpler(const Key& ka, const Candidate& a, const Key& kb, const Candidate& b) {
  if (ka != kb) return ka < kb;
  return a.choices < b.choices;
}

// The values a run used, without the zeros at the end (past a tape's end every choice is 0).
std::vector<std::uint64_t> normalized(const DecisionTape& t) {
  std::vector<std::uint64_t> v = t.used();
  while (!v.empty() && v.back() == 0) v.pop_back();
  return v;
}

class Shrinker {
 public:
  explicit Shrinker(const ShrinkOptions& o) : o_(o) {}
  ShrinkResult run();

 private:
  bool stop();
  SeedResult run_tape(const Candidate& c, DecisionTape& tape);
  bool consider(Candidate c);
  void keep(const DecisionTape& t, Candidate c, SeedResult r);
  void report(const char* pass);
  void delete_events(std::size_t k);
  void zero_data();
  void zero_spans();
  void zero_blocks(std::size_t k);
  void lower_choices();

  const ShrinkOptions& o_;
  Candidate best_;
  Key best_key_;
  SeedResult best_run_;
  std::vector<DecisionTape::Span> spans_;
  std::vector<std::uint64_t> bounds_;
  std::string check_;
  std::uint64_t runs_ = 0;
  std::uint64_t accepted_ = 0;
  bool stopped_ = false;
  bool final_ = false;
  const char* pass_ = "start";
};

bool Shrinker::stop() {
  if (!stopped_) stopped_ = (o_.max_runs != 0 && runs_ >= o_.max_runs) || (o_.out_of_budget && o_.out_of_budget());
  return stopped_;
}

SeedResult Shrinker::run_tape(const Candidate& c, DecisionTape& tape) {
  SeedOptions so = o_.base;
  so.tape = &tape;
  so.events = c.events;
  so.trace = false;
  ++runs_;
  if (runs_ % 200 == 0) report(pass_);
  return run_seed(so);
}

void Shrinker::keep(const DecisionTape& t, Candidate c, SeedResult r) {
  best_key_ = key_of(c, r);
  best_ = std::move(c);
  best_run_ = std::move(r);
  spans_ = t.spans();
  bounds_ = t.bounds();
  bounds_.resize(best_.choices.size());
}

void Shrinker::report(const char* pass) {
  if (!o_.progress) return;
  o_.progress(ShrinkProgress{runs_, accepted_, best_key_.acted, best_.choices.size(), best_key_.faults, pass});
}

// Runs `c`; keeps it when it fails the same check and is simpler than the best so far.
bool Shrinker::consider(Candidate c) {
  if (c == best_ || (!final_ && stop())) return false;
  DecisionTape t = DecisionTape::replaying(c.choices);
  SeedResult r = run_tape(c, t);
  if (r.passed || failure_check(r.failure) != check_) return false;
  Candidate n{normalized(t), r.events};
  if (!simpler(key_of(n, r), n, best_key_, best_)) return false;
  keep(t, std::move(n), std::move(r));
  ++accepted_;
  report(pass_);
  return true;
}

// Deletes k consecutive events, from the end: their choices, and k from --ops. Later
// events then read other choices (a jump, often a long one, to a shorter run).
void Shrinker::delete_events(std::size_t k) {
  pass_ = "delete events";
  for (std::size_t end = spans_.size(); end > 0 && !stop();) {
    const std::size_t first = end >= k ? end - k : 0;
    Candidate c = best_;
    const std::size_t from = std::min(spans_[first].begin, c.choices.size());
    const std::size_t to = std::min(spans_[end - 1].end, c.choices.size());
    c.choices.erase(c.choices.begin() + static_cast<std::ptrdiff_t>(from), c.choices.begin() + static_cast<std::ptrdiff_t>(to));
    c.events -= std::min<std::uint64_t>(c.events, end - first);
    consider(std::move(c));
    end = std::min(first, spans_.size());
  }
}

// Sets every choice over the whole 64-bit range (payload and garbage bytes) to 0 at once.
void Shrinker::zero_data() {
  pass_ = "zero data";
  Candidate c = best_;
  bool changed = false;
  for (std::size_t j = 0; j < c.choices.size(); ++j) {
    if (bounds_[j] != 0 || c.choices[j] == 0) continue;
    c.choices[j] = 0;
    changed = true;
  }
  if (changed) consider(std::move(c));
}

// Sets every choice of one actor event to 0.
void Shrinker::zero_spans() {
  pass_ = "zero events";
  for (std::size_t i = spans_.size(); i-- > 0 && !stop();) {
    if (i >= spans_.size()) continue;
    Candidate c = best_;
    const std::size_t from = std::min(spans_[i].begin, c.choices.size());
    const std::size_t to = std::min(spans_[i].end, c.choices.size());
    if (std::all_of(c.choices.begin() + static_cast<std::ptrdiff_t>(from), c.choices.begin() + static_cast<std::ptrdiff_t>(to),
                    [](std::uint64_t v) { return v == 0; })) {
      continue;
    }
    std::fill(c.choices.begin() + static_cast<std::ptrdiff_t>(from), c.choices.begin() + static_cast<std::ptrdiff_t>(to), 0);
    consider(std::move(c));
  }
}

// Sets k consecutive bounded choices to 0 (k == 1: one at a time).
void Shrinker::zero_blocks(std::size_t k) {
  pass_ = k == 1 ? "zero choices" : "zero blocks";
  for (std::size_t i = 0; i < best_.choices.size() && !stop(); i += k) {
    Candidate c = best_;
    bool changed = false;
    for (std::size_t j = i; j < std::min(i + k, c.choices.size()); ++j) {
      if (bounds_[j] == 0 || c.choices[j] == 0) continue;
      c.choices[j] = 0;
      changed = true;
    }
    if (changed) consider(std::move(c));
  }
}

// Lowers each bounded choice to the smallest value that still fails (binary search).
void Shrinker::lower_choices() {
  pass_ = "lower choices";
  for (std::size_t i = 0; i < best_.choices.size() && !stop(); ++i) {
    if (bounds_[i] == 0 || best_.choices[i] < 2) continue;
    std::uint64_t lo = 0;  // zeroing was tried: assume it passes
    std::uint64_t hi = best_.choices[i];
    while (hi - lo > 1 && i < best_.choices.size() && !stop()) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      Candidate c = best_;
      c.choices[i] = mid;
      if (consider(std::move(c))) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
  }
}

ShrinkResult Shrinker::run() {
  ShrinkResult out;
  DecisionTape first = DecisionTape::replaying(o_.choices);
  const Candidate given{o_.choices, o_.base.events};
  out.before = run_tape(given, first);
  out.failed_at_start = !out.before.passed;
  if (out.before.passed) return out;
  check_ = failure_check(out.before.failure);
  keep(first, Candidate{normalized(first), out.before.events}, out.before);
  for (;;) {
    const Candidate round = best_;
    for (std::size_t k : {16, 4, 1}) delete_events(k);
    zero_spans();
    zero_blocks(64);
    zero_blocks(8);
    zero_blocks(1);
    lower_choices();
    if (best_ == round || stop()) break;
  }
  const bool budget_hit = stop();
  final_ = true;  // one run past any budget: the same tape with its payloads zeroed is smaller to keep
  zero_data();
  stopped_ = budget_hit;
  report("done");
  out.check = check_;
  out.choices = best_.choices;
  out.events = best_.events;
  out.after = best_run_;
  out.runs = runs_;
  out.stopped_by_budget = stopped_;
  return out;
}

}  // namespace

ShrinkResult shrink(const ShrinkOptions& options) { return Shrinker(options).run(); }

}  // namespace cairn::sim
