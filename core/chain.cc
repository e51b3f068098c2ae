#include "core/chain.h"

#include <cstdio>
#include <cstdlib>

// The low-level SHA-256 calls, deprecated since OpenSSL 3.0 (see digest()).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#if defined(OPENSSL_NO_DEPRECATED_3_0)
#define CAIRN_LOW_LEVEL_SHA256 0
#else
#define CAIRN_LOW_LEVEL_SHA256 1
#endif

#include "core/canary.h"
#include "core/le.h"

namespace cairn {

struct ChainHasher::Impl {
  const EVP_MD* md = nullptr;
  EVP_MD* fetched = nullptr;  // OpenSSL 3: fetched once (EVP_sha256() would look it up per digest)
  EVP_MD_CTX* ctx = nullptr;
};

ChainHasher::ChainHasher() : impl_(std::make_unique<Impl>()) {
#if !CAIRN_LOW_LEVEL_SHA256  // EVP only: the low-level calls need no context (the destructor frees null ones)
#if OPENSSL_VERSION_MAJOR >= 3
  impl_->fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->md = impl_->fetched;
#else
  impl_->md = EVP_sha256();  // OpenSSL 1.1.1 (the OSS-Fuzz base image)
#endif
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->md == nullptr || impl_->ctx == nullptr) {
    // Without SHA-256 nothing can be verified; this is an installation fault, not data.
    std::fprintf(stderr, "cairn: OpenSSL cannot provide SHA-256\n");
    std::abort();
  }
#endif
}

ChainHasher::~ChainHasher() {
  EVP_MD_CTX_free(impl_->ctx);
#if OPENSSL_VERSION_MAJOR >= 3
  EVP_MD_free(impl_->fetched);
#endif
}

// SHA-256 of the concatenation of `parts`. OpenSSL's SHA256_Init/Update/Final when the
// build has them (deprecated since OpenSSL 3.0, not removed): measured at 219 ns against
// EVP's 285 ns for a 256-byte record's five blocks on this project's host (AMD EPYC with
// SHA extensions, OpenSSL 3.0), EVP's difference being its per-call provider dispatch.
// EVP otherwise (a build with the deprecated API compiled out).
ChainHash ChainHasher::digest(std::initializer_list<ByteView> parts) {
  ChainHash out{};
#if CAIRN_LOW_LEVEL_SHA256
  SHA256_CTX c;
  SHA256_Init(&c);
  for (ByteView p : parts) SHA256_Update(&c, p.data(), p.size());
  SHA256_Final(out.data(), &c);
#else
  unsigned int len = 0;
  EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr);
  for (ByteView p : parts) EVP_DigestUpdate(impl_->ctx, p.data(), p.size());
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
#endif
  return out;
}

ChainHash ChainHasher::next(const ChainHash& prev, std::uint64_t offset, RecordKind kind,
                            std::uint64_t timestamp_us, ByteView payload) {
  if (memo_ != nullptr) {
    if (const ChainHash* ahead = memo_->find(prev, offset, kind, timestamp_us, payload)) return *ahead;
  }
  std::uint8_t fields[8 + 1 + 8];
  le::put<std::uint64_t>(fields, offset);
  fields[8] = static_cast<std::uint8_t>(kind);
  le::put<std::uint64_t>(fields + 9, canary_on(Canary::chain_skips_timestamp) ? 0 : timestamp_us);
  return digest({ByteView(prev), ByteView(fields, sizeof(fields)), payload});
}

ChainHash ChainHasher::sha256(ByteView data) { return sha256({data}); }

ChainHash ChainHasher::sha256(std::initializer_list<ByteView> parts) { return digest(parts); }

std::string hex(const ChainHash& h) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : h) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace cairn
