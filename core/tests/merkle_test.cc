// The Merkle tree against Certificate Transparency's published vectors (the eight-leaf
// tree of RFC 6962's reference implementation) and against the verifiers of
// core/tests/rfc9162.h (RFC 9162 §2.1.3.2 and §2.1.4.2, on OpenSSL's one-shot
// EVP_Digest), never the prover's code; and the core's own verifiers against those.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <openssl/evp.h>

#include <functional>
#include <string>
#include <vector>

#include "core/merkle.h"
#include "core/tests/rfc9162.h"

namespace {

using cairn::Bytes;
using cairn::merkle::Hash;
using namespace cairn::rfc9162;

std::string hex(const Hash& h) { return cairn::hex(h); }

Bytes unhex(const std::string& s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  return out;
}

// The leaves and roots of Certificate Transparency's reference tests (RFC 6962 hashing).
const std::vector<std::string> kCtLeaves = {"",         "00",       "10",       "2021",
                                            "3031",     "40414243", "5051525354555657",
                                            "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> kCtRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

}  // namespace

TEST_CASE("roots and an audit path match Certificate Transparency's reference tree") {
  cairn::ChainHasher h;
  cairn::merkle::Tree t;
  REQUIRE(hex(*t.root(0)) == kCtRoots[0]);
  for (std::size_t i = 0; i < kCtLeaves.size(); ++i) {
    t.append(cairn::merkle::leaf_hash(h, unhex(kCtLeaves[i])));
    CHECK(hex(*t.root(i + 1)) == kCtRoots[i + 1]);
  }
  for (std::size_t n = 0; n <= 8; ++n) CHECK(hex(*t.root(n)) == kCtRoots[n]);  // older sizes too
  const auto path = *t.inclusion_proof(0, 8);
  REQUIRE(path.size() == 3);
  CHECK(hex(path[0]) == "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  CHECK(hex(path[1]) == "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e");
  CHECK(hex(path[2]) == "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
}

TEST_CASE("out-of-contract sizes are errors, never proofs") {
  cairn::ChainHasher h;
  cairn::merkle::Tree t;
  for (int i = 0; i < 5; ++i) t.append(cairn::merkle::leaf_hash(h, Bytes{static_cast<std::uint8_t>(i)}));
  CHECK(t.root(6).error().code == cairn::Errc::invalid_argument);
  CHECK(t.inclusion_proof(5, 5).error().code == cairn::Errc::invalid_argument);
  CHECK(t.inclusion_proof(0, 6).error().code == cairn::Errc::invalid_argument);
  CHECK(t.consistency_proof(0, 5).error().code == cairn::Errc::invalid_argument);
  CHECK(t.consistency_proof(4, 3).error().code == cairn::Errc::invalid_argument);
  CHECK(t.consistency_proof(5, 5)->empty());
}

TEST_CASE("every proof the tree gives verifies with the RFC's algorithms; altered ones do not") {
  rc::prop("inclusion and consistency proofs verify independently", [] {
    const auto leaves = *rc::gen::container<std::vector<Bytes>>(*rc::gen::inRange<std::size_t>(1, 200),
                                                                  rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>()));
    cairn::ChainHasher h;
    cairn::merkle::Tree t;
    for (const Bytes& d : leaves) t.append(cairn::merkle::leaf_hash(h, d));
    const std::uint64_t n = *rc::gen::inRange<std::uint64_t>(1, leaves.size() + 1);
    const std::uint64_t i = *rc::gen::inRange<std::uint64_t>(0, n);
    const std::uint64_t m = *rc::gen::inRange<std::uint64_t>(1, n + 1);
    const Hash root_n = *t.root(n);
    // The root is the RFC's recursion, computed here from the leaves.
    std::vector<Hash> level;
    for (std::uint64_t k = 0; k < n; ++k) level.push_back(leaf(leaves[k]));
    std::function<Hash(std::size_t, std::size_t)> mth = [&](std::size_t a, std::size_t len) -> Hash {
      if (len == 1) return level[a];
      std::size_t k = 1;
      while (k * 2 < len) k *= 2;
      return node(mth(a, k), mth(a + k, len - k));
    };
    RC_ASSERT(root_n == mth(0, static_cast<std::size_t>(n)));
    auto path = *t.inclusion_proof(i, n);
    RC_ASSERT(verify_inclusion(i, n, leaf(leaves[i]), path, root_n));
    const Bytes other{0xee, 0xee, 0xee};
    RC_ASSERT(!verify_inclusion(i, n, leaf(other), path, root_n) || leaves[i] == other);
    if (!path.empty()) {
      path[*rc::gen::inRange<std::size_t>(0, path.size())][0] ^= 0x01;
      RC_ASSERT(!verify_inclusion(i, n, leaf(leaves[i]), path, root_n));
    }
    if (m < n) {
      auto proof = *t.consistency_proof(m, n);
      const Hash root_m = *t.root(m);
      RC_ASSERT(verify_consistency(m, n, root_m, root_n, proof));
      proof[*rc::gen::inRange<std::size_t>(0, proof.size())][31] ^= 0x80;
      RC_ASSERT(!verify_consistency(m, n, root_m, root_n, proof));
    }
    // Cut back to m leaves (a spine ahead of its log): the older root is the new current one.
    const Hash before = *t.root(m);
    t.truncate(m);
    RC_ASSERT(t.size() == m);
    RC_ASSERT(*t.root(m) == before);
    t.append(cairn::merkle::leaf_hash(h, Bytes{1, 2, 3}));  // and it grows again correctly
    level.resize(static_cast<std::size_t>(m));
    level.push_back(leaf(Bytes{1, 2, 3}));
    RC_ASSERT(*t.root(m + 1) == mth(0, static_cast<std::size_t>(m + 1)));
  });
}

TEST_CASE("the core's verifiers accept what the RFC's accept and refuse altered proofs") {
  rc::prop("inclusion and consistency", [] {
    cairn::ChainHasher h;
    cairn::merkle::Tree t;
    const auto n = *rc::gen::inRange<std::uint64_t>(1, 70);
    std::vector<Bytes> leaves;
    for (std::uint64_t k = 0; k < n; ++k) {
      leaves.push_back(Bytes{static_cast<std::uint8_t>(k), static_cast<std::uint8_t>(k >> 8)});
      t.append(cairn::merkle::leaf_hash(h, leaves.back()));
    }
    const auto i = *rc::gen::inRange<std::uint64_t>(0, n);
    const auto m = *rc::gen::inRange<std::uint64_t>(1, n + 1);
    const Hash root_n = *t.root(n), root_m = *t.root(m);
    auto path = *t.inclusion_proof(i, n);
    RC_ASSERT(cairn::merkle::verify_inclusion(h, i, n, leaf(leaves[i]), path, root_n));
    auto proof = *t.consistency_proof(m, n);
    RC_ASSERT(m == n || verify_consistency(m, n, root_m, root_n, proof));
    RC_ASSERT(cairn::merkle::verify_consistency(h, m, n, root_m, root_n, proof));
    if (!path.empty()) {
      path[*rc::gen::inRange<std::size_t>(0, path.size())][0] ^= 1;
      RC_ASSERT(!cairn::merkle::verify_inclusion(h, i, n, leaf(leaves[i]), path, root_n));
    }
    if (m != n && i < m) {  // a proof against another tree's root fails
      RC_ASSERT(!cairn::merkle::verify_inclusion(h, i, n, leaf(leaves[i]), *t.inclusion_proof(i, n), root_m));
    }
    if (!proof.empty()) {
      proof.back()[31] ^= 0x80;
      RC_ASSERT(!cairn::merkle::verify_consistency(h, m, n, root_m, root_n, proof));
    }
  });
}
