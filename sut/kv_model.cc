#include "sut/kv_model.h"

#include <set>

#include <fmt/format.h>

namespace cairn::sut {

namespace {

std::string shown(const KvModel::State& s, const std::string& key) {
  const auto it = s.find(key);
  if (it == s.end()) return "nothing";
  std::string v = it->second.substr(0, 24);
  return fmt::format("\"{}{}\"", v, it->second.size() > v.size() ? "…" : "");
}

// The first key (in order) whose value differs between a and b, "" when they are equal.
std::string first_difference(const KvModel::State& a, const KvModel::State& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() || j != b.end()) {
    if (i == a.end()) return j->first;
    if (j == b.end()) return i->first;
    if (i->first != j->first) return std::min(i->first, j->first);
    if (i->second != j->second) return i->first;
    ++i;
    ++j;
  }
  return "";
}

}  // namespace

void KvModel::attempt(const Commit& c) {
  pending_.push_back(c);
  attempted_ = c.number;
}

void KvModel::acknowledge() { acknowledged_ = attempted_; }

Verdict KvModel::recovered(const State& held, const Recovery& how) {
  const bool everything = how.everything && how.damaged == DamagePromise::none;
  // states[k]: the base with the first k undecided commits applied.
  std::vector<State> states{base_};
  std::size_t min_k = 0;  // every acknowledged commit applied
  for (const Commit& c : pending_) {
    State next = states.back();
    for (const auto& [key, value] : c.puts) next[key] = value;
    states.push_back(std::move(next));
    if (c.number <= acknowledged_) min_k = states.size() - 1;
  }
  if (everything) min_k = pending_.size();
  for (std::size_t k = states.size(); k-- > min_k;) {
    if (states[k] != held) continue;
    pending_.resize(k);  // the commits after k vanished for good
    // The acknowledged prefix is decided: fold it into the base.
    std::size_t decided = 0;
    while (decided < pending_.size() && pending_[decided].number <= acknowledged_) ++decided;
    if (decided > 0) {
      decided_.insert(decided_.end(), pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(decided));
      base_ = states[decided];
      base_number_ = pending_[decided - 1].number;
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(decided));
    }
    return {};
  }
  Verdict v;
  if (how.damaged != DamagePromise::none && rebuild_after_damage(held, v)) return v;
  if (how.damaged == DamagePromise::no_altered && rebuild_from_written(held, v)) return v;
  return Verdict{explain(held, states[min_k], number_at(min_k)), 0};
}

std::vector<Commit> KvModel::history() const {
  std::vector<Commit> all = decided_;
  all.insert(all.end(), pending_.begin(), pending_.end());
  return all;
}

bool KvModel::rebuild_after_damage(const State& held, Verdict& v) {
  std::vector<Commit> all = history();
  State s;
  for (std::size_t k = 0; k <= all.size(); ++k) {
    if (k > 0) {
      for (const auto& [key, value] : all[k - 1].puts) s[key] = value;
    }
    if (s != held) continue;
    for (std::size_t i = k; i < all.size(); ++i) v.lost_to_damage += all[i].number <= acknowledged_ ? 1 : 0;
    all.resize(k);  // what the engine holds now is the truth the next commits build on
    decided_ = std::move(all);
    base_ = std::move(s);
    base_number_ = decided_.empty() ? 0 : decided_.back().number;
    pending_.clear();
    return true;
  }
  return false;
}

bool KvModel::rebuild_from_written(const State& held, Verdict& v) {
  std::vector<Commit> all = history();
  // Every value held must be one a commit wrote to that key; `latest`: each key's last one.
  std::map<std::string, std::pair<std::string, std::uint64_t>> latest;
  std::set<std::pair<std::string, std::string>> written;
  for (const Commit& c : all) {
    for (const auto& [key, value] : c.puts) {
      written.emplace(key, value);
      latest[key] = {value, c.number};
    }
  }
  for (const auto& kv : held) {
    if (written.count(kv) == 0) return false;
  }
  // An acknowledged commit whose last word on a key is not held is lost to the damage.
  std::set<std::uint64_t> lost;
  for (const auto& [key, last] : latest) {
    const auto it = held.find(key);
    if (last.second <= acknowledged_ && (it == held.end() || it->second != last.first)) lost.insert(last.second);
  }
  v.lost_to_damage = lost.size();
  decided_ = std::move(all);
  base_ = held;
  base_number_ = attempted_;  // the held state stands for every commit so far
  pending_.clear();
  return true;
}

std::string KvModel::explain(const State& held, const State& want, std::uint64_t want_number) const {
  // Every state from the empty one through the decided and undecided commits: a match is
  // a lost suffix; none is a state no prefix makes (torn or reordered commits).
  std::vector<const Commit*> all;
  for (const Commit& c : decided_) all.push_back(&c);
  for (const Commit& c : pending_) all.push_back(&c);
  State s;
  std::uint64_t after = 0;
  for (std::size_t i = 0; i <= all.size(); ++i) {
    if (s == held && s != want) {
      const std::uint64_t lost_from = i < all.size() ? all[i]->number : after + 1;
      return fmt::format("commits {}..{} lost: the engine recovered the state after commit {}, not {}", lost_from,
                         want_number, after, want_number);
    }
    if (i == all.size()) break;
    for (const auto& [key, value] : all[i]->puts) s[key] = value;
    after = all[i]->number;
  }
  const std::string key = first_difference(held, want);
  return fmt::format(
      "the recovered state is the state after no prefix of the commits through commit {}: "
      "key {} holds {}, where it should hold {} ({} keys recovered, {} expected)",
      want_number, key, shown(held, key), shown(want, key), held.size(), want.size());
}

}  // namespace cairn::sut
