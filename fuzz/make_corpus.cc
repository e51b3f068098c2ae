// Writes the seed corpora under corpus/<target>/ (run by hand; the outputs are committed):
//   cairn-make-corpus path/to/corpus
// Inputs are built with the real encoders, so they start the fuzzers on valid structures.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/codec.h"
#include "core/format.h"
#include "core/store.h"
#include "simfs/prng.h"
#include "simfs/sim_filesystem.h"

namespace {

using namespace cairn;

void put(const std::filesystem::path& dir, const std::string& name, ByteView bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  put(dir, name, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// A real segment file: a few batches written by the store on SimFileSystem.
Bytes real_segment(int records, std::uint64_t checkpoint_interval) {
  ManualClock clock(1'000'000);
  fs::SimFileSystem sim(fs::SimConfig{}, 1, &clock);
  Options o;
  o.checkpoint_interval = checkpoint_interval;
  o.index_interval_bytes = 64;
  auto store = Store::open(sim, clock, "/s", o).value();
  for (int i = 0; i < records; ++i) {
    clock.advance_us(10);
    (void)store->append(7, to_bytes("record " + std::to_string(i)));
  }
  (void)store->close();
  return *sim.durable_contents("/s/" + format::stream_dir_name(7) + "/" + format::segment_file_name(0));
}

// frame_decode: a data frame, an empty one, a checkpoint, a truncated frame and one
// compressed frame per codec.
void frame_corpus(const std::filesystem::path& dir) {
  format::FrameHeader h;
  h.offset = 5;
  h.timestamp_us = 1000;
  h.durable_offset = 4;
  h.kind = 1;
  h.flags = format::kFlagBatchEnd;
  Bytes frame;
  format::encode_frame(h, to_bytes("hello"), frame);
  put(dir, "data-frame", frame);
  Bytes empty;
  format::encode_frame(h, {}, empty);
  put(dir, "empty-frame", empty);
  h.kind = 2;
  Bytes cp;
  format::encode_frame(h, format::encode_checkpoint({{}, 5}), cp);
  put(dir, "checkpoint-frame", cp);
  put(dir, "truncated", ByteView(frame).first(40));
  h.kind = 1;
  const Bytes log_line = to_bytes("status installed libexample:amd64 1.2-1 status installed libexample:amd64 1.2-1 again");
  for (codec::Codec c : {codec::Codec::lz4, codec::Codec::zstd}) {
    Bytes stored, compressed;
    if (!codec::compress(c, log_line, stored)) continue;
    h.codec = static_cast<std::uint8_t>(c);
    format::encode_frame(h, stored, compressed);
    put(dir, std::string(codec::name(c)) + "-frame", compressed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cairn-make-corpus CORPUS_DIR\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  frame_corpus(root / "frame_decode");

  format::SegmentSummary sum;
  sum.stream_id = 7;
  sum.base_offset = 10;
  sum.segment_bytes = 4096;
  sum.next_offset = 40;
  sum.entries = {{10, 72, 5}, {20, 1000, 6}, {30, 2000, 7}};
  sum.checkpoints = {{20, 1000}};
  put(root / "index_load", "index", format::encode_index(sum));
  format::SegmentSummary none;
  none.segment_bytes = format::kSegmentHeaderBytes;
  put(root / "index_load", "empty-index", format::encode_index(none));

  Bytes header;
  format::encode_segment_header({7, 10, {}}, header);
  put(root / "metadata_load", "segment-header", header);
  put(root / "metadata_load", "segment-name", format::segment_file_name(42));
  put(root / "metadata_load", "stream-name", format::stream_dir_name(3));

  Bytes seg = real_segment(20, 4);
  put(root / "segment_recovery", "clean", seg);
  put(root / "segment_recovery", "torn-tail", ByteView(seg).first(seg.size() - 30));
  Bytes damaged = seg;
  damaged[damaged.size() / 2] ^= 0x10;
  put(root / "segment_recovery", "damaged-middle", damaged);
  Bytes zeros = seg;
  zeros.resize(zeros.size() + 300, 0);
  put(root / "segment_recovery", "zero-tail", zeros);

  for (const char* text : {"always", "manual", "every:16", "every:4096b", "7d", "500ms", "30",
                           "sync=every:3", "streams=4", "bit_flips=on"}) {
    put(root / "cli_parse", text, std::string(text));
  }
  put(root / "cli_parse", "length-prefixed", Bytes{3, 0, 0, 0, 'a', 'b', 'c', 1, 0, 0, 0, 'z'});

  Prng prng(2026);
  for (int i = 0; i < 8; ++i) {
    Bytes input(96);
    for (auto& b : input) b = static_cast<std::uint8_t>(prng.next_u64());
    put(root / "engine", "random-" + std::to_string(i), input);
  }
  std::printf("corpora written under %s\n", root.c_str());
  return 0;
}
