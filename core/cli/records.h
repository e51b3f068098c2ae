// Length-prefixed record streams (`cairn append --length-prefixed`): each record is a u32
// little-endian length, then that many bytes.
#pragma once

#include <cstddef>
#include <cstdint>
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

// Splits a whole buffer. Errors: invalid_argument (ends inside a record, naming the byte
// position), record_too_large (naming the record and its length).
Result<std::vector<Bytes>> split_length_prefixed(ByteView buf, std::uint32_t max_record_bytes);

}  // namespace cairn::cli
