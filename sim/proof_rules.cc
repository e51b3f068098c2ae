#include "sim/proof_rules.h"

namespace cairn::sim::rules {
namespace {

constexpr std::uint8_t kLeaf = 0x00, kNode = 0x01;

Hash interior(Chain& h, const Hash& left, const Hash& right) {
  return h.sha256(ByteView(&kNode, 1), ByteView(left.data(), left.size()), ByteView(right.data(), right.size()));
}

// MTH(D[start:start+n]) for n >= 1: split at the largest power of two below n (§2.1.1).
Hash subtree(Chain& h, const std::vector<Hash>& leaves, std::size_t start, std::size_t n) {
  if (n == 1) return leaves[start];
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return interior(h, subtree(h, leaves, start, k), subtree(h, leaves, start + k, n - k));
}

}  // namespace

Hash leaf_hash(Chain& h, const Hash& data) { return h.sha256(ByteView(&kLeaf, 1), ByteView(data.data(), data.size())); }

Hash merkle_root(Chain& h, const std::vector<Hash>& leaves, std::size_t n) {
  if (n == 0) return h.sha256(ByteView());
  return subtree(h, leaves, 0, n);
}

void SubtreeCache::truncate(std::size_t n) {
  for (std::size_t k = 0; k < levels_.size(); ++k) {
    if (levels_[k].size() > (n >> k)) levels_[k].resize(n >> k);
  }
}

void SubtreeCache::append(Chain& h, const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  for (std::size_t k = 0; levels_[k].size() % 2 == 0; ++k) {  // a pair completed: its parent
    if (k + 1 == levels_.size()) levels_.emplace_back();
    const std::vector<Hash>& row = levels_[k];
    levels_[k + 1].push_back(interior(h, row[row.size() - 2], row.back()));
  }
}

Hash SubtreeCache::subtree(Chain& h, std::size_t start, std::size_t n) const {
  std::size_t k = 0;
  while ((std::size_t{1} << k) < n) ++k;
  if ((std::size_t{1} << k) == n) return levels_[k][start >> k];  // complete and aligned
  std::size_t split = 1;
  while (split * 2 < n) split *= 2;
  return interior(h, subtree(h, start, split), subtree(h, start + split, n - split));
}

Hash SubtreeCache::root(Chain& h, std::size_t n) const {
  if (n == 0) return h.sha256(ByteView());
  return subtree(h, 0, n);
}

bool inclusion_holds(Chain& h, std::uint64_t index, std::uint64_t size, const Hash& leaf, const std::vector<Hash>& path,
                     const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if (fn % 2 == 1 || fn == sn) {
      r = interior(h, p, r);
      while (fn % 2 == 0 && fn != 0) {  // until LSB(fn) is set or fn is 0
        fn /= 2;
        sn /= 2;
      }
    } else {
      r = interior(h, r, p);
    }
    fn /= 2;
    sn /= 2;
  }
  return sn == 0 && r == root;
}

bool consistency_holds(Chain& h, std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof) {
  if (old_size == 0 || old_size >= new_size || proof.empty()) return false;
  std::vector<Hash> path = proof;
  if ((old_size & (old_size - 1)) == 0) path.insert(path.begin(), old_root);  // an exact power of 2
  std::uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn % 2 == 1) {  // while LSB(fn) is set
    fn /= 2;
    sn /= 2;
  }
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (sn == 0) return false;
    if (fn % 2 == 1 || fn == sn) {
      fr = interior(h, path[i], fr);
      sr = interior(h, path[i], sr);
      while (fn % 2 == 0 && fn != 0) {
        fn /= 2;
        sn /= 2;
      }
    } else {
      sr = interior(h, sr, path[i]);
    }
    fn /= 2;
    sn /= 2;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace cairn::sim::rules
