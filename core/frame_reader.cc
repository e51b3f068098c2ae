#include "core/frame_reader.h"

#include <algorithm>

#include "core/codec.h"

namespace cairn {

FrameReader::FrameReader(fs::File& file, std::uint64_t file_size, std::uint32_t max_record_bytes,
                         std::size_t window_bytes, ReadBuffers* buffers)
    : file_(&file),
      file_size_(file_size),
      max_record_bytes_(max_record_bytes),
      window_bytes_(window_bytes),
      buf_(buffers != nullptr ? *buffers : own_),
      number_(++buf_.readers) {}

FrameReader::FrameReader(ByteView mapped, std::uint32_t max_record_bytes, ReadBuffers* buffers)
    : mapped_(mapped),
      file_size_(mapped.size()),
      max_record_bytes_(max_record_bytes),
      buf_(buffers != nullptr ? *buffers : own_),
      number_(++buf_.readers) {}

Status FrameReader::fill(std::uint64_t byte_pos, std::size_t min_len) {
  std::uint64_t left = byte_pos < file_size_ ? file_size_ - byte_pos : 0;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(window_bytes_, min_len), left));
  if (want > buf_.window_capacity) {  // never zero-filled: read_full writes what is used
    // new T[n] default-initializes (as make_unique_for_overwrite would; libc++ 14 lacks it).
    buf_.window.reset(new std::uint8_t[want]);
    buf_.window_capacity = want;
  }
  window_len_ = 0;
  buf_.window_holder = number_;
  CAIRN_ASSIGN_OR_RETURN(std::size_t n,
                         fs::read_full(*file_, byte_pos, std::span<std::uint8_t>(buf_.window.get(), want)));
  window_len_ = n;
  window_pos_ = byte_pos;
  return {};
}

Result<ByteView> FrameReader::bytes(std::uint64_t byte_pos, std::size_t len) {
  std::uint64_t end = std::min<std::uint64_t>(byte_pos + len, file_size_);
  if (byte_pos >= end) return ByteView{};
  if (file_ == nullptr) return mapped_.subspan(static_cast<std::size_t>(byte_pos), static_cast<std::size_t>(end - byte_pos));
  bool inside = buf_.window_holder == number_ && byte_pos >= window_pos_ && end <= window_pos_ + window_len_;
  if (!inside) CAIRN_TRY(fill(byte_pos, static_cast<std::size_t>(end - byte_pos)));
  std::size_t from = static_cast<std::size_t>(byte_pos - window_pos_);
  std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(end - byte_pos), window_len_ - from);
  return ByteView(buf_.window.get() + from, n);
}

Result<format::FrameDecode> FrameReader::at(std::uint64_t byte_pos) {
  CAIRN_ASSIGN_OR_RETURN(ByteView head, bytes(byte_pos, format::kFrameHeaderBytes));
  format::FrameDecode d = format::decode_frame(head, max_record_bytes_);
  if (d.status != format::FrameStatus::truncated || head.size() < format::kFrameHeaderBytes) {
    return d;
  }
  // The header is complete: fetch the whole frame (bounded by max_record_bytes).
  CAIRN_ASSIGN_OR_RETURN(ByteView whole, bytes(byte_pos, d.frame_bytes));
  d = format::decode_frame(whole, max_record_bytes_);
  if (d.status == format::FrameStatus::ok && d.header.codec != 0) {
    Bytes& out = buf_.inflated;
    if (codec::inflate(static_cast<codec::Codec>(d.header.codec), d.payload, max_record_bytes_, out)) {
      d.payload = ByteView(out.data(), out.size());
    } else {
      d.status = format::FrameStatus::bad_payload;
    }
  }
  return d;
}

}  // namespace cairn
