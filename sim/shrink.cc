// Shrinking a failing run (sim/shrink.h).
#include "sim/shrink.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "sim/tape_file.h"
#include "simfs/decision_tape.h"

namespace cairn::sim {
namespace {

struct Candidate {
  std::vector<std::uint64_t> choices;
  std::uint64_t events = 0;
  bool operator==(const Candidate&) const = default;
};

// Hypothesis's order: fewer events, then a shorter tape, then a smaller one.
bool simpler(const Candidate& a, const Candidate& b) {
  if (a.events != b.events) return a.events < b.events;
  if (a.choices.size() != b.choices.size()) return a.choices.size() < b.choices.size();
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
  void delete_spans(std::size_t k);
  void zero_spans();
  void zero_blocks(std::size_t k);
  void lower_choices();

  const ShrinkOptions& o_;
  Candidate best_;
  SeedResult best_run_;
  std::vector<DecisionTape::Span> spans_;
  std::vector<std::uint64_t> bounds_;
  std::string check_;
  std::uint64_t runs_ = 0;
  std::uint64_t accepted_ = 0;
  bool stopped_ = false;
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
  best_ = std::move(c);
  best_run_ = std::move(r);
  spans_ = t.spans();
  bounds_ = t.bounds();
  bounds_.resize(best_.choices.size());
}

void Shrinker::report(const char* pass) {
  if (!o_.progress) return;
  o_.progress(ShrinkProgress{runs_, accepted_, best_.events, best_.choices.size(), faults_injected(best_run_), pass});
}

// Runs `c`; keeps it when it fails the same check and is simpler than the best so far.
bool Shrinker::consider(Candidate c) {
  if (!simpler(c, best_) || stop()) return false;
  DecisionTape t = DecisionTape::replaying(c.choices);
  SeedResult r = run_tape(c, t);
  if (r.passed || failure_check(r.failure) != check_) return false;
  Candidate n{normalized(t), r.events};
  if (!simpler(n, best_)) return false;
  keep(t, std::move(n), std::move(r));
  ++accepted_;
  report(pass_);
  return true;
}

// Deletes k consecutive actor events (their choices, and k from --ops), from the end.
void Shrinker::delete_spans(std::size_t k) {
  pass_ = "delete events";
  for (std::size_t i = spans_.size(); i-- > 0 && !stop();) {
    i = std::min(i, spans_.size() - 1);
    const std::size_t first = i + 1 >= k ? i + 1 - k : 0;
    const std::size_t count = i - first + 1;
    if (spans_.empty() || count > best_.events) continue;
    Candidate c = best_;
    const std::size_t from = std::min(spans_[first].begin, c.choices.size());
    const std::size_t to = std::min(spans_[i].end, c.choices.size());
    c.choices.erase(c.choices.begin() + static_cast<std::ptrdiff_t>(from), c.choices.begin() + static_cast<std::ptrdiff_t>(to));
    c.events -= count;
    consider(std::move(c));
    if (spans_.empty()) return;
  }
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
    for (std::size_t k : {16, 4, 1}) delete_spans(k);
    zero_spans();
    zero_blocks(8);
    zero_blocks(1);
    lower_choices();
    if (best_ == round || stop()) break;
  }
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

std::uint64_t faults_injected(const SeedResult& r) {
  return std::accumulate(r.faults.begin(), r.faults.end(), std::uint64_t{0});
}

ShrinkResult shrink(const ShrinkOptions& options) { return Shrinker(options).run(); }

}  // namespace cairn::sim
