// The SHA-256 hash chain (OpenSSL 3 EVP, FIPS 180-4 SHA-256):
//   h(n) = SHA-256(h(n-1) || offset u64 LE || kind u8 || timestamp_us u64 LE || payload)
// with h(-1) = 32 zero bytes. The chain runs across segments and checkpoints.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>

#include "core/types.h"

namespace cairn {

// Computes chain hashes, reusing one EVP context. Not thread-safe; cheap to create.
class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  ChainHash next(const ChainHash& prev, std::uint64_t offset, RecordKind kind,
                 std::uint64_t timestamp_us, ByteView payload);
  // Plain SHA-256 of data (benchmarks use it as the bound for verified reads).
  ChainHash sha256(ByteView data);
  // SHA-256 of the concatenation of `parts`, in order (no copy is made).
  ChainHash sha256(std::initializer_list<ByteView> parts);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
