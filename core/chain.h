// The SHA-256 hash chain (FIPS 180-4 SHA-256 by OpenSSL; core/chain.cc says which calls):
//   h(n) = SHA-256(h(n-1) || offset u64 LE || kind u8 || timestamp_us u64 LE || payload)
// with h(-1) = 32 zero bytes. The chain runs across segments and checkpoints.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>

#include "core/types.h"

namespace cairn {

// Chain hashes computed ahead of the hasher that asks for them (core/chain_ahead.h).
class ChainMemo {
 public:
  virtual ~ChainMemo() = default;
  // The hash next() would compute for exactly these inputs, if computed ahead; else null.
  // May wait for the thread computing it.
  virtual const ChainHash* find(const ChainHash& prev, std::uint64_t offset, RecordKind kind,
                                std::uint64_t timestamp_us, ByteView payload) = 0;
};

// Computes chain hashes (with EVP: one context, reused). Not thread-safe; cheap to create.
class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  ChainHash next(const ChainHash& prev, std::uint64_t offset, RecordKind kind,
                 std::uint64_t timestamp_us, ByteView payload);
  // While set, next() returns the memo's hash when it has one for the same inputs (the
  // same value it would compute: SHA-256 is a function of the inputs alone). null: none.
  // REQUIRES: the memo outlives its use.
  void use_memo(ChainMemo* memo) { memo_ = memo; }
  // Plain SHA-256 of data (benchmarks use it as the bound for verified reads).
  ChainHash sha256(ByteView data);
  // SHA-256 of the concatenation of `parts`, in order (no copy is made).
  ChainHash sha256(std::initializer_list<ByteView> parts);

 private:
  ChainHash digest(std::initializer_list<ByteView> parts);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  ChainMemo* memo_ = nullptr;
};

}  // namespace cairn
