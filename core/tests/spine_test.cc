// The spine: proofs of a real store checked by the verifiers of core/tests/rfc9162.h
// (RFC 9162, their own SHA-256) over chain hashes this test computes itself from the
// records read back (FORMAT.md's chain rule), across segments, purges, reopens, and a
// spine file that is behind, ahead of, or missing from its log.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/format.h"
#include "core/spine.h"
#include "core/tests/rfc9162.h"
#include "core/tests/test_env.h"

namespace cairn::testing {
namespace {

using rfc9162::Hash;

void put_le64(Bytes& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// The chain hashes h(0..n) of every record of `stream`, as FORMAT.md defines them.
std::vector<Bytes> chain_of(Store& st, std::uint64_t stream) {
  std::vector<Bytes> leaves;
  Hash prev{};
  for (std::uint64_t at = st.stats(stream)->first_offset; at < st.stats(stream)->next_offset;) {
    auto recs = st.read(stream, at, 1 << 20);
    REQUIRE(recs.ok());
    for (const Record& r : *recs) {
      Bytes in(prev.begin(), prev.end());
      put_le64(in, r.offset);
      in.push_back(static_cast<std::uint8_t>(r.kind));
      put_le64(in, r.timestamp_us);
      in.insert(in.end(), r.payload.begin(), r.payload.end());
      prev = rfc9162::sha(in);
      leaves.emplace_back(prev.begin(), prev.end());
      at = r.offset + 1;
    }
  }
  return leaves;
}

// Roots of every size, a proof of every leaf in the largest tree and consistency proofs
// from every size to the largest, each checked against the leaves given.
void check_proofs(Store& st, std::uint64_t stream, const std::vector<Bytes>& leaves) {
  const std::uint64_t n = leaves.size();
  const Hash root_n = rfc9162::root_of(leaves, 0, n);
  for (std::uint64_t m = 0; m <= n; ++m) {
    auto r = st.merkle_root(stream, m);
    REQUIRE(r.ok());
    CHECK(*r == rfc9162::root_of(leaves, 0, m));
    if (m == 0) continue;
    auto c = st.prove_consistency(stream, m, n);
    REQUIRE(c.ok());
    if (m < n) CHECK(rfc9162::verify_consistency(m, n, *r, root_n, *c));
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    auto p = st.prove_inclusion(stream, i, n);
    REQUIRE(p.ok());
    CHECK(Bytes(p->leaf_data.begin(), p->leaf_data.end()) == leaves[i]);
    CHECK(rfc9162::verify_inclusion(i, n, rfc9162::leaf(leaves[i]), p->path, root_n));
  }
}

template <typename Env>
void fill(Env& env, Store& st, std::uint64_t records) {
  for (std::uint64_t i = 0; i < records; i += 3) {
    REQUIRE(st.append(7, {payload_for(7, i, 90), payload_for(7, i + 1, 90), payload_for(7, i + 2, 90)}).ok());
    env.clock.advance_us(10);
  }
}

bool has_action(const Store& st, const std::string& part) {
  const auto& a = st.recovery_report().actions;
  return std::any_of(a.begin(), a.end(), [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

}  // namespace

TEMPLATE_TEST_CASE("proofs verify independently across segments, purges and reopens", "[spine]", PosixEnv, SimEnv) {
  TestType env;
  auto st = open_store(env);
  fill(env, *st, 120);
  const std::vector<Bytes> leaves = chain_of(*st, 7);
  REQUIRE(st->stats(7)->segments > 3);
  check_proofs(*st, 7, leaves);
  REQUIRE(st->purge(7, PurgeOptions{.older_than_us = std::nullopt, .max_total_bytes = 5000}).ok());
  REQUIRE(st->stats(7)->first_offset > 20);
  check_proofs(*st, 7, leaves);  // purged records stay provable
  REQUIRE(st->close().ok());
  st = open_store(env);
  check_proofs(*st, 7, leaves);
  Options ro = small_options();
  ro.read_only = true;
  auto reader = open_store(env, ro);
  check_proofs(*reader, 7, leaves);
  // Out of contract: sizes above the stream, an offset outside the tree, old size 0.
  CHECK(st->merkle_root(7, leaves.size() + 1).error().code == Errc::invalid_argument);
  CHECK(st->prove_inclusion(7, 5, 5).error().code == Errc::invalid_argument);
  CHECK(st->prove_consistency(7, 0, 5).error().code == Errc::invalid_argument);
  CHECK(st->merkle_root(8, 0).error().code == Errc::not_found);
}

TEMPLATE_TEST_CASE("a spine behind its log is re-derived, one ahead or torn is cut back", "[spine]", PosixEnv,
                   SimEnv) {
  TestType env;
  auto st = open_store(env);
  fill(env, *st, 90);
  std::vector<Bytes> leaves = chain_of(*st, 7);
  REQUIRE(st->close().ok());
  const std::string path = env.dir + "/" + format::stream_dir_name(7) + "/" + spine::file_name();
  auto file = env.fs().open(path, {});
  REQUIRE(file.ok());
  SECTION("behind: leaves of sealed segments come back from the segments, before any purge") {
    REQUIRE((*file)->truncate(spine::entry_pos(3)).ok());
    st = open_store(env);
    CHECK(has_action(*st, "re-derived spine leaves from 3"));
    REQUIRE(st->purge(7, PurgeOptions{.older_than_us = std::nullopt, .max_total_bytes = 5000}).ok());
    check_proofs(*st, 7, leaves);
  }
  SECTION("ahead, and a torn entry: cut back, and new records get their own leaves") {
    Bytes extra(spine::kEntryBytes * 4 + 20, 0x5a);
    for (std::uint64_t k = 0; k < 4; ++k) {
      spine::encode_entry(leaves.size() + k, ChainHash{0x77}, extra.data() + k * spine::kEntryBytes);
    }
    REQUIRE(fs::write_all(**file, spine::entry_pos(leaves.size()), extra).ok());
    st = open_store(env);
    CHECK(has_action(*st, "cut the spine back from " + std::to_string(leaves.size() + 4)));
    fill(env, *st, 12);
    check_proofs(*st, 7, chain_of(*st, 7));
  }
  SECTION("lost after a purge: larger trees are unprovable, never wrong") {
    st = open_store(env);
    REQUIRE(st->purge(7, PurgeOptions{.older_than_us = std::nullopt, .max_total_bytes = 5000}).ok());
    REQUIRE(st->close().ok());
    REQUIRE(env.fs().unlink(path).ok());
    st = open_store(env);
    auto r = st->merkle_root(7, leaves.size());
    REQUIRE(!r.ok());
    CHECK(r.error().code == Errc::corruption);
    CHECK(r.error().message.find("leaf 0") != std::string::npos);
    CHECK(st->merkle_root(7, 0).ok());
  }
}

TEMPLATE_TEST_CASE("offsets repair removed before their leaves were kept get the lost-leaf marker", "[spine]",
                   PosixEnv, SimEnv) {
  TestType env;
  auto st = open_store(env);
  fill(env, *st, 90);
  std::vector<Bytes> leaves = chain_of(*st, 7);
  REQUIRE(st->close().ok());
  const std::string sdir = env.dir + "/" + format::stream_dir_name(7);
  REQUIRE(env.fs().unlink(sdir + "/" + spine::file_name()).ok());
  {  // a flipped payload byte in the first segment, at rest
    auto seg = env.fs().open(sdir + "/" + format::segment_file_name(0), {});
    REQUIRE(seg.ok());
    std::uint8_t b[1];
    REQUIRE((*seg)->pread(1000, b).ok());
    b[0] ^= 0x40;
    REQUIRE(fs::write_all(**seg, 1000, b).ok());
  }
  Options full = small_options();
  full.full_scan_on_open = true;
  st = open_store(env, full);
  CHECK(has_action(*st, "the spine's leaves stop at"));
  REQUIRE(!st->recovery_report().damage.empty());
  const std::uint64_t damaged = st->recovery_report().damage[0].offset;
  auto rep = st->repair(7);
  REQUIRE(rep.ok());
  REQUIRE(!rep->lost_offsets.empty());
  // The leaves before the damaged record were derived and kept at that open; a removed
  // offset from the damaged record on never reached the spine: the lost-leaf marker.
  for (const auto& [a, b] : rep->lost_offsets) {
    REQUIRE(a <= damaged);
    for (std::uint64_t o = damaged; o < b && o < leaves.size(); ++o) leaves[o] = Bytes(32, 0);
  }
  check_proofs(*st, 7, leaves);
  REQUIRE(st->close().ok());
  st = open_store(env);
  check_proofs(*st, 7, leaves);
}


TEMPLATE_TEST_CASE("a torn entry among the unsynced ones is cut there; verify names damage below the last seal",
                   "[spine]", PosixEnv, SimEnv) {
  TestType env;
  auto st = open_store(env);
  fill(env, *st, 90);
  const std::vector<Bytes> leaves = chain_of(*st, 7);
  REQUIRE(st->stats(7)->segments > 3);  // offsets 2 and 4 lie in the first, sealed, segment
  REQUIRE(st->close().ok());
  const std::string path = env.dir + "/" + format::stream_dir_name(7) + "/" + spine::file_name();
  auto file = env.fs().open(path, {});
  REQUIRE(file.ok());
  std::uint8_t junk[4] = {0xde, 0xad, 0xbe, 0xef};
  SECTION("a torn entry in the middle of the active segment's: cut there, re-derived, proofs hold") {
    const std::uint64_t bad = leaves.size() - 2;  // the active segment's, with a good entry after it
    REQUIRE(fs::write_all(**file, spine::entry_pos(bad) + 3, ByteView(junk, 4)).ok());
    st = open_store(env);
    check_proofs(*st, 7, leaves);
    auto v = st->verify();
    REQUIRE(v.ok());
    CHECK(v->clean());
  }
  SECTION("damage at rest below the last seal: verify reports the entry, proofs over it fail") {
    REQUIRE(fs::write_all(**file, spine::entry_pos(2) + 3, ByteView(junk, 4)).ok());
    st = open_store(env);
    auto v = st->verify();
    REQUIRE(v.ok());
    REQUIRE(v->findings.size() == 1);
    const Finding& f = v->findings.front();
    CHECK(f.kind == FindingKind::spine);
    CHECK(f.offset == 2);
    CHECK(f.byte_pos == spine::entry_pos(2));
    CHECK(f.what.find("fails its CRC32C") != std::string::npos);
    CHECK(st->merkle_root(7, leaves.size()).error().code == Errc::corruption);
  }
  SECTION("an entry rewritten with a valid CRC but another leaf: verify says it differs") {
    Bytes entry(spine::kEntryBytes);
    spine::encode_entry(4, ChainHash{0x42}, entry.data());
    REQUIRE(fs::write_all(**file, spine::entry_pos(4), entry).ok());
    st = open_store(env);
    auto v = st->verify();
    REQUIRE(v.ok());
    REQUIRE(v->findings.size() == 1);
    CHECK(v->findings.front().kind == FindingKind::spine);
    CHECK(v->findings.front().offset == 4);
    CHECK(v->findings.front().what.find("differs from the record's chain hash") != std::string::npos);
  }
}

}  // namespace cairn::testing
