// The simulator's own reading of RFC 9162 §2.1 (Merkle tree hashing, inclusion and
// consistency proofs), for judging the core's spine: written from the RFC, never from
// core/merkle. SHA-256 through rules::Chain (OpenSSL EVP, FIPS 180-4). Pure but for
// the hashing context.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/format_rules.h"

namespace cairn::sim::rules {

// SHA-256(0x00 || data): the leaf hash of a record's leaf data (its chain hash).
Hash leaf_hash(Chain& h, const Hash& data);
// MTH(D[0:n]) of the leaf hashes `leaves` (n <= leaves.size()); SHA-256() for n = 0.
Hash merkle_root(Chain& h, const std::vector<Hash>& leaves, std::size_t n);
// The hashes of every complete, aligned subtree of a growing list of leaf hashes, so that
// MTH(D[0:n]) of any n costs O(log n) node hashes (the split rule of §2.1.1, unchanged).
class SubtreeCache {
 public:
  std::size_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  void truncate(std::size_t n);
  void append(Chain& h, const Hash& leaf);
  // MTH of the first n leaves, n <= size().
  Hash root(Chain& h, std::size_t n) const;

 private:
  Hash subtree(Chain& h, std::size_t start, std::size_t n) const;
  std::vector<std::vector<Hash>> levels_;  // levels_[k][j]: the 2^k leaves from j * 2^k
};

// RFC 9162 §2.1.3.2: `path` proves `leaf` (a leaf hash) is leaf `index` of the tree of
// `size` leaves with root `root`.
bool inclusion_holds(Chain& h, std::uint64_t index, std::uint64_t size, const Hash& leaf, const std::vector<Hash>& path,
                     const Hash& root);
// RFC 9162 §2.1.4.2, for 0 < old_size < new_size.
bool consistency_holds(Chain& h, std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof);

}  // namespace cairn::sim::rules
