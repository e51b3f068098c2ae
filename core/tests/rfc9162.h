// Verifiers written from RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), with
// their own SHA-256 calls (OpenSSL one-shot EVP_Digest), never the prover's code: the
// core's tests check its trees and proofs with these.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <vector>

#include "core/types.h"

namespace cairn::rfc9162 {

using Hash = std::array<std::uint8_t, 32>;

inline Hash sha(const Bytes& in) {
  Hash out{};
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

inline Hash leaf(const Bytes& d) {
  Bytes in{0x00};
  in.insert(in.end(), d.begin(), d.end());
  return sha(in);
}

inline Hash node(const Hash& l, const Hash& r) {
  Bytes in{0x01};
  in.insert(in.end(), l.begin(), l.end());
  in.insert(in.end(), r.begin(), r.end());
  return sha(in);
}

// "Right-shift both fn and sn equally" while fn's lowest bit is `bit` (and fn is not 0).
inline void shift_while_lsb(std::uint64_t& fn, std::uint64_t& sn, std::uint64_t bit) {
  while ((fn & 1) == bit && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

// RFC 9162 §2.1.3.2.
inline bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_h, const std::vector<Hash>& path,
                      const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf_h;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = node(p, r);
      shift_while_lsb(fn, sn, 0);
    } else {
      r = node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

// RFC 9162 §2.1.4.2, for 0 < first < second.
inline bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_hash, const Hash& second_hash,
                        std::vector<Hash> path) {
  if (path.empty()) return false;
  if ((first & (first - 1)) == 0) path.insert(path.begin(), first_hash);
  std::uint64_t fn = first - 1, sn = second - 1;
  shift_while_lsb(fn, sn, 1);
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      shift_while_lsb(fn, sn, 0);
    } else {
      sr = node(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_hash && sr == second_hash && sn == 0;
}

// MTH(D[n]) of leaf data, by the definition (RFC 9162 §2.1.1), recursively.
inline Hash root_of(const std::vector<Bytes>& d, std::size_t start, std::size_t n) {
  if (n == 0) return sha({});
  if (n == 1) return leaf(d[start]);
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return node(root_of(d, start, k), root_of(d, start + k, n - k));
}

}  // namespace cairn::rfc9162
