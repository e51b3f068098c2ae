// cairn root / prove / check-proof: the Merkle tree of a stream's records (RFC 9162 §2.1)
// on the command line. root and prove open the store read-only; check-proof needs no
// store: it checks a proof document against the roots in it, or against --root.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/chain.h"
#include "core/cli/commands.h"
#include "core/merkle.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

std::optional<ChainHash> unhex(const std::string& s) {
  if (s.size() != 64) return std::nullopt;
  ChainHash h{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    if (std::sscanf(s.c_str() + 2 * i, "%2x", &v) != 1) return std::nullopt;
    h[i] = static_cast<std::uint8_t>(v);
  }
  return h;
}

json hex_list(const std::vector<ChainHash>& hs) {
  json out = json::array();
  for (const ChainHash& h : hs) out.push_back(hex(h));
  return out;
}

// The tree size asked for, or the stream's next offset.
Result<std::uint64_t> tree_size(Store& st, const Args& a) {
  if (a.size_given) return a.size;
  CAIRN_ASSIGN_OR_RETURN(StreamStats s, st.stats(a.stream));
  return s.next_offset;
}

// A proof document's fields, or a message saying what is missing.
struct Doc {
  std::string type;
  std::uint64_t size = 0, offset = 0, old_size = 0;
  ChainHash leaf_data{}, root{}, old_root{};
  std::vector<ChainHash> hashes;
};

std::string parse_doc(const json& j, Doc& d) {
  try {
    d.type = j.at("type").get<std::string>();
    d.size = j.at("tree_size").get<std::uint64_t>();
    auto hash = [&](const char* key, ChainHash& out) {
      auto h = unhex(j.at(key).get<std::string>());
      if (!h) throw std::invalid_argument(fmt::format("\"{}\" is not 64 hex digits", key));
      out = *h;
    };
    hash("root", d.root);
    const bool inclusion = d.type == "inclusion";
    if (!inclusion && d.type != "consistency") return "\"type\" must be inclusion or consistency";
    if (inclusion) {
      d.offset = j.at("offset").get<std::uint64_t>();
      hash("leaf_data", d.leaf_data);
    } else {
      d.old_size = j.at("old_size").get<std::uint64_t>();
      hash("old_root", d.old_root);
    }
    for (const json& h : j.at(inclusion ? "path" : "proof")) {
      auto v = unhex(h.get<std::string>());
      if (!v) return "a proof hash is not 64 hex digits";
      d.hashes.push_back(*v);
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace

int cmd_root(fs::FileSystem& fs, Clock& clock, const Args& a) {
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  auto n = tree_size(**opened, a);
  if (!n.ok()) return fail(n.error());
  auto root = (*opened)->merkle_root(a.stream, *n);
  if (!root.ok()) return fail(root.error());
  std::printf("%s\n", json{{"stream", a.stream}, {"tree_size", *n}, {"root", hex(*root)}}.dump().c_str());
  return 0;
}

int cmd_prove(fs::FileSystem& fs, Clock& clock, const Args& a) {
  if (a.offset_given == a.old_size_given) return usage("prove needs exactly one of --offset and --old-size");
  auto opened = open_store(fs, clock, a, false);
  if (!opened.ok()) return fail(opened.error());
  Store& st = **opened;
  auto n = tree_size(st, a);
  if (!n.ok()) return fail(n.error());
  auto root = st.merkle_root(a.stream, *n);
  if (!root.ok()) return fail(root.error());
  json out{{"stream", a.stream}, {"tree_size", *n}, {"root", hex(*root)}};
  if (a.offset_given) {
    auto p = st.prove_inclusion(a.stream, a.offset, *n);
    if (!p.ok()) return fail(p.error());
    out["type"] = "inclusion";
    out["offset"] = a.offset;
    out["leaf_data"] = hex(p->leaf_data);
    out["path"] = hex_list(p->path);
  } else {
    auto old_root = st.merkle_root(a.stream, a.old_size);
    if (!old_root.ok()) return fail(old_root.error());
    auto p = st.prove_consistency(a.stream, a.old_size, *n);
    if (!p.ok()) return fail(p.error());
    out["type"] = "consistency";
    out["old_size"] = a.old_size;
    out["old_root"] = hex(*old_root);
    out["proof"] = hex_list(*p);
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int cmd_check_proof(const Args& a) {
  std::stringstream text;
  if (a.proof_file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(a.proof_file);
    if (!in) return fail(make_error(Errc::not_found, fmt::format("cannot read {}", a.proof_file)));
    text << in.rdbuf();
  }
  Doc d;
  const json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  std::string bad = j.is_discarded() ? "not JSON" : parse_doc(j, d);
  if (!bad.empty()) return fail(make_error(Errc::invalid_argument, "malformed proof: " + bad));
  if (!a.trusted_root.empty()) {
    auto trusted = unhex(a.trusted_root);
    if (!trusted) return usage("--root must be 64 hex digits");
    if (*trusted != d.root) {
      std::printf("does not verify: the proof is for root %s, not the trusted root\n", hex(d.root).c_str());
      return 1;
    }
  }
  ChainHasher h;
  const bool ok = d.type == "inclusion"
                      ? merkle::verify_inclusion(h, d.offset, d.size, merkle::leaf_hash(h, d.leaf_data), d.hashes, d.root)
                      : merkle::verify_consistency(h, d.old_size, d.size, d.old_root, d.root, d.hashes);
  if (!ok) {
    std::printf("does not verify: %s proof of tree size %llu\n", d.type.c_str(), static_cast<unsigned long long>(d.size));
    return 1;
  }
  if (d.type == "inclusion") {
    std::printf("verified: leaf %llu (record hash %s) is in the tree of %llu leaves with root %s\n",
                static_cast<unsigned long long>(d.offset), hex(d.leaf_data).c_str(),
                static_cast<unsigned long long>(d.size), hex(d.root).c_str());
  } else {
    std::printf("verified: the tree of %llu leaves (root %s) is a prefix of the tree of %llu leaves (root %s)\n",
                static_cast<unsigned long long>(d.old_size), hex(d.old_root).c_str(),
                static_cast<unsigned long long>(d.size), hex(d.root).c_str());
  }
  return 0;
}

}  // namespace cairn::cli
