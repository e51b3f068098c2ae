// The spine file's header and entries (see spine.h).
#include "core/spine.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/crc32c.h"
#include "core/le.h"

namespace cairn::spine {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'S', 'P', 'N'};
constexpr std::size_t kCrcAt = 28;

std::uint32_t entry_crc(std::uint64_t offset, const std::uint8_t* leaf) {
  std::uint8_t off[8];
  le::put<std::uint64_t>(off, offset);
  return crc32c(ByteView(leaf, 32), crc32c(ByteView(off, 8)));
}

}  // namespace

const char* file_name() { return "spine"; }

Bytes encode_header(std::uint64_t stream) {
  Bytes h(kHeaderBytes, 0);
  std::memcpy(h.data(), kMagic, sizeof(kMagic));
  le::put<std::uint32_t>(h.data() + 8, kVersion);
  le::put<std::uint32_t>(h.data() + 12, static_cast<std::uint32_t>(kEntryBytes));
  le::put<std::uint64_t>(h.data() + 16, stream);
  le::put<std::uint32_t>(h.data() + kCrcAt, crc32c(ByteView(h.data(), kCrcAt)));
  return h;
}

Status check_header(ByteView header, std::uint64_t stream, const std::string& file) {
  auto bad = [&](Errc code, const std::string& why) {
    return make_error(code, fmt::format("{}: spine header: {}", file, why));
  };
  if (header.size() < kHeaderBytes) return bad(Errc::corruption, fmt::format("{} bytes, need {}", header.size(), kHeaderBytes));
  if (!std::equal(kMagic, kMagic + sizeof(kMagic), header.begin())) return bad(Errc::corruption, "bad magic");
  if (le::get<std::uint32_t>(header.data() + kCrcAt) != crc32c(header.subspan(0, kCrcAt))) {
    return bad(Errc::corruption, "CRC32C mismatch");
  }
  const auto version = le::get<std::uint32_t>(header.data() + 8);
  const auto entry = le::get<std::uint32_t>(header.data() + 12);
  if (version != kVersion || entry != kEntryBytes) {
    return bad(Errc::unsupported_format, fmt::format("version {} with {}-byte entries (this build reads version {}, {} bytes)",
                                                     version, entry, kVersion, kEntryBytes));
  }
  const auto id = le::get<std::uint64_t>(header.data() + 16);
  if (id != stream) return bad(Errc::corruption, fmt::format("belongs to stream {}, found in stream {}", id, stream));
  return {};
}

void encode_entry(std::uint64_t offset, const ChainHash& leaf, std::uint8_t* out) {
  std::memcpy(out, leaf.data(), leaf.size());
  le::put<std::uint32_t>(out + 32, entry_crc(offset, leaf.data()));
}

std::optional<ChainHash> decode_entry(std::uint64_t offset, const std::uint8_t* in) {
  if (le::get<std::uint32_t>(in + 32) != entry_crc(offset, in)) return std::nullopt;
  ChainHash leaf;
  std::memcpy(leaf.data(), in, leaf.size());
  return leaf;
}

}  // namespace cairn::spine
