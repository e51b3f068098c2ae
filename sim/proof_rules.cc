#include "sim/proof_rules.h"

#include <openssl/evp.h>

namespace cairn::sim::rules {
namespace {

Hash digest(const std::uint8_t* data, std::size_t len) {
  Hash out{};
  unsigned int n = 0;
  EVP_Digest(data, len, out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

Hash interior(const Hash& left, const Hash& right) {
  std::uint8_t in[65];
  in[0] = 0x01;
  std::copy(left.begin(), left.end(), in + 1);
  std::copy(right.begin(), right.end(), in + 33);
  return digest(in, sizeof(in));
}

// MTH(D[start:start+n]) for n >= 1: split at the largest power of two below n (§2.1.1).
Hash subtree(const std::vector<Hash>& leaves, std::size_t start, std::size_t n) {
  if (n == 1) return leaves[start];
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return interior(subtree(leaves, start, k), subtree(leaves, start + k, n - k));
}

}  // namespace

Hash leaf_hash(const Hash& data) {
  std::uint8_t in[33];
  in[0] = 0x00;
  std::copy(data.begin(), data.end(), in + 1);
  return digest(in, sizeof(in));
}

Hash merkle_root(const std::vector<Hash>& leaves, std::size_t n) {
  if (n == 0) return digest(nullptr, 0);
  return subtree(leaves, 0, n);
}

bool inclusion_holds(std::uint64_t index, std::uint64_t size, const Hash& leaf, const std::vector<Hash>& path,
                     const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if (fn % 2 == 1 || fn == sn) {
      r = interior(p, r);
      while (fn % 2 == 0 && fn != 0) {  // until LSB(fn) is set or fn is 0
        fn /= 2;
        sn /= 2;
      }
    } else {
      r = interior(r, p);
    }
    fn /= 2;
    sn /= 2;
  }
  return sn == 0 && r == root;
}

bool consistency_holds(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
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
      fr = interior(path[i], fr);
      sr = interior(path[i], sr);
      while (fn % 2 == 0 && fn != 0) {
        fn /= 2;
        sn /= 2;
      }
    } else {
      sr = interior(sr, path[i]);
    }
    fn /= 2;
    sn /= 2;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace cairn::sim::rules
