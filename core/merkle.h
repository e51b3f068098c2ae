// A Merkle tree over a stream's records, as Certificate Transparency defines it
// (RFC 9162 §2.1, the same hashing as RFC 6962 §2.1):
//   the empty tree's hash    MTH({})    = SHA-256()
//   a leaf's hash            MTH({d})   = SHA-256(0x00 || d)
//   a tree of n > 1 leaves   MTH(D[n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
// where k is the largest power of two smaller than n. Inclusion proofs follow §2.1.3.1
// (PATH), consistency proofs §2.1.4.1 (PROOF/SUBPROOF); verifiers follow §2.1.3.2 and
// §2.1.4.2 (the tests carry their own, written from the RFC, not from this file).
#pragma once

#include <cstdint>
#include <vector>

#include "core/chain.h"
#include "core/types.h"
#include "simfs/result.h"

namespace cairn::merkle {

using Hash = ChainHash;

// SHA-256(0x00 || data): the leaf hash of one record's data.
Hash leaf_hash(ChainHasher& h, ByteView data);
// SHA-256(0x01 || left || right): an interior node.
Hash node_hash(ChainHasher& h, const Hash& left, const Hash& right);
// SHA-256 of nothing: the root of the empty tree.
Hash empty_root(ChainHasher& h);

// RFC 9162 §2.1.3.2: whether `path` proves that `leaf` (a leaf hash) is leaf `index` of
// the tree of `size` leaves whose root is `root`. False for any out-of-range input.
bool verify_inclusion(ChainHasher& h, std::uint64_t index, std::uint64_t size, const Hash& leaf,
                      const std::vector<Hash>& path, const Hash& root);
// RFC 9162 §2.1.4.2: whether `proof` shows the tree of `old_size` leaves (root `old_root`)
// is a prefix of the tree of `new_size` leaves (root `new_root`). Equal sizes need an
// empty proof and equal roots; old_size 0 is consistent with anything (an empty proof).
bool verify_consistency(ChainHasher& h, std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                        const Hash& new_root, const std::vector<Hash>& proof);

// An append-only tree of leaf hashes. It keeps the hash of every complete, aligned
// subtree (about two hashes per leaf: 64 bytes), so a root or a proof of any size costs
// O(log n) node hashes. Not thread-safe.
class Tree {
 public:
  // Adds the next leaf (its leaf hash, leaf_hash()). Amortized O(1) node hashes.
  void append(const Hash& leaf);
  // Adds the next leaf by its data: append(leaf_hash(data)).
  void append_data(ByteView data) { append(leaf_hash(hasher_, data)); }
  // Leaves held.
  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // Keeps the first `size` leaves (no-op when size >= size()): a spine ahead of its log
  // after a crash is cut back to it.
  void truncate(std::uint64_t size);

  // MTH of the first `size` leaves. Errc::invalid_argument when size > size().
  Result<Hash> root(std::uint64_t size) const;
  // PATH(index, D[size]): the audit path of leaf `index` in the tree of the first `size`
  // leaves, from the leaf's sibling upward. Errc::invalid_argument unless index < size
  // and size <= size().
  Result<std::vector<Hash>> inclusion_proof(std::uint64_t index, std::uint64_t size) const;
  // PROOF(old_size, D[new_size]): empty when old_size == new_size. Errc::invalid_argument
  // unless 0 < old_size <= new_size <= size().
  Result<std::vector<Hash>> consistency_proof(std::uint64_t old_size, std::uint64_t new_size) const;

 private:
  // MTH(D[start:start+n]), n >= 1, start a multiple of the largest power of two <= n.
  Hash subtree(std::uint64_t start, std::uint64_t n) const;
  void path(std::uint64_t m, std::uint64_t start, std::uint64_t n, std::vector<Hash>& out) const;
  void subproof(std::uint64_t m, std::uint64_t start, std::uint64_t n, bool whole, std::vector<Hash>& out) const;

  std::vector<std::vector<Hash>> levels_;  // levels_[h][j]: the subtree of 2^h leaves from j * 2^h
  mutable ChainHasher hasher_;
};

}  // namespace cairn::merkle
