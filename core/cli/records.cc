#include "core/cli/records.h"

#include <string>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace cairn::cli {

void put_length_prefixed(ByteView record, Bytes& out) {
  const auto len = static_cast<std::uint32_t>(record.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(len >> (8 * i)));
  out.insert(out.end(), record.begin(), record.end());
}

PayloadText payload_text(ByteView payload) {
  std::string text(payload.begin(), payload.end());
  try {
    (void)nlohmann::json(text).dump();  // the library's own UTF-8 check: throws on invalid input
    return PayloadText{"utf-8", std::move(text)};
  } catch (const nlohmann::json::type_error&) {
    std::string b64(4 * ((payload.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), payload.data(),
                                  static_cast<int>(payload.size()));
    b64.resize(static_cast<std::size_t>(n));
    return PayloadText{"base64", std::move(b64)};
  }
}

PrefixedStatus next_length_prefixed(ByteView buf, std::size_t& pos, std::uint32_t max_record_bytes,
                                    ByteView& record) {
  if (buf.size() - pos < 4) return PrefixedStatus::need_more;
  const std::uint32_t len = static_cast<std::uint32_t>(buf[pos]) | (static_cast<std::uint32_t>(buf[pos + 1]) << 8) |
                            (static_cast<std::uint32_t>(buf[pos + 2]) << 16) |
                            (static_cast<std::uint32_t>(buf[pos + 3]) << 24);
  if (len > max_record_bytes) return PrefixedStatus::too_large;
  if (buf.size() - pos - 4 < len) return PrefixedStatus::need_more;
  record = buf.subspan(pos + 4, len);
  pos += 4 + len;
  return PrefixedStatus::ok;
}

Result<std::vector<Bytes>> split_length_prefixed(ByteView buf, std::uint32_t max_record_bytes) {
  std::vector<Bytes> out;
  std::size_t pos = 0;
  while (pos < buf.size()) {
    ByteView record;
    switch (next_length_prefixed(buf, pos, max_record_bytes, record)) {
      case PrefixedStatus::ok: out.emplace_back(record.begin(), record.end()); break;
      case PrefixedStatus::need_more:
        return make_error(Errc::invalid_argument,
                          "input ends inside the record that starts at byte " + std::to_string(pos));
      case PrefixedStatus::too_large:
        return make_error(Errc::record_too_large,
                          "record " + std::to_string(out.size()) + " at byte " + std::to_string(pos) +
                              " is longer than " + std::to_string(max_record_bytes) + " bytes");
    }
  }
  return out;
}

}  // namespace cairn::cli
