// Length-prefixed record streams (`cairn append --length-prefixed`): each record is a u32
// little-endian length, then that many bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "simfs/bytes.h"
#include "simfs/result.h"

namespace cairn::cli {

enum class PrefixedStatus : std::uint8_t {
  ok,         // a record was taken; pos moved past it
  need_more,  // buf ends inside the length or the record
  too_large,  // the length is above max_record_bytes (nothing is allocated for it)
};

// Takes the record at buf[pos], setting `record` to a view into buf.
PrefixedStatus next_length_prefixed(ByteView buf, std::size_t& pos, std::uint32_t max_record_bytes,
                                    ByteView& record);

// Appends one record as `append --length-prefixed` reads it: u32 LE length, then the
// bytes (`read --length-prefixed` writes this, so the two are exact inverses).
void put_length_prefixed(ByteView record, Bytes& out);

// How a payload appears in JSON: as text when it is valid UTF-8, else as base64 (RFC 4648
// §4) with encoding "base64", so that every payload round-trips byte for byte.
struct PayloadText {
  std::string encoding;  // "utf-8" or "base64"
  std::string text;
};
PayloadText payload_text(ByteView payload);

// Splits a whole buffer. Errors: invalid_argument (ends inside a record, naming the byte
// position), record_too_large (naming the record and its length).
Result<std::vector<Bytes>> split_length_prefixed(ByteView buf, std::uint32_t max_record_bytes);

}  // namespace cairn::cli
