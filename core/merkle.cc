// RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs (see merkle.h).
#include "core/merkle.h"

#include <bit>

#include <fmt/format.h>

namespace cairn::merkle {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;

// The largest power of two smaller than n (n >= 2): the split point k of RFC 9162 §2.1.1.
std::uint64_t split(std::uint64_t n) { return std::bit_floor(n - 1); }

Error bad(std::string what) { return make_error(Errc::invalid_argument, std::move(what)); }

}  // namespace

Hash leaf_hash(ChainHasher& h, ByteView data) { return h.sha256({ByteView(&kLeafPrefix, 1), data}); }

Hash node_hash(ChainHasher& h, const Hash& left, const Hash& right) {
  return h.sha256({ByteView(&kNodePrefix, 1), ByteView(left.data(), left.size()), ByteView(right.data(), right.size())});
}

Hash empty_root(ChainHasher& h) { return h.sha256(ByteView()); }

void Tree::append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  // Each level whose count turned even completes a pair: its parent joins the level above.
  for (std::size_t lv = 0; levels_[lv].size() % 2 == 0; ++lv) {
    if (lv + 1 == levels_.size()) levels_.emplace_back();
    const std::vector<Hash>& row = levels_[lv];
    levels_[lv + 1].push_back(node_hash(hasher_, row[row.size() - 2], row[row.size() - 1]));
  }
}

void Tree::truncate(std::uint64_t size) {
  for (std::size_t lv = 0; lv < levels_.size(); ++lv) {
    const std::uint64_t keep = size >> lv;
    if (levels_[lv].size() > keep) levels_[lv].resize(static_cast<std::size_t>(keep));
  }
  while (!levels_.empty() && levels_.back().empty() && levels_.size() > 1) levels_.pop_back();
}

Hash Tree::subtree(std::uint64_t start, std::uint64_t n) const {
  if (std::has_single_bit(n)) {  // complete and aligned: stored
    const auto lv = static_cast<std::size_t>(std::countr_zero(n));
    return levels_[lv][static_cast<std::size_t>(start >> lv)];
  }
  const std::uint64_t k = split(n);
  return node_hash(hasher_, subtree(start, k), subtree(start + k, n - k));
}

Result<Hash> Tree::root(std::uint64_t n) const {
  if (n > size()) return bad(fmt::format("tree size {} is above the {} leaves held", n, size()));
  if (n == 0) return empty_root(hasher_);
  return subtree(0, n);
}

// PATH(m, D[start:start+n]), RFC 9162 §2.1.3.1.
void Tree::path(std::uint64_t m, std::uint64_t start, std::uint64_t n, std::vector<Hash>& out) const {
  if (n == 1) return;
  const std::uint64_t k = split(n);
  if (m < k) {
    path(m, start, k, out);
    out.push_back(subtree(start + k, n - k));
  } else {
    path(m - k, start + k, n - k, out);
    out.push_back(subtree(start, k));
  }
}

Result<std::vector<Hash>> Tree::inclusion_proof(std::uint64_t index, std::uint64_t n) const {
  if (n > size()) return bad(fmt::format("tree size {} is above the {} leaves held", n, size()));
  if (index >= n) return bad(fmt::format("leaf {} is not in a tree of {} leaves", index, n));
  std::vector<Hash> out;
  path(index, 0, n, out);
  return out;
}

// SUBPROOF(m, D[start:start+n], whole), RFC 9162 §2.1.4.1.
void Tree::subproof(std::uint64_t m, std::uint64_t start, std::uint64_t n, bool whole, std::vector<Hash>& out) const {
  if (m == n) {
    if (!whole) out.push_back(subtree(start, n));
    return;
  }
  const std::uint64_t k = split(n);
  if (m <= k) {
    subproof(m, start, k, whole, out);
    out.push_back(subtree(start + k, n - k));
  } else {
    subproof(m - k, start + k, n - k, false, out);
    out.push_back(subtree(start, k));
  }
}

Result<std::vector<Hash>> Tree::consistency_proof(std::uint64_t old_size, std::uint64_t new_size) const {
  if (new_size > size()) return bad(fmt::format("tree size {} is above the {} leaves held", new_size, size()));
  if (old_size == 0 || old_size > new_size) {
    return bad(fmt::format("no consistency proof from {} to {} leaves (needs 0 < old <= new)", old_size, new_size));
  }
  std::vector<Hash> out;
  subproof(old_size, 0, new_size, true, out);
  return out;
}

namespace {

// Shifts both counters right while the first's lowest bit equals `bit` (and it is not 0).
void shift_while(std::uint64_t& fn, std::uint64_t& sn, std::uint64_t bit) {
  while (fn != 0 && (fn & 1) == bit) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

bool verify_inclusion(ChainHasher& h, std::uint64_t index, std::uint64_t size, const Hash& leaf,
                      const std::vector<Hash>& path, const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = node_hash(h, p, r);
      shift_while(fn, sn, 0);
    } else {
      r = node_hash(h, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool verify_consistency(ChainHasher& h, std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                        const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();
  std::vector<Hash> path = proof;
  if (path.empty()) return false;
  if (std::has_single_bit(old_size)) path.insert(path.begin(), old_root);
  std::uint64_t fn = old_size - 1, sn = new_size - 1;
  shift_while(fn, sn, 1);
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = node_hash(h, path[i], fr);
      sr = node_hash(h, path[i], sr);
      shift_while(fn, sn, 0);
    } else {
      sr = node_hash(h, sr, path[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace cairn::merkle
