// The oracle's check of the spine: Merkle roots, inclusion and consistency proofs of a
// stream, judged against the tree the oracle builds itself (sim/proof_rules: RFC 9162,
// its own SHA-256) from the chain hashes it computed for the records it read back.
#include <algorithm>

#include <fmt/format.h>

#include "properties/properties.h"
#include "sim/oracle.h"
#include "sim/proof_rules.h"

namespace cairn::sim {
namespace {

// A step of SplitMix64: the proof sizes and offsets to try, from a counter.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

// Whether a proof of `stream` may fail: a read fault or a power loss during the call, or
// damage ever done to durable bytes of a file of the stream (a bit flip or tampering, a
// misdirected write, a read error): a leaf derived from a damaged record cannot be known.
// The FaultMap forgets the records retention removed, so the log is read whole. Faults
// of a crash (lost, torn, reverted) and failed syncs excuse nothing: they touch only
// bytes not yet durable, and a leaf must be durable before its record can be purged. A
// proof that verifies is required either way; a wrong one is never allowed.
bool Oracle::proof_error_allowed(std::uint64_t id, const Error& e, std::size_t faults_before) const {
  if (e.code != Errc::corruption && e.code != Errc::io_error) return false;
  if (sim_.fault_log().size() > faults_before || sim_.powered_off()) return true;
  const std::string dir = "/" + rules::stream_dir(id) + "/";
  return std::any_of(sim_.fault_log().begin(), sim_.fault_log().end(), [&](const fs::FaultRecord& f) {
    const bool durable_damage = f.family == fs::FaultFamily::bit_flip || f.family == fs::FaultFamily::misdirected_write ||
                                f.family == fs::FaultFamily::read_error;
    return durable_damage && f.path.find(dir) != std::string::npos;
  });
}

std::string Oracle::check_proofs(Store& store, const char* when) {
  absorb();
  for (auto& entry : streams_) {
    const std::uint64_t id = entry.first;  // not a structured binding: lambdas capture it (clang 14)
    OracleStream& s = entry.second;
    std::uint64_t known = s.chain.size();
    // A record changed so that nothing links it any more (undetectable_tamper) has its leaf
    // derived from the changed bytes unless its spine entry was durable before the change
    // (seed 36510): trees that cover it cannot be judged.
    for (std::uint64_t o : faults_.touched_offsets(id)) {
      if (o < known && undetectable_tamper(id, s, o)) known = o;
    }
    auto st = store.stats(id);
    if (known == 0 || !st.ok() || st->next_offset < known || sim_.powered_off()) continue;
    // The oracle's tree of its chain: leaf hashes recomputed from the first chain hash
    // that changed since the last check (a recovery may have re-read the tail).
    std::size_t same = std::min<std::size_t>(s.leaf_data.size(), known);
    for (std::size_t o = 0; o < same; ++o) {
      if (s.leaf_data[o] != s.chain[o]) same = o;
    }
    s.leaf_data.resize(same);
    s.tree.truncate(same);
    for (std::size_t o = same; o < known; ++o) {
      s.leaf_data.push_back(s.chain[o]);
      s.tree.append(chain_, rules::leaf_hash(chain_, s.chain[o]));
    }
    const std::uint64_t r = mix(++proof_checks_);
    const std::uint64_t n = 1 + r % known, i = (r >> 20) % n, m = 1 + (r >> 40) % n;
    const rules::Hash root_n = s.tree.root(chain_, n);
    std::size_t faults_before = sim_.fault_log().size();
    auto fail = [&](const std::string& what) -> std::string {
      return fmt::format("stream {} {}: {} (tree of {} leaves)", id, when, what, n);
    };
    auto root = store.merkle_root(id, n);
    if (!root.ok()) {
      if (proof_error_allowed(id, root.error(), faults_before)) continue;
      return fail("merkle_root failed: " + root.error().to_string());
    }
    if (*root != root_n) return fail("the Merkle root differs from the oracle's");
    faults_before = sim_.fault_log().size();
    auto p = store.prove_inclusion(id, i, n);
    if (!p.ok()) {
      if (proof_error_allowed(id, p.error(), faults_before)) continue;
      return fail(fmt::format("prove_inclusion({}) failed: {}", i, p.error().to_string()));
    }
    if (p->leaf_data != s.chain[i] || !rules::inclusion_holds(chain_, i, n, rules::leaf_hash(chain_, s.chain[i]), p->path, root_n)) {
      return fail(fmt::format("the inclusion proof of leaf {} does not verify", i));
    }
    if (m < n) {
      faults_before = sim_.fault_log().size();
      auto c = store.prove_consistency(id, m, n);
      if (!c.ok()) {
        if (proof_error_allowed(id, c.error(), faults_before)) continue;
        return fail(fmt::format("prove_consistency({}) failed: {}", m, c.error().to_string()));
      }
      if (!rules::consistency_holds(chain_, m, n, s.tree.root(chain_, m), root_n, *c)) {
        return fail(fmt::format("the consistency proof from {} leaves does not verify", m));
      }
    }
    if (sim_.powered_off()) return {};  // the power failed during the checks: the world restarts
    SOMETIMES(true, "sim: Merkle proofs verified by the oracle");
    SOMETIMES(i < s.first, "sim: an inclusion proof of a record retention removed verified");
  }
  return {};
}

}  // namespace cairn::sim
