#include "core/cli/records.h"

#include <string>

namespace cairn::cli {

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
