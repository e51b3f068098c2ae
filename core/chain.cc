#include "core/chain.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "core/canary.h"
#include "core/le.h"

namespace cairn {

struct ChainHasher::Impl {
  const EVP_MD* md = nullptr;
  EVP_MD* fetched = nullptr;  // OpenSSL 3: fetched once (EVP_sha256() would look it up per digest)
  EVP_MD_CTX* ctx = nullptr;
};

ChainHasher::ChainHasher() : impl_(std::make_unique<Impl>()) {
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
}

ChainHasher::~ChainHasher() {
  EVP_MD_CTX_free(impl_->ctx);
#if OPENSSL_VERSION_MAJOR >= 3
  EVP_MD_free(impl_->fetched);
#endif
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
  ChainHash out{};
  unsigned int len = 0;
  EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr);
  EVP_DigestUpdate(impl_->ctx, prev.data(), prev.size());
  EVP_DigestUpdate(impl_->ctx, fields, sizeof(fields));
  EVP_DigestUpdate(impl_->ctx, payload.data(), payload.size());
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  return out;
}

ChainHash ChainHasher::sha256(ByteView data) { return sha256({data}); }

ChainHash ChainHasher::sha256(std::initializer_list<ByteView> parts) {
  ChainHash out{};
  unsigned int len = 0;
  EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr);
  for (ByteView p : parts) EVP_DigestUpdate(impl_->ctx, p.data(), p.size());
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  return out;
}

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
